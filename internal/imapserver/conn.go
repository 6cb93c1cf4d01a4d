package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/postern/postern/internal/connserve"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
)

// conn is one client connection: its state machine (RFC 3501 §3) and I/O.
// Everything but interrupt and forceClose runs on the connection's own
// goroutine.
type conn struct {
	srv  *Server
	raw  net.Conn // the accepted connection; deadlines are set on it
	nc   net.Conn // raw, or the *tls.Conn after STARTTLS
	br   *bufio.Reader
	dec  *imapwire.Decoder
	w    *writer
	info ConnInfo
	log  *slog.Logger
	ctx  context.Context

	session Session
	state   imap.ConnState
	// loginDeadline ends the not-authenticated state (LoginTimeout).
	loginDeadline time.Time
	// bad counts BAD responses before login (MaxBadCommandsBeforeLogin).
	bad int
	// loginFailures counts refused LOGIN and AUTHENTICATE commands
	// (MaxLoginFailures).
	loginFailures int

	// enabledExt holds the extensions the client turned on with ENABLE
	// (or that a command turned on implicitly, RFC 7162 §3.1), by Ext
	// constant.
	enabledExt map[string]bool
	// compressed is set once COMPRESS DEFLATE is active (compress.go).
	compressed bool
	// writeDeadline is the write deadline last set on raw (zero: none
	// known, set it on the next write); deadlineWriter renews it. Used
	// by whoever holds the writer.
	writeDeadline time.Time

	// parks counts the waits that lent the read buffer out (readpark.go),
	// for tests.
	parks int

	mu       sync.Mutex
	waiting  bool   // blocked waiting for a command; guarded by mu
	idling   bool   // in IDLE; guarded by mu
	idleStop func() // ends the current IDLE; guarded by mu
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
	cn.br = readBuffers.Get().(*bufio.Reader)
	cn.br.Reset(c)
	cn.w = newWriter(imapwire.NewParkingEncoder(deadlineWriter{cn}, &writeBuffers))
	cn.dec = cn.newDecoder()
	return cn
}

func (c *conn) newDecoder() *imapwire.Decoder {
	o := &c.srv.opts
	return imapwire.NewDecoder(c.br, imapwire.DecoderOptions{
		MaxLineLength:   o.MaxLineLength,
		MaxLiteralSize:  o.MaxLiteralSize,
		MaxDepth:        o.MaxDepth,
		MaxLiteralTotal: o.MaxLiteralTotal,
		Continue:        c.continueLiteral,
		UTF8:            c.utf8Mode(),
	})
}

// continueLiteral accepts a synchronizing literal (RFC 3501 §7.5) and gives
// the client LiteralTimeout to send it.
func (c *conn) continueLiteral() error {
	c.raw.SetReadDeadline(c.literalDeadline())
	return c.w.continuation("Ready for literal data")
}

// literalDeadline is when the rest of a command (or of a literal) must
// have arrived: LiteralTimeout from now, but never past the login
// deadline before login, so that a command made of slow literals cannot
// stretch the login timeout (each literal would otherwise renew it).
func (c *conn) literalDeadline() time.Time {
	d := time.Now().Add(c.srv.opts.LiteralTimeout)
	if c.state == imap.StateNotAuthenticated && c.loginDeadline.Before(d) {
		return c.loginDeadline
	}
	return d
}

// deadlineWriter puts every write to the client under WriteTimeout. The
// deadline is renewed only once writeDeadlineSlack of it has passed, not
// on each write: a burst of FETCH responses is thousands of writes, and
// each SetWriteDeadline is a lock and a timer update (issue 7). Each write
// thus has between 7/8 of WriteTimeout and all of it.
type deadlineWriter struct{ c *conn }

// writeDeadlineSlack is the part of WriteTimeout that may pass before
// the write deadline is renewed.
func (c *conn) writeDeadlineSlack() time.Duration { return c.srv.opts.WriteTimeout / 8 }

