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

	stop := make(chan struct{})
	var once sync.Once
	stopIdle := func() { once.Do(func() { close(stop) }) }
	c.mu.Lock()
	if c.srv.closing.Load() {
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
		line, err := c.dec.ReadLine()
		done <- lineResult{line, err}
	}()

	c.w.flushEach = true
	idleErr := c.session.Idle(c.ctx, c.w, stop)
	c.w.flushEach = false
	// If Idle ended on its own (an error), the client still ends the
	// command with DONE: wait for it, so the stream stays in step.
	res := <-done

	c.mu.Lock()
	c.idling = false
	c.idleStop = nil
	c.raw.SetReadDeadline(time.Now().Add(c.srv.opts.LiteralTimeout))
	c.mu.Unlock()
	if c.srv.closing.Load() && res.err != nil {
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
