package imapserver

import (
	"io"
	"time"

	"github.com/postern/postern/internal/imap"
)

// handleAppend is APPEND mailbox [flag-list] [date-time] literal
// (RFC 3501 §6.3.11), answered with APPENDUID (RFC 4315 §3). The message
// streams from the connection into the session, never held in memory.
func handleAppend(c *conn, cmd *command) error {
	var (
		name string
		opts imap.AppendOptions
	)
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	if b, _ := c.dec.PeekByte(); b == '(' {
		flags, err := c.readFlagList(false)
		if err != nil {
			return err
		}
		opts.Flags = flags
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
	}
	if b, _ := c.dec.PeekByte(); b == '"' {
		var t time.Time
		if !c.dec.ExpectDateTime(&t) || !c.dec.ExpectSP() {
			return c.decErr()
		}
		opts.Time = t
	}
	r, size, ok := c.dec.ExpectLiteralReader(c.srv.opts.MaxAppendSize, false)
	if !ok {
		err := c.decErr()
		if le, ok := asLimit(err); ok && !le.Fatal {
			// RFC 7889 §4 (APPENDLIMIT) answers an oversized message
			// with NO [TOOBIG]; the decoder skipped or refused it.
			return &imap.Error{Type: imap.StatusNO, Code: imap.CodeTooBig, Text: "Message too big"}
		}
		return err
	}
	lr := literalReader{c: c, r: r}
	data, appendErr := c.session.Append(c.ctx, name, lr, size, &opts)
	// The session may have stopped early (a refusal): read the rest so the
	// connection stays in step.
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return &ioError{err}
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if appendErr != nil {
		return errorf(cmd, appendErr)
	}
	if data != nil && data.UIDValidity != 0 && data.UID != 0 {
		cmd.code = imap.CodeAppendUID
		cmd.codeArg = u32(data.UIDValidity) + " " + u32(data.UID)
	}
	return nil
}
