package imapserver

import (
	"errors"
	"io"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
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
	body := &appendBody{c: c, r: literalReader{c: c, r: r}, left: size}
	data, appendErr := c.session.Append(c.ctx, name, body, size, &opts)
	// The session may have stopped early (a refusal): read the rest so the
	// connection stays in step.
	if _, err := io.Copy(io.Discard, body); err != nil && body.lineErr == nil {
		return &ioError{err}
	}
	if body.lineErr != nil {
		// The store saw the error before its last byte and kept nothing.
		return body.lineErr
	}
	cmd.lineDone = true
	if appendErr != nil {
		return errorf(cmd, appendErr)
	}
	if data != nil && data.UIDValidity != 0 && data.UID != 0 {
		cmd.code = imap.CodeAppendUID
		cmd.codeArg = u32(data.UIDValidity) + " " + u32(data.UID)
	}
	return nil
}

// appendBody is the message literal of APPEND. When the last octet has been
// read, and before it is handed to the session, it checks that the command
// line ends there (RFC 3501 §6.3.11 has nothing after the literal): a
// command with trailing garbage is answered BAD, and the store, seeing an
// error instead of EOF, keeps nothing. Without this check the message would
// be stored and the client told the command failed.
type appendBody struct {
	c       *conn
	r       io.Reader
	left    int64 // octets of the literal not yet read
	checked bool  // the end of the line has been examined
	lineErr error // what the end of the line was, when not CRLF
}

func (b *appendBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, b.finish()
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left == 0 && (err == nil || err == io.EOF) {
		return n, b.finish()
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// finish examines the end of the command once and returns io.EOF when it
// is a CRLF.
func (b *appendBody) finish() error {
	if !b.checked {
		b.checked = true
		b.lineErr = b.checkEnd()
	}
	if b.lineErr != nil {
		return b.lineErr
	}
	return io.EOF
}

// checkEnd drains the literal reader, so the decoder finishes the literal
// and reports a NUL in it, then reads the CRLF ending the command.
func (b *appendBody) checkEnd() error {
	if _, err := io.Copy(io.Discard, b.r); err != nil {
		var se *imapwire.SyntaxError
		if errors.As(err, &se) {
			return se
		}
		return &ioError{err}
	}
	if !b.c.dec.ExpectCRLF() {
		return b.c.decErr()
	}
	return nil
}
