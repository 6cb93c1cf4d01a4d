package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// TLSMode says how a client secures its connection.
type TLSMode int

const (
	TLSNone     TLSMode = iota // plain TCP (loopback tests, or servers that allow it)
	TLSImplicit                // TLS from the first octet, port 993 style (RFC 8314 §3.3)
	TLSStartTLS                // plain, then STARTTLS before LOGIN (RFC 3501 §6.2.1)
)

// ParseTLSMode parses "none", "implicit" or "starttls".
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(s) {
	case "none", "plain", "":
		return TLSNone, nil
	case "implicit", "tls", "imaps":
		return TLSImplicit, nil
	case "starttls":
		return TLSStartTLS, nil
	}
	return 0, fmt.Errorf("loadgen: TLS mode %q: want none, implicit or starttls", s)
}

func (m TLSMode) String() string {
	switch m {
	case TLSImplicit:
		return "implicit TLS"
	case TLSStartTLS:
		return "STARTTLS"
	}
	return "plain"
}

// Buffer sizes per connection: enough for a FETCH burst of flags in one
// read, small enough for thousands of idle clients.
const (
	readBufSize  = 16 << 10
	writeBufSize = 4 << 10
)

// fatalError marks a failure after which the connection cannot be used:
// I/O errors, timeouts, a response out of the protocol's sync.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatal(err error) error { return &fatalError{err} }

// isFatal reports whether err means the connection must be dropped.
func isFatal(err error) bool {
	var f *fatalError
	return errors.As(err, &f)
}

// conn is one IMAP client connection (RFC 3501 §2.2): it sends tagged
// commands and reads responses up to the tagged completion, keeping the
// selected mailbox's message count from EXISTS and EXPUNGE (§7.3.1,
// §7.4.1) and the capabilities (§7.2.1).
type conn struct {
	nc      net.Conn
	r       respReader
	w       *bufio.Writer
	tag     int
	timeout time.Duration
	exists  uint32          // messages in the selected mailbox, as this session was told
	caps    map[string]bool // upper-case capability names; nil until known
	bye     bool            // the server sent BYE
	in      uint64          // octets read, after TLS (the IMAP stream)
}

// countingReader counts what the connection reads, for throughput.
type countingReader struct {
	nc net.Conn
	n  *uint64
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.nc.Read(p)
	*r.n += uint64(n)
	return n, err
}

// dial connects, reads the greeting and secures the connection as mode
// says. A greeting other than OK is an error (PREAUTH included: the tool
// is for servers that authenticate).
func dial(ctx context.Context, addr string, mode TLSMode, tc *tls.Config, timeout time.Duration) (*conn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	c := &conn{timeout: timeout}
	if mode == TLSImplicit {
		nc = tls.Client(nc, tc)
	}
	c.setConn(nc)
	_ = nc.SetDeadline(time.Now().Add(timeout))
	// The greeting, STARTTLS and the handshake end with ctx too (the run's
	// hard stop): the connection is not the runner's to close yet.
	unwatch := context.AfterFunc(ctx, func() { nc.Close() })
	defer unwatch()
	g, err := c.r.next()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadgen: reading greeting: %w", err)
	}
	st, ok := parseStatus(bytes.TrimPrefix(g, []byte("* ")))
	if !bytes.HasPrefix(g, []byte("* ")) || !ok || st.Kind != "OK" {
		nc.Close()
		return nil, fmt.Errorf("loadgen: greeting %.80q, want * OK", g)
	}
	c.noteCode(st.Code)
	if mode == TLSStartTLS {
		st, err := c.run("STARTTLS", nil)
		if err == nil && st.Kind != "OK" {
			err = fmt.Errorf("loadgen: STARTTLS: %s", st)
		}
		if err != nil {
			nc.Close()
			return nil, err
		}
		// RFC 3501 §6.2.1: capabilities learnt before TLS are void; and
		// nothing read before the handshake may be kept (the reader is
		// new, so a server injecting bytes there shows as a handshake
		// failure).
		c.caps = nil
		c.setConn(tls.Client(nc, tc))
	}
	if tcn, ok := c.nc.(*tls.Conn); ok {
		if err := tcn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("loadgen: TLS handshake: %w", err)
		}
	}
	return c, nil
}

func (c *conn) setConn(nc net.Conn) {
	c.nc = nc
	c.r = respReader{br: bufio.NewReaderSize(countingReader{nc, &c.in}, readBufSize), buf: c.r.buf}
	c.w = bufio.NewWriterSize(nc, writeBufSize)
}

func (c *conn) close() error { return c.nc.Close() }

// noteCode records the capabilities of a "[CAPABILITY ...]" response code
// (RFC 3501 §7.1).
func (c *conn) noteCode(code string) {
	if rest, ok := cutPrefixFold(code, "CAPABILITY "); ok {
		c.setCaps(rest)
	}
}

func (c *conn) setCaps(list string) {
	c.caps = map[string]bool{}
	for _, f := range strings.Fields(list) {
		c.caps[strings.ToUpper(f)] = true
	}
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// nextTag returns a new command tag.
func (c *conn) nextTag() string {
	c.tag++
	return "a" + strconv.Itoa(c.tag)
}

// run sends one command line and reads its responses. onData, if not nil,
// sees every untagged response after the connection's own bookkeeping; its
// first error is returned (after the tagged response was read, so the
// connection stays in step). A fatalError means the connection is lost.
func (c *conn) run(line string, onData func(untagged) error) (status, error) {
	tag := c.nextTag()
	_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	c.w.WriteString(tag)
	c.w.WriteByte(' ')
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return status{}, fatal(fmt.Errorf("loadgen: sending: %w", err))
	}
	return c.readTagged(tag, onData)
}

