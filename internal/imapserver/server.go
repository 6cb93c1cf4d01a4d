package imapserver

import (
	"context"
	"crypto/tls"
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

// Default limits and timeouts (DESIGN.md §6).
const (
	// DefaultLoginTimeout bounds the time from connect to a successful login.
	DefaultLoginTimeout = 3 * time.Minute
	// DefaultIdleTimeout is the inactivity autologout timer after login;
	// RFC 3501 §5.4 requires at least 30 minutes.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultIdleCommandTimeout bounds one IDLE command (RFC 2177 §3 asks
	// clients to re-issue IDLE at least every 29 minutes).
	DefaultIdleCommandTimeout = 30 * time.Minute
	// DefaultLiteralTimeout bounds the rest of a command line once its first
	// octet arrived, renewed for each literal and while a literal streams.
	DefaultLiteralTimeout = 5 * time.Minute
	// DefaultWriteTimeout bounds each write to the client.
	DefaultWriteTimeout = time.Minute
	// defaultIdleKeepalive is how often IDLE says "* OK Still here"
	// (Dovecot's imap_idle_notify_interval is 2 minutes too).
	defaultIdleKeepalive = 2 * time.Minute

	DefaultMaxLineLength             = 64 << 10
	DefaultMaxLiteralSize            = 64 << 10
	DefaultMaxAppendSize             = 64 << 20
	DefaultMaxDepth                  = 8
	DefaultMaxBadCommandsBeforeLogin = 3
	DefaultMaxLoginFailures          = 5
	DefaultMaxFetchItems             = 1000
	DefaultMaxSearchKeys             = 1000
	DefaultMaxFlags                  = 256

	// DefaultGreeting is the text of the greeting after its capability code.
	DefaultGreeting = "Postern ready"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("imapserver: server closed")

// Options configure a Server. The zero value of each field selects the
// default given beside it.
type Options struct {
	// NewSession creates the backend session of a new connection. It must
	// be set. Returning an *imap.Error answers with its text in a BYE;
	// any other error is logged and the client sees a generic BYE.
	NewSession func(ctx context.Context, info *ConnInfo) (Session, error)
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// TLSConfig enables STARTTLS (RFC 3501 §6.2.1); nil: no STARTTLS.
	TLSConfig *tls.Config
	// InsecureAuth allows plaintext LOGIN/AUTHENTICATE on an unencrypted
	// non-loopback connection; false: such connections get LOGINDISABLED
	// (RFC 3501 §6.2.3, DESIGN.md §5).
	InsecureAuth bool
	// IsLoopback reports whether a peer address is local (plaintext login
	// allowed without TLS); nil: an IP loopback address, or a non-IP
	// address (pipe, Unix socket). Tests override it.
	IsLoopback func(net.Addr) bool
	// Greeting is the greeting text; "": DefaultGreeting.
	Greeting string

	// MaxLineLength bounds a command line outside literals; 0: 64 KiB.
	MaxLineLength int
	// MaxLiteralSize bounds a literal argument other than APPEND's; 0: 64 KiB.
	MaxLiteralSize int64
	// MaxAppendSize bounds an APPEND message; 0: 64 MiB.
	MaxAppendSize int64
	// MaxDepth bounds parenthesis nesting; 0: 8.
	MaxDepth int
	// MaxBadCommandsBeforeLogin is how many BAD responses a connection gets
	// before login until it is closed with BYE; 0: 3.
	MaxBadCommandsBeforeLogin int
	// MaxLoginFailures is how many failed LOGIN or AUTHENTICATE commands
	// a connection gets; the last one's NO is followed by BYE (a password
	// guesser must reconnect, and meet the per-address delay); 0: 5.
	MaxLoginFailures int
	// MaxLiteralTotal bounds the octets of all the literals of one command
	// held in memory (APPEND's message streams and is not counted): the
	// line length does not count literals; 0: 4 times MaxLiteralSize.
	MaxLiteralTotal int64
	// MaxFetchItems bounds the items of one FETCH, each name of a
	// HEADER.FIELDS list counting as one (RFC 3501 §6.4.5); more are
	// answered BAD [LIMIT]; 0: 1000.
	MaxFetchItems int
	// MaxSearchKeys bounds the keys of one SEARCH program, NOT, OR and
	// parenthesised groups included (RFC 3501 §6.4.4): the session's cost
	// grows with keys times messages; more are answered BAD [LIMIT];
	// 0: 1000.
	MaxSearchKeys int
	// MaxFlags bounds the flags of one STORE or APPEND flag list
	// (RFC 3501 §6.4.6, §6.3.11); more are answered BAD [LIMIT]; 0: 256.
	MaxFlags int

	// LoginTimeout is the time allowed from connect to login; 0: 3 minutes.
	LoginTimeout time.Duration
	// IdleTimeout is the autologout timer after login (RFC 3501 §5.4);
	// 0: 30 minutes.
	IdleTimeout time.Duration
	// IdleCommandTimeout bounds one IDLE command (RFC 2177); 0: 30 minutes.
	IdleCommandTimeout time.Duration
	// LiteralTimeout bounds reading one command once it started, renewed
	// per literal and while a literal streams; 0: 5 minutes.
	LiteralTimeout time.Duration
	// WriteTimeout bounds each write to the client; 0: 1 minute.
	WriteTimeout time.Duration
}

// Server is an IMAP4rev1 server (RFC 3501). It takes listeners or
// connections; it never opens sockets (STYLE.md habit 7).
type Server struct {
	opts   Options
	log    *slog.Logger
	nextID atomic.Uint64

	// closing is set once by Shutdown, before it walks conns; a connection
	// checks it under its own mu before waiting for a command.
	closing atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{} // guarded by mu
	conns     map[*conn]struct{}        // guarded by mu
	wg        sync.WaitGroup            // one per running connection

	// idleKeepalive is the interval of "* OK Still here" during IDLE;
	// tests shorten it.
	idleKeepalive time.Duration
}

// New returns a server with opts copied and defaulted.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IsLoopback == nil {
		opts.IsLoopback = defaultIsLoopback
	}
	if opts.Greeting == "" {
		opts.Greeting = DefaultGreeting
	}
	setDefault(&opts.MaxLineLength, DefaultMaxLineLength)
	setDefault(&opts.MaxLiteralSize, DefaultMaxLiteralSize)
	setDefault(&opts.MaxAppendSize, DefaultMaxAppendSize)
	setDefault(&opts.MaxDepth, DefaultMaxDepth)
	setDefault(&opts.MaxBadCommandsBeforeLogin, DefaultMaxBadCommandsBeforeLogin)
	setDefault(&opts.MaxLoginFailures, DefaultMaxLoginFailures)
	setDefault(&opts.MaxLiteralTotal, 4*opts.MaxLiteralSize)
	setDefault(&opts.MaxFetchItems, DefaultMaxFetchItems)
	setDefault(&opts.MaxSearchKeys, DefaultMaxSearchKeys)
	setDefault(&opts.MaxFlags, DefaultMaxFlags)
	setDefault(&opts.LoginTimeout, DefaultLoginTimeout)
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	setDefault(&opts.IdleCommandTimeout, DefaultIdleCommandTimeout)
	setDefault(&opts.LiteralTimeout, DefaultLiteralTimeout)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	return &Server{
		idleKeepalive: defaultIdleKeepalive,
		opts:          opts,
		log:           opts.Logger,
		listeners:     make(map[net.Listener]struct{}),
		conns:         make(map[*conn]struct{}),
	}
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// defaultIsLoopback treats IP loopback peers, and peers that are not IP at
// all (pipes, Unix sockets), as local.
func defaultIsLoopback(a net.Addr) bool {
	ap, ok := addrPort(a)
	if !ok {
		return true
	}
	return ap.Addr().IsLoopback()
}

// addrPort returns a's IP address and port, unmapped (DESIGN.md §2).
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	if a == nil {
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// Serve accepts connections on l and serves each in its own goroutine until
// l fails or Shutdown is called; then it returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: wait, as
				// net/http does, instead of spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("imapserver: accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("imapserver: accept: %w", err)
		}
		backoff = 0
		go s.ServeConn(context.Background(), c, false)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// ServeConn serves one connection until the client logs out, the
// connection fails, or Shutdown ends it; it closes c. tlsActive says c is
// already encrypted (implicit TLS, RFC 8314); a *tls.Conn is detected
// without it. ctx bounds the connection: cancelling it closes c.
func (s *Server) ServeConn(ctx context.Context, c net.Conn, tlsActive bool) {
	if _, ok := c.(*tls.Conn); ok {
		tlsActive = true
	}
	cn := s.newConn(c, tlsActive)
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns[cn] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
		s.wg.Done()
	}()
	cn.serve(ctx)
}

func (s *Server) newID() string {
	return strconv.FormatUint(s.nextID.Add(1), 36)
}

// Shutdown stops the server gracefully: it closes the listeners, sends
// "* BYE Server shutting down" to connections waiting for a command or in
// IDLE, lets commands in progress finish (each connection then says BYE),
// and returns once every connection is closed. When ctx ends first it
// closes the remaining connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.interrupt()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// Like net/http, do not wait for commands stuck in the
		// session: their connections are closed, and they end when the
		// session notices.
		s.mu.Lock()
		for c := range s.conns {
			c.forceClose()
		}
		s.mu.Unlock()
		return fmt.Errorf("imapserver: shutdown: %w", ctx.Err())
	}
}