// renewWriteDeadline sets the write deadline to WriteTimeout from now,
// unless the one set last is recent enough.
func (c *conn) renewWriteDeadline() {
	now := time.Now()
	t := c.srv.opts.WriteTimeout
	if !c.writeDeadline.IsZero() && c.writeDeadline.Sub(now) > t-c.writeDeadlineSlack() {
		return
	}
	c.writeDeadline = now.Add(t)
	c.raw.SetWriteDeadline(c.writeDeadline)
}

// forgetWriteDeadline is called after raw's deadlines were set for
// another purpose (SetDeadline around a TLS handshake): the next write
// sets its own.
func (c *conn) forgetWriteDeadline() { c.writeDeadline = time.Time{} }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.renewWriteDeadline()
	return d.c.nc.Write(p)
}

// sendChunk bounds each ReadFrom call on the connection, so that the
// write deadline is renewed between chunks of a long body: a slow but
// moving client is not cut off.
const sendChunk = 1 << 20

// copyBufs are the buffers of ReadFrom when the connection cannot take a
// reader itself (TLS): 32 KiB, io.Copy's size, only while a body streams.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ReadFrom streams a message body to the client (bufio.Writer.ReadFrom
// hands literals here once its buffer is flushed): over plain TCP the
// kernel copies a file to the socket (sendfile(2), net.TCPConn.ReadFrom),
// else through a pooled buffer, in large writes instead of the buffered
// writer's 4 KiB ones (DESIGN.md §7: stream from file to socket).
func (d deadlineWriter) ReadFrom(r io.Reader) (int64, error) {
	lr, ok := r.(*io.LimitedReader)
	if !ok {
		lr = &io.LimitedReader{R: r, N: math.MaxInt64}
	}
	rf, ok := d.c.nc.(io.ReaderFrom)
	if _, isFile := lr.R.(*os.File); !ok || !isFile {
		// No sendfile: the connection would copy through a buffer
		// of its own, allocated on each call.
		bp := copyBufs.Get().(*[]byte)
		defer copyBufs.Put(bp)
		return io.CopyBuffer(writerOnly{d}, r, *bp)
	}
	var total int64
	for lr.N > 0 {
		d.c.renewWriteDeadline()
		chunk := &io.LimitedReader{R: lr.R, N: min(lr.N, sendChunk)}
		want := chunk.N
		n, err := rf.ReadFrom(chunk)
		total += n
		lr.N -= n
		if err != nil || n < want {
			return total, err
		}
	}
	return total, nil
}

// writerOnly hides ReadFrom from io.CopyBuffer, which would otherwise
// call it back.
type writerOnly struct{ io.Writer }

// errClose ends the connection after the response already written.
var errClose = errors.New("imapserver: closing connection")

// serve runs the connection to its end and closes it.
func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.ctx = ctx
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer stop()
	defer func() { c.nc.Close() }() // c.nc is the TLS conn after STARTTLS: close_notify goes out
	// Recover before closing the session, so the client hears BYE even if
	// Close then blocks on state the panic left behind.
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("imapserver: panic serving connection", "panic", r, "stack", string(debug.Stack()))
			c.bye("", "Internal error; the administrator has been told")
		}
		if c.session != nil {
			if err := c.session.Close(); err != nil {
				c.log.Warn("imapserver: closing session", "err", err)
			}
		}
	}()

	c.loginDeadline = time.Now().Add(c.srv.opts.LoginTimeout)
	if tc, ok := c.nc.(*tls.Conn); ok {
		c.raw.SetDeadline(c.loginDeadline)
		c.forgetWriteDeadline()
		if err := tc.HandshakeContext(ctx); err != nil {
			c.log.Info("imapserver: TLS handshake failed", "err", err)
			return
		}
	}
	sess, err := c.srv.opts.NewSession(ctx, &c.info)
	if err != nil {
		if e, ok := imap.AsError(err); ok {
			c.bye(e.Code, e.Text)
		} else {
			c.log.Error("imapserver: creating session", "err", err)
			c.bye(imap.CodeUnavailable, "Service unavailable; the administrator has been told")
		}
		return
	}
	c.session = sess
	c.log.Debug("imapserver: connection opened", "tls", c.info.TLS, "loopback", c.info.Loopback)

	if p, ok := sess.(SessionPreauth); ok {
		if user := p.Preauthenticated(); user != "" {
			c.state = imap.StateAuthenticated
			c.log = c.log.With("user", user)
			c.w.status("*", imap.StatusPREAUTH, imap.CodeCapability, capString(c.capabilities()), "Logged in as "+user)
		}
	}
	if c.state == imap.StateNotAuthenticated {
		c.w.status("*", imap.StatusOK, imap.CodeCapability, capString(c.capabilities()), c.srv.opts.Greeting)
	}
	for c.state != imap.StateLogout {
		if !c.waitCommand() {
			return
		}
		if err := c.command(); err != nil {
			c.timedOut(err)
			c.w.Flush() // the last responses (BYE) before closing
			if !errors.Is(err, errClose) {
				c.log.Debug("imapserver: connection ends", "err", err)
			}
			return
		}
	}
	c.w.Flush()
}

