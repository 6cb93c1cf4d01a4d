package imapserver

import (
	"errors"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/imap"
)

// handleIdle is IDLE (RFC 2177): "+ idling", then updates as they happen
// until the client sends DONE.
//
// The session's Idle runs on the connection goroutine and writes updates,
// flushed one by one; a reader goroutine waits for the DONE line and closes
// stop. Shutdown closes stop too (then the connection says BYE).
func handleIdle(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if err := c.w.continuation("idling"); err != nil {
		return &ioError{err}
	}
	c.w.enc.Park() // flushed: nothing to write until an update

	stop := make(chan struct{})
	var once sync.Once
	stopIdle := func() { once.Do(func() { close(stop) }) }
	c.mu.Lock()
	if c.srv.g.Closing() {
		c.mu.Unlock()
		c.bye("", "Server shutting down")
		return errClose
	}
	// While idling, interrupt (Shutdown) stops Idle and wakes the reader.
	c.idling = true
	c.idleStop = stopIdle
	c.raw.SetReadDeadline(time.Now().Add(c.srv.opts.IdleCommandTimeout))
	c.mu.Unlock()

	type lineResult struct {
		line string
		err  error
	}
	done := make(chan lineResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("imapserver: panic reading IDLE DONE", "panic", r, "stack", string(debug.Stack()))
				done <- lineResult{err: errors.New("imapserver: panic reading DONE")}
			}
			stopIdle()
		}()
		c.waitInput()
		line, err := c.dec.ReadLine()
		done <- lineResult{line, err}
	}()

	c.w.flushEach = true
	iw := &idleWriter{w: c.w}
	stopKeepalive := c.idleKeepalive(iw)
	idleErr := c.session.Idle(c.ctx, iw, stop)
	stopKeepalive()
	c.w.flushEach = false
	// If Idle ended on its own (an error), the client still ends the
	// command with DONE: wait for it, so the stream stays in step.
	res := <-done

	c.mu.Lock()
	c.idling = false
	c.idleStop = nil
	c.raw.SetReadDeadline(time.Now().Add(c.srv.opts.LiteralTimeout))
	c.mu.Unlock()
	if c.srv.g.Closing() && res.err != nil {
		c.bye("", "Server shutting down")
		return errClose
	}
	if idleErr != nil {
		if res.err != nil {
			return &ioError{res.err}
		}
		return errorf(cmd, idleErr)
	}
	switch {
	case errors.Is(res.err, os.ErrDeadlineExceeded):
		c.bye("", "IDLE timed out")
		return errClose
	case res.err != nil:
		if _, ok := asLimit(res.err); ok {
			return imap.BAD("", "Expected DONE")
		}
		return &ioError{res.err}
	case !strings.EqualFold(res.line, "DONE"):
		return imap.BAD("", "Expected DONE")
	}
	cmd.text = "IDLE terminated"
	return nil
}

// idleKeepalive writes "* OK Still here" every idleKeepalive while IDLE
// lasts, so that NAT boxes and firewalls keep the quiet connection open
// (RFC 2177 §3 warns of them). It runs on a timer, not a goroutine of its
// own: thousands of connections sit in IDLE, and each goroutine is a
// stack (issue 7: memory per idle connection). The returned stop waits
// for a keepalive being written, so none is written after it returns.
func (c *conn) idleKeepalive(iw *idleWriter) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool        // guarded by mu
		t       *time.Timer // guarded by mu: the callback may run before AfterFunc returns
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(c.srv.idleKeepalive, func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("imapserver: panic in IDLE keepalive", "panic", r, "stack", string(debug.Stack()))
			}
		}()
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if err := iw.keepalive(); err != nil {
			// The client stopped reading (WriteTimeout): wake the DONE
			// reader now, instead of holding the connection until
			// IdleCommandTimeout.
			stopped = true
			c.raw.SetReadDeadline(time.Now())
			return
		}
		t.Reset(c.srv.idleKeepalive)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// idleWriter serialises the session's updates with the keepalives during
// IDLE; the writer flushes each line then.
type idleWriter struct {
	mu sync.Mutex
	w  *writer // guarded by mu
}

var _ UpdateWriter = (*idleWriter)(nil)

func (iw *idleWriter) keepalive() error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.status("*", imap.StatusOK, "", "", "Still here")
}

func (iw *idleWriter) WriteExists(n uint32) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteExists(n)
}

func (iw *idleWriter) WriteRecent(n uint32) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteRecent(n)
}

func (iw *idleWriter) WriteExpunge(seq uint32) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteExpunge(seq)
}

func (iw *idleWriter) WriteMailboxFlags(flags, permanent []imap.Flag) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteMailboxFlags(flags, permanent)
}

func (iw *idleWriter) WriteMessageFlags(seq, uid uint32, flags []imap.Flag) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteMessageFlags(seq, uid, flags)
}