// readTagged reads responses up to the completion of tag.
func (c *conn) readTagged(tag string, onData func(untagged) error) (status, error) {
	var dataErr error
	for {
		b, err := c.r.next()
		if err != nil {
			return status{}, fatal(fmt.Errorf("loadgen: reading response: %w", err))
		}
		if rest, ok := bytes.CutPrefix(b, []byte("* ")); ok {
			if err := c.untagged(rest, onData); err != nil && dataErr == nil {
				dataErr = err
			}
			continue
		}
		if rest, ok := bytes.CutPrefix(b, []byte(tag+" ")); ok {
			st, ok := parseStatus(rest)
			if !ok || st.Kind == "BYE" || st.Kind == "PREAUTH" {
				return status{}, fatal(fmt.Errorf("loadgen: bad tagged response %.80q", b))
			}
			c.noteCode(st.Code)
			return st, dataErr
		}
		return status{}, fatal(fmt.Errorf("loadgen: unexpected response %.80q waiting for %s", b, tag))
	}
}

// untagged does the connection's bookkeeping for one untagged response
// and passes it on.
func (c *conn) untagged(b []byte, onData func(untagged) error) error {
	u, err := parseUntagged(b)
	if err != nil {
		return err
	}
	switch u.Kind {
	case "EXISTS":
		c.exists = u.Num
	case "EXPUNGE":
		if !u.HasNum || u.Num == 0 || u.Num > c.exists {
			return fmt.Errorf("loadgen: EXPUNGE %d with %d messages", u.Num, c.exists)
		}
		c.exists--
	case "CAPABILITY":
		c.setCaps(string(u.Rest))
	case "OK", "NO", "BAD", "BYE":
		if st, ok := parseStatus(b); ok {
			c.noteCode(st.Code)
		}
		if u.Kind == "BYE" {
			c.bye = true
		}
	}
	if onData != nil {
		return onData(u)
	}
	return nil
}

// runLiteral sends a command ending in one literal (APPEND, RFC 3501
// §6.3.11): non-synchronizing when LITERAL+ is advertised (RFC 7888 §3),
// otherwise waiting for the continuation request first.
func (c *conn) runLiteral(prefix string, lit []byte, onData func(untagged) error) (status, error) {
	tag := c.nextTag()
	_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	plus := c.caps["LITERAL+"]
	fmt.Fprintf(c.w, "%s %s {%d", tag, prefix, len(lit))
	if plus {
		c.w.WriteByte('+')
	}
	c.w.WriteString("}\r\n")
	if !plus {
		if err := c.w.Flush(); err != nil {
			return status{}, fatal(fmt.Errorf("loadgen: sending: %w", err))
		}
		for {
			b, err := c.r.next()
			if err != nil {
				return status{}, fatal(fmt.Errorf("loadgen: reading response: %w", err))
			}
			if b[0] == '+' {
				break
			}
			if rest, ok := bytes.CutPrefix(b, []byte("* ")); ok {
				if err := c.untagged(rest, onData); err != nil {
					return status{}, fatal(err)
				}
				continue
			}
			if rest, ok := bytes.CutPrefix(b, []byte(tag+" ")); ok {
				// The server refused the literal (RFC 3501 §7.5).
				if st, ok := parseStatus(rest); ok {
					return st, nil
				}
			}
			return status{}, fatal(fmt.Errorf("loadgen: unexpected response %.80q waiting for continuation", b))
		}
	}
	c.w.Write(lit)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return status{}, fatal(fmt.Errorf("loadgen: sending: %w", err))
	}
	return c.readTagged(tag, onData)
}

// idle runs IDLE (RFC 2177): waits for the continuation request, holds
// for hold (or until stop is closed), then sends DONE and reads the
// completion. Updates arriving while idling are read after DONE: the load
// tool has nothing to do with them but count them. The returned duration
// is the time spent on the wire, the hold excluded. idling, when not nil,
// counts the connection from the continuation to the completion.
func (c *conn) idle(hold time.Duration, stop <-chan struct{}, idling *atomic.Int64, onData func(untagged) error) (status, time.Duration, error) {
	start := time.Now()
	tag := c.nextTag()
	_ = c.nc.SetDeadline(start.Add(c.timeout))
	c.w.WriteString(tag + " IDLE\r\n")
	if err := c.w.Flush(); err != nil {
		return status{}, 0, fatal(fmt.Errorf("loadgen: sending: %w", err))
	}
	for {
		b, err := c.r.next()
		if err != nil {
			return status{}, 0, fatal(fmt.Errorf("loadgen: reading response: %w", err))
		}
		if len(b) > 0 && b[0] == '+' {
			break
		}
		if rest, ok := bytes.CutPrefix(b, []byte("* ")); ok {
			if err := c.untagged(rest, onData); err != nil {
				return status{}, 0, fatal(err)
			}
			continue
		}
		if rest, ok := bytes.CutPrefix(b, []byte(tag+" ")); ok {
			if st, ok := parseStatus(rest); ok {
				return st, time.Since(start), nil // IDLE refused
			}
		}
		return status{}, 0, fatal(fmt.Errorf("loadgen: unexpected response %.80q waiting for IDLE continuation", b))
	}
	wire := time.Since(start)
	if idling != nil {
		idling.Add(1)
		defer idling.Add(-1)
	}
	t := time.NewTimer(hold)
	select {
	case <-t.C:
	case <-stop:
		t.Stop()
	}
	done := time.Now()
	_ = c.nc.SetDeadline(done.Add(c.timeout))
	c.w.WriteString("DONE\r\n")
	if err := c.w.Flush(); err != nil {
		return status{}, 0, fatal(fmt.Errorf("loadgen: sending: %w", err))
	}
	st, err := c.readTagged(tag, onData)
	return st, wire + time.Since(done), err
}