// bye writes an untagged BYE and flushes it, ignoring errors: the
// connection closes next.
func (c *conn) bye(code imap.ResponseCode, text string) {
	c.w.status("*", imap.StatusBYE, code, "", text)
	c.w.Flush()
}

// waitCommand flushes pending responses and waits for the first octet of the
// next command under the login or autologout timer (RFC 3501 §5.4). It
// returns false when the connection must end; it has said BYE when due.
func (c *conn) waitCommand() bool {
	if err := c.w.flushAndPark(); err != nil {
		return false
	}
	deadline := c.loginDeadline
	if c.state != imap.StateNotAuthenticated {
		deadline = time.Now().Add(c.srv.opts.IdleTimeout)
	}
	c.mu.Lock()
	if c.srv.g.Closing() {
		c.mu.Unlock()
		c.bye("", "Server shutting down")
		return false
	}
	c.waiting = true
	c.raw.SetReadDeadline(deadline)
	c.mu.Unlock()

	c.waitInput()
	_, err := c.br.Peek(1)

	c.mu.Lock()
	c.waiting = false
	c.raw.SetReadDeadline(c.literalDeadline())
	c.mu.Unlock()
	switch {
	case err == nil:
		return true
	case c.srv.g.Closing():
		c.bye("", "Server shutting down")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.endReason("Autologout")
		c.bye("", "Autologout; idle for too long")
	default:
		c.endReason("Unexpected client disconnect, while reading line")
	}
	return false
}

// timedOut says BYE to a client whose command did not arrive in time: a
// line or literal dribbled in past LiteralTimeout, or past the login
// deadline before login (a slowloris). RFC 3501 §7.1.5: the server sends
// BYE before an autologout. A write that timed out gets no BYE: the
// client is not reading.
func (c *conn) timedOut(err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) || c.w.enc.Err() != nil || c.srv.g.Closing() {
		return
	}
	c.endReason("Autologout")
	if c.state == imap.StateNotAuthenticated && !time.Now().Before(c.loginDeadline) {
		c.bye("", "Autologout; login took too long")
		return
	}
	c.bye("", "Autologout; command not completed in time")
}

// endReason tells the session why the connection is ending, for its
// logout log line (SessionEndReason).
func (c *conn) endReason(reason string) {
	if s, ok := c.session.(SessionEndReason); ok {
		s.SetEndReason(reason)
	}
}

// Interrupt is called by Shutdown: a connection waiting for a command or in
// IDLE is woken to say BYE; one running a command says BYE when it ends.
func (c *conn) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting || c.idling {
		c.raw.SetReadDeadline(time.Now())
	}
	if c.idleStop != nil {
		c.idleStop()
	}
}

// ForceClose ends a connection whose command did not finish in time.
func (c *conn) ForceClose() {
	c.raw.Close()
}

// Response and error handling: STYLE.md habit 5, one choke point.

// ioError marks a failure to read from or write to the client: the
// connection just ends.
type ioError struct{ err error }

