package pop3server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/connserve"
)

// state is a POP3 session state (RFC 1939 §3).
type state int

const (
	stateAuthorization state = iota
	stateTransaction
	stateUpdate // QUIT ran in TRANSACTION; the connection ends
)

func (s state) String() string {
	switch s {
	case stateAuthorization:
		return "AUTHORIZATION"
	case stateTransaction:
		return "TRANSACTION"
	}
	return "UPDATE"
}

// conn is one client connection: its state machine (RFC 1939 §3) and
// I/O. Everything but interrupt and forceClose runs on the connection's
// own goroutine.
type conn struct {
	srv  *Server
	raw  net.Conn // the accepted connection; deadlines are set on it
	nc   net.Conn // raw, or the *tls.Conn after STLS
	br   *bufio.Reader
	bw   *bufio.Writer
	werr error // the first write error; later writes are skipped
	info ConnInfo
	log  *slog.Logger
	ctx  context.Context

	session Session
	state   state
	// timestamp is the APOP timestamp of the greeting (RFC 1939 §7), ""
	// when APOP is not offered.
	timestamp string
	// user is the name the last command (USER) gave; prevUser is it as
	// it was before the current command, for PASS (RFC 1939 §7: PASS
	// must follow USER at once).
	user, prevUser string
	// msgs is the maildrop snapshot taken at login, with the deletion
	// marks of this session (RFC 1939 §8).
	msgs []Message
	// loginDeadline ends the AUTHORIZATION state (LoginTimeout).
	loginDeadline time.Time
	// bad counts rejected commands before login (MaxBadCommandsBeforeLogin).
	bad int
	// loginFailures counts refused logins (MaxLoginFailures).
	loginFailures int

	mu      sync.Mutex
	waiting bool // blocked waiting for a command; guarded by mu
}

func (s *Server) newConn(c net.Conn, tlsActive bool) *conn {
	cn := &conn{srv: s, raw: c, nc: c}
	if tc, ok := c.(*tls.Conn); ok {
		cn.raw = tc.NetConn()
	}
	cn.info = ConnInfo{TLS: tlsActive, Loopback: s.opts.IsLoopback(c.RemoteAddr()), ID: s.g.NewID()}
	cn.info.RemoteAddr, _ = connserve.AddrPort(c.RemoteAddr())
	cn.info.LocalAddr, _ = connserve.AddrPort(c.LocalAddr())
	cn.log = s.log.With("conn", cn.info.ID, "remote", cn.info.RemoteAddr.String())
	// The reader holds a whole AUTH line; a longer line is discarded.
	cn.br = bufio.NewReaderSize(c, max(s.opts.MaxLineLength, maxAuthLineLength))
	cn.bw = bufio.NewWriterSize(deadlineWriter{cn}, 4096)
	return cn
}

// deadlineWriter puts every write to the client under WriteTimeout.
type deadlineWriter struct{ c *conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.raw.SetWriteDeadline(time.Now().Add(d.c.srv.opts.WriteTimeout))
	return d.c.nc.Write(p)
}

// serve runs the connection to its end and closes it.
func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.ctx = ctx
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer stop()
	defer func() { c.nc.Close() }() // c.nc is the TLS conn after STLS: close_notify goes out
	// Recover before closing the session, so the client hears -ERR even
	// if Close then blocks on state the panic left behind.
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pop3server: panic serving connection", "panic", r, "stack", string(debug.Stack()))
			c.writeErr(CodeSysTemp, "Internal error; the administrator has been told")
			c.flush()
		}
		if c.session != nil {
			if err := c.session.Close(); err != nil {
				c.log.Warn("pop3server: closing session", "err", err)
			}
		}
		c.log.Debug("pop3server: connection closed", "state", c.state.String())
	}()

	c.loginDeadline = time.Now().Add(c.srv.opts.LoginTimeout)
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.raw.SetDeadline(c.loginDeadline)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.log.Info("pop3server: TLS handshake failed", "err", err)
			return
		}
	}
	sess, err := c.srv.opts.NewSession(ctx, &c.info)
	if err != nil {
		if e, ok := AsError(err); ok {
			c.writeErr(e.Code, e.Text)
		} else {
			c.log.Error("pop3server: creating session", "err", err)
			c.writeErr(CodeSysTemp, "Service unavailable; the administrator has been told")
		}
		c.flush()
		return
	}
	c.session = sess
	c.log.Debug("pop3server: connection opened", "tls", c.info.TLS, "loopback", c.info.Loopback)

	greeting := c.srv.opts.Greeting
	if _, ok := sess.(SessionAPOP); ok {
		c.timestamp = c.newTimestamp()
		greeting += " " + c.timestamp
	}
	c.writeOK(greeting)
	for c.state != stateUpdate {
		if !c.waitCommand() {
			return
		}
		if err := c.command(); err != nil {
			c.timedOut(err)
			c.flush() // the last response before closing
			if !errors.Is(err, errClose) {
				c.log.Debug("pop3server: connection ends", "err", err)
			}
			return
		}
	}
	c.flush()
}

