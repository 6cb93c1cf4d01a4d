package pop3server

import (
	"fmt"
	"strconv"
)

// The TRANSACTION state commands (RFC 1939 §5, §7) and QUIT.

// msgArg parses a message-number argument and checks it against the
// snapshot: in range and not marked deleted (the Session contract).
func (c *conn) msgArg(s string) (int, error) {
	n, ok := parseNumber(s)
	if !ok {
		return 0, bad("invalid message number")
	}
	if n < 1 || n > len(c.msgs) {
		return 0, &Error{Text: "Message " + s + " does not exist"}
	}
	if c.msgs[n-1].Deleted {
		return 0, &Error{Text: fmt.Sprintf("Message %d already deleted", n)}
	}
	return n, nil
}

// refresh reloads the snapshot for LIST and UIDL: the session is the truth
// for sizes, UIDs and marks. Its length never changes (RFC 1939 §8).
func (c *conn) refresh() error {
	msgs, err := c.session.List(c.ctx)
	if err != nil {
		return err
	}
	if len(msgs) != len(c.msgs) {
		return fmt.Errorf("pop3server: session's List returned %d messages, the snapshot holds %d", len(msgs), len(c.msgs))
	}
	c.msgs = msgs
	return nil
}

// handleSTAT is STAT (RFC 1939 §5).
func handleSTAT(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	count, size, err := c.session.Stat(c.ctx)
	if err != nil {
		return err
	}
	c.writeOK(fmt.Sprintf("%d %d", count, size))
	return nil
}

// handleLIST is LIST [msg] (RFC 1939 §5): sizes of the messages not marked
// deleted.
func handleLIST(c *conn, r request) error {
	return listing(c, r, "Mailbox scan listing follows", func(m Message) string {
		return strconv.FormatInt(m.Size, 10)
	})
}

// handleUIDL is UIDL [msg] (RFC 1939 §7): unique ids of the messages not
// marked deleted.
func handleUIDL(c *conn, r request) error {
	return listing(c, r, "Unique-ID listing follows", func(m Message) string {
		return m.UID
	})
}

// listing answers LIST and UIDL: "+OK n value" for one message, or a
// multi-line list of "n value" for all.
func listing(c *conn, r request, title string, value func(Message) string) error {
	if err := wantArgs(r, 0, 1); err != nil {
		return err
	}
	if err := c.refresh(); err != nil {
		return err
	}
	if len(r.args) == 1 {
		n, err := c.msgArg(r.args[0])
		if err != nil {
			return err
		}
		c.writeOK(strconv.Itoa(n) + " " + value(c.msgs[n-1]))
		return nil
	}
	c.writeOK(title)
	for i, m := range c.msgs {
		if !m.Deleted {
			c.writeLine(strconv.Itoa(i+1) + " " + value(m))
		}
	}
	c.writeLine(".")
	return nil
}

// handleRETR is RETR msg (RFC 1939 §5).
func handleRETR(c *conn, r request) error {
	if err := wantArgs(r, 1, 1); err != nil {
		return err
	}
	n, err := c.msgArg(r.args[0])
	if err != nil {
		return err
	}
	d := newDotWriter(c.bw, fmt.Sprintf("+OK %d octets", c.msgs[n-1].Size))
	return c.stream(d, c.session.Retr(c.ctx, n, d))
}

// handleTOP is TOP msg n (RFC 1939 §7).
func handleTOP(c *conn, r request) error {
	if err := wantArgs(r, 2, 2); err != nil {
		return err
	}
	n, err := c.msgArg(r.args[0])
	if err != nil {
		return err
	}
	lines, ok := parseNumber(r.args[1])
	if !ok {
		return bad("invalid line count")
	}
	d := newDotWriter(c.bw, "+OK Top of message follows")
	return c.stream(d, c.session.Top(c.ctx, n, lines, d))
}

// stream ends a RETR or TOP body. A session error before the first octet
// is answered -ERR as usual; after it, the response cannot be taken back
// and the connection is closed.
func (c *conn) stream(d *dotWriter, err error) error {
	if err != nil {
		if !d.started {
			return err
		}
		c.log.Error("pop3server: message failed while being sent; closing", "err", err)
		return &ioError{err}
	}
	if err := d.close(); err != nil {
		c.werr = err
		return &ioError{err}
	}
	return nil
}

// handleDELE is DELE msg (RFC 1939 §5): the message is only marked; it is
// removed in the UPDATE state.
func handleDELE(c *conn, r request) error {
	if err := wantArgs(r, 1, 1); err != nil {
		return err
	}
	n, err := c.msgArg(r.args[0])
	if err != nil {
		return err
	}
	if err := c.session.Dele(c.ctx, n); err != nil {
		return err
	}
	c.msgs[n-1].Deleted = true
	c.writeOK(fmt.Sprintf("Message %d deleted", n))
	return nil
}

// handleRSET is RSET (RFC 1939 §5): all deletion marks are removed.
func handleRSET(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	if err := c.session.Rset(c.ctx); err != nil {
		return err
	}
	for i := range c.msgs {
		c.msgs[i].Deleted = false
	}
	c.writeOK(fmt.Sprintf("Maildrop has %d messages", len(c.msgs)))
	return nil
}

// handleNOOP is NOOP (RFC 1939 §5).
func handleNOOP(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	c.writeOK("No-op to you too!")
	return nil
}

// handleQUIT is QUIT (RFC 1939 §6). In AUTHORIZATION it just ends the
// connection; in TRANSACTION it enters the UPDATE state, where the session
// removes the messages marked deleted, all or nothing.
func handleQUIT(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	if c.state == stateAuthorization {
		c.writeOK("Sayonara")
		return errClose
	}
	c.state = stateUpdate
	if err := c.session.Update(c.ctx); err != nil {
		if e, ok := AsError(err); ok {
			c.respondRefusal("QUIT", e)
		} else {
			c.log.Error("pop3server: update failed", "err", err)
			c.writeErr(CodeSysTemp, "Some deleted messages not removed")
		}
		return errClose
	}
	c.writeOK("Sayonara")
	return errClose
}