func (e *ioError) Error() string { return "imapserver: connection: " + e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// decErr returns the decoder's error, marking I/O failures.
func (c *conn) decErr() error {
	err := c.dec.Err()
	if err == nil {
		return imap.BAD("", "Syntax error")
	}
	var se *imapwire.SyntaxError
	var le *imapwire.LimitError
	if errors.As(err, &se) || errors.As(err, &le) {
		return err
	}
	if _, ok := imap.AsError(err); ok {
		return err
	}
	return &ioError{err}
}

// respond writes the tagged (or, with tag "*", untagged) answer to err and
// reports whether the connection goes on. cmdName is for logs.
func (c *conn) respond(tag, cmdName string, err error) error {
	var (
		se *imapwire.SyntaxError
		le *imapwire.LimitError
		ie *ioError
	)
	switch {
	case errors.As(err, &ie), errors.Is(err, errClose):
		return err
	case errors.As(err, &le):
		if le.Fatal {
			c.bye(le.Code, le.Msg)
			return errClose
		}
		c.w.status(tag, imap.StatusBAD, le.Code, "", le.Msg)
		return c.countBad()
	case errors.As(err, &se):
		c.w.status(tag, imap.StatusBAD, "", "", se.Msg)
		return c.countBad()
	}
	if e, ok := imap.AsError(err); ok {
		if e.Cause != nil {
			c.log.Warn("imapserver: command refused", "cmd", cmdName, "answer", string(e.Code)+" "+e.Text, "err", e.Cause)
		}
		switch e.Type {
		case imap.StatusBYE:
			c.bye(e.Code, e.Text)
			return errClose
		case imap.StatusBAD:
			c.w.status(tag, imap.StatusBAD, e.Code, e.CodeArg, e.Text)
			return c.countBad()
		}
		c.w.status(tag, imap.StatusNO, e.Code, e.CodeArg, e.Text)
		return c.w.enc.Err()
	}
	if errors.Is(err, context.Canceled) && c.ctx.Err() != nil {
		return err // the connection is being closed
	}
	c.log.Error("imapserver: command failed", "cmd", cmdName, "err", err)
	c.w.status(tag, imap.StatusNO, imap.CodeServerBug, "", "Internal error; the administrator has been told")
	return c.w.enc.Err()
}

// countBad counts a BAD answer before login and ends the connection after
// MaxBadCommandsBeforeLogin of them: a client that speaks no IMAP (or a
// cross-protocol attack, as in the ALPACA paper) is cut off early.
func (c *conn) countBad() error {
	if err := c.w.enc.Err(); err != nil {
		return &ioError{err}
	}
	if c.state != imap.StateNotAuthenticated {
		return nil
	}
	c.bad++
	if c.bad >= c.srv.opts.MaxBadCommandsBeforeLogin {
		c.bye("", "Too many invalid commands")
		return errClose
	}
	return nil
}

// command reads and runs one command (RFC 3501 §2.2.1).
func (c *conn) command() error {
	c.dec.Reset()
	var tag string
	if !c.dec.Atom(&tag) || !validTag(tag) {
		err := c.decErr()
		if _, ok := asLimit(err); ok || isIOError(err) {
			if derr := c.dec.DiscardLine(); derr != nil && !isIOError(err) {
				return c.discardErr("*", derr)
			}
			return c.respond("*", "", err)
		}
		if err := c.dec.DiscardLine(); err != nil {
			return c.discardErr("*", err)
		}
		return c.respond("*", "", imap.BAD("", "Invalid tag"))
	}
	if !c.dec.SP() {
		if err := c.decErr(); isIOError(err) {
			return err
		}
		if err := c.dec.DiscardLine(); err != nil {
			return c.discardErr(tag, err)
		}
		return c.respond(tag, "", imap.BAD("", "Missing command"))
	}
	cmd := &command{tag: tag}
	err := c.dispatch(cmd)
	if e, ok := imap.AsError(err); ok && e.Type == imap.StatusOK {
		// A success with something to say in its tagged OK, such as
		// EXPUNGEISSUED (RFC 5530 §3): the session's code and text.
		cmd.code, cmd.codeArg, cmd.text, err = e.Code, e.CodeArg, e.Text, nil
	}
	if werr := c.w.enc.Err(); werr != nil {
		return &ioError{werr}
	}
	if err != nil && !cmd.lineDone && !isIOError(err) {
		var le *imapwire.LimitError
		if !(errors.As(err, &le) && le.Fatal) {
			if derr := c.dec.DiscardLine(); derr != nil {
				return c.discardErr(tag, derr)
			}
		}
	}
	if err != nil {
		if rerr := c.respond(tag, cmd.name, err); rerr != nil {
			return rerr
		}
		if cmd.loginFailed {
			c.loginFailures++
			if c.loginFailures >= c.srv.opts.MaxLoginFailures {
				c.bye("", "Too many authentication failures")
				return errClose
			}
		}
		return nil
	}
	if cmd.responded {
		return c.w.enc.Err()
	}
	text := cmd.text
	if text == "" {
		text = cmd.name + " completed"
	}
	c.w.status(tag, imap.StatusOK, cmd.code, cmd.codeArg, text)
	if err := c.w.enc.Err(); err != nil {
		return &ioError{err}
	}
	if c.state == imap.StateLogout {
		return errClose
	}
	return nil
}

func isIOError(err error) bool {
	var ie *ioError
	return errors.As(err, &ie)
}

// validTag reports whether s is a tag: 1*<any ASTRING-CHAR except "+">
// (RFC 3501 §9).
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '+' || !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

// command is one command in progress.
type command struct {
	tag  string
	name string // upper case, "UID FETCH" for UID commands
	uid  bool
	// lineDone is set once the final CRLF was read.
	lineDone bool
	// responded is set when the handler wrote the tagged response itself.
	responded bool
	// loginFailed is set when the session refused the credentials of
	// LOGIN or AUTHENTICATE (MaxLoginFailures).
	loginFailed bool
	// The tagged OK: code, its argument and text ("NAME completed").
	code    imap.ResponseCode
	codeArg string
	text    string
}

// endLine reads the CRLF that ends the command.
func (c *conn) endLine(cmd *command) error {
	if !c.dec.ExpectCRLF() {
		return c.decErr()
	}
	cmd.lineDone = true
	return nil
}

// numKind is the number kind of cmd's sets.
func (cmd *command) numKind() imap.NumKind {
	if cmd.uid {
		return imap.NumKindUID
	}
	return imap.NumKindSeq
}

// errorf wraps a session error with the command for the logs; *imap.Error
// stays reachable through %w.
func errorf(cmd *command, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("imapserver: %s: %w", cmd.name, err)
}

// literalReader renews the read deadline while a long literal streams in,
// so that a slow but moving upload is not cut off.
type literalReader struct {
	c *conn
	r io.Reader
}

func (l literalReader) Read(p []byte) (int, error) {
	l.c.raw.SetReadDeadline(l.c.literalDeadline())
	return l.r.Read(p)
}

// asLimit returns the *imapwire.LimitError in err's chain, if any.
func asLimit(err error) (*imapwire.LimitError, bool) {
	var le *imapwire.LimitError
	ok := errors.As(err, &le)
	return le, ok
}

// discardErr answers a failed DiscardLine: a limit (the end of the line was
// not found) is a BYE, anything else an I/O failure.
func (c *conn) discardErr(tag string, err error) error {
	if _, ok := asLimit(err); ok {
		return c.respond(tag, "", err)
	}
	return &ioError{err}
}

// expectNumSet reads a sequence set. "$" (RFC 5182 SEARCHRES) is passed
// to sessions that keep search results (SessionSearchRes), refused
// otherwise: the extension is not advertised then.
func (c *conn) expectNumSet(set *imap.NumSet) error {
	if !c.dec.ExpectNumSet(set) {
		return c.decErr()
	}
	if _, ok := c.session.(SessionSearchRes); set.SearchRes && !ok {
		return imap.BAD("", "SEARCHRES is not supported")
	}
	return nil
}
