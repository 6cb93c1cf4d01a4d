// Package connserve is the connection lifecycle both protocol engines
// (imapserver, pop3server) share: accepting with backoff, tracking the
// connections being served, and stopping gracefully. What a connection
// says on the way out is the protocol's business (BYE, -ERR); the Group
// only tells it when (Conn.Interrupt) and, past the deadline, closes it.
package connserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Serve after Shutdown.
var ErrClosed = errors.New("server closed")

// Conn is a connection the Group tracks.
type Conn interface {
	// Interrupt is called by Shutdown: a connection waiting for input is
	// woken to say goodbye; one running a command does so when it ends.
	Interrupt()
	// ForceClose ends a connection whose command did not finish before
	// Shutdown's deadline.
	ForceClose()
}

// Group serves and tracks the connections of one server.
type Group struct {
	name   string // the engine's package name, for logs and errors
	log    *slog.Logger
	nextID atomic.Uint64

	// closing is set once by Shutdown, before it walks conns; a
	// connection checks it before waiting for a command.
	closing atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{} // guarded by mu
	conns     map[Conn]struct{}         // guarded by mu
	wg        sync.WaitGroup            // one per running connection
}

// New returns a Group; name prefixes its log lines and errors.
func New(name string, log *slog.Logger) *Group {
	return &Group{name: name, log: log, listeners: map[net.Listener]struct{}{}, conns: map[Conn]struct{}{}}
}

// Closing reports whether Shutdown has begun.
func (g *Group) Closing() bool { return g.closing.Load() }

// NewID returns a short identifier for a new connection, for logs.
func (g *Group) NewID() string { return strconv.FormatUint(g.nextID.Add(1), 36) }

// Serve accepts connections on l and runs handle for each in its own
// goroutine until l fails or Shutdown is called; then it returns
// ErrClosed. Temporary accept errors (out of file descriptors) are
// retried with a backoff, as net/http does, instead of spinning.
func (g *Group) Serve(l net.Listener, handle func(net.Conn)) error {
	g.mu.Lock()
	if g.closing.Load() {
		g.mu.Unlock()
		return ErrClosed
	}
	g.listeners[l] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.listeners, l)
		g.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if g.closing.Load() {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				g.log.Warn(g.name+": accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("%s: accept: %w", g.name, err)
		}
		backoff = 0
		go handle(c)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// Len reports how many connections are being served.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Track runs serve for c, counted among the Group's connections until it
// returns. After Shutdown has begun it closes raw instead and returns.
func (g *Group) Track(c Conn, raw net.Conn, serve func()) {
	g.mu.Lock()
	if g.closing.Load() {
		g.mu.Unlock()
		raw.Close()
		return
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
		g.wg.Done()
	}()
	serve()
}

// Shutdown stops gracefully: it closes the listeners, interrupts every
// connection and returns once all have ended. When ctx ends first it
// force-closes the rest and returns ctx's error; like net/http it does not
// wait for commands stuck in a session, which end when it notices.
func (g *Group) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.closing.Store(true)
	for l := range g.listeners {
		l.Close()
	}
	conns := make([]Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()

	for _, c := range conns {
		c.Interrupt()
	}
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for c := range g.conns {
			c.ForceClose()
		}
		g.mu.Unlock()
		return fmt.Errorf("%s: shutdown: %w", g.name, ctx.Err())
	}
}

// AddrPort returns a's IP address and port, IPv4-mapped addresses
// unmapped (DESIGN.md §2); false when a is not an IP endpoint.
func AddrPort(a net.Addr) (netip.AddrPort, bool) {
	var ap netip.AddrPort
	switch a := a.(type) {
	case nil:
		return ap, false
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		var err error
		if ap, err = netip.ParseAddrPort(a.String()); err != nil {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// IsLoopback treats IP loopback peers, and peers that are not IP at all
// (pipes, Unix sockets), as local: the engines' default for allowing
// plaintext passwords without TLS (DESIGN.md §5).
func IsLoopback(a net.Addr) bool {
	ap, ok := AddrPort(a)
	return !ok || ap.Addr().IsLoopback()
}