// waitCommand flushes pending responses unless another complete command is
// already buffered (RFC 2449 §6.6 PIPELINING: answers to a pipelined
// batch go out together), then waits for the first octet of the next
// command under the login or autologout timer (RFC 1939 §3). It returns
// false when the connection must end, having said why when due.
func (c *conn) waitCommand() bool {
	if !c.lineBuffered() {
		if err := c.flush(); err != nil {
			return false
		}
	}
	deadline := c.loginDeadline
	if c.state != stateAuthorization {
		deadline = time.Now().Add(c.srv.opts.IdleTimeout)
	}
	c.mu.Lock()
	if c.srv.g.Closing() {
		c.mu.Unlock()
		c.shuttingDown()
		return false
	}
	c.waiting = true
	// The whole line must arrive by the same deadline: a client dribbling
	// one octet a minute does not renew it.
	c.raw.SetReadDeadline(deadline)
	c.mu.Unlock()

	_, err := c.br.Peek(1)

	c.mu.Lock()
	c.waiting = false
	c.mu.Unlock()
	switch {
	case err == nil:
		return true
	case c.srv.g.Closing():
		c.shuttingDown()
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.endReason("Autologout")
		if c.state == stateAuthorization {
			c.writeErr("", "Autologout; login took too long")
		} else {
			c.writeErr("", "Autologout; idle for too long")
		}
		c.flush()
	default:
		c.endReason("Unexpected client disconnect, while reading line")
	}
	return false
}

// timedOut tells a client whose command line did not arrive by the
// login or autologout deadline why it is dropped (a slowloris dribbling
// one octet at a time; RFC 1939 §3 autologout). A write that timed out
// gets nothing: the client is not reading.
func (c *conn) timedOut(err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) || c.werr != nil || c.srv.g.Closing() {
		return
	}
	c.endReason("Autologout")
	if c.state == stateAuthorization {
		c.writeErr("", "Autologout; login took too long")
	} else {
		c.writeErr("", "Autologout; idle for too long")
	}
}

// shuttingDown tells a waiting client the server is going away (POP3 has
// no BYE; RFC 3206 §4 SYS/TEMP: try again later).
func (c *conn) shuttingDown() {
	c.endReason("Server shutting down")
	c.writeErr(CodeSysTemp, "Server shutting down")
	c.flush()
}

// lineBuffered reports whether a complete line is already buffered.
func (c *conn) lineBuffered() bool {
	n := c.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := c.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

// endReason tells the session why the connection is ending, for its
// log line (SessionEndReason).
func (c *conn) endReason(reason string) {
	if s, ok := c.session.(SessionEndReason); ok {
		s.SetEndReason(reason)
	}
}

// Interrupt is called by Shutdown: a connection waiting for a command is
// woken to say goodbye; one running a command says it when it ends.
func (c *conn) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting {
		c.raw.SetReadDeadline(time.Now())
	}
}

// ForceClose ends a connection whose command did not finish in time.
func (c *conn) ForceClose() {
	c.raw.Close()
}

// errLineTooLong answers a line longer than the limit; the line was read
// and discarded.
var errLineTooLong = errors.New("line too long")

// errLineEndless is a line that went on past maxDiscard without its end:
// the client is answered -ERR and the connection closed, as a line that
// never ends cannot be skipped (RFC 2449 §4 bounds lines; a silent close
// would leave the client guessing).
var errLineEndless = errors.New("pop3server: line without an end")

// readLine reads one line of at most limit octets, line ending included,
// and returns it without its CRLF (a bare LF is taken too). A longer line
// is read to its end and thrown away (errLineTooLong); one that goes on
// past maxDiscard is errLineEndless; an I/O failure is an *ioError.
func (c *conn) readLine(limit int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == nil {
		if len(line) > limit {
			return nil, errLineTooLong
		}
		line = line[:len(line)-1]
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, &ioError{err}
	}
	for n := len(line); ; {
		line, err = c.br.ReadSlice('\n')
		n += len(line)
		switch {
		case err == nil:
			return nil, errLineTooLong
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, &ioError{err}
		case n > maxDiscard:
			return nil, errLineEndless
		}
	}
}

// Writing responses (RFC 1939 §3). Write errors are sticky: the first one
// is kept in werr and later writes are skipped; the command loop ends on it.

// writeLine writes s and CRLF.
func (c *conn) writeLine(s string) {
	if c.werr != nil {
		return
	}
	if _, err := c.bw.WriteString(s); err != nil {
		c.werr = err
		return
	}
	if _, err := c.bw.WriteString("\r\n"); err != nil {
		c.werr = err
	}
}

// writeOK writes "+OK text".
func (c *conn) writeOK(text string) {
	c.writeLine("+OK " + text)
}

// writeErr writes "-ERR [code] text" (RFC 2449 §8). The text may come from
// the backend: control characters are replaced so that it stays one line.
func (c *conn) writeErr(code Code, text string) {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	if code != "" {
		c.writeLine("-ERR [" + string(code) + "] " + text)
		return
	}
	c.writeLine("-ERR " + text)
}

// flush sends what is buffered.
func (c *conn) flush() error {
	if c.werr != nil {
		return c.werr
	}
	if err := c.bw.Flush(); err != nil {
		c.werr = err
	}
	return c.werr
}
