package imapserver

import (
	"errors"
	"io"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
)

// handleAppend is APPEND mailbox 1*([flag-list] [date-time] literal)
// (RFC 3501 §6.3.11, RFC 3502 MULTIAPPEND), answered with APPENDUID and
// the UIDs of all the messages (RFC 4315 §3, RFC 3502 "Interaction with
// UIDPLUS"). Each message streams from the connection into the session,
// never held in memory. The literal may be a literal8 (RFC 3516 §4.4) or,
// once UTF8=ACCEPT is enabled, UTF8 (literal8) (RFC 6855 §4).
//
// MULTIAPPEND is all or nothing (RFC 3502 §6.3.11: "the mailbox MUST be
// restored to its state before the APPEND attempt"): each message is
// stored as it arrives, and when a later one fails (a refusal, a syntax
// error, a zero-length literal, which cancels) the session takes back
// those already stored (SessionMultiAppend).
func handleAppend(c *conn, cmd *command) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) {
		return c.decErr()
	}
	multi, _ := c.session.(SessionMultiAppend)
	var done []*imap.AppendData
	for {
		if !c.dec.ExpectSP() {
			err := c.decErr()
			c.undoAppend(multi, name, done)
			return err
		}
		data, more, err := c.appendOne(cmd, name, len(done) > 0)
		if err != nil {
			c.undoAppend(multi, name, done)
			return err
		}
		done = append(done, data)
		if !more {
			break
		}
		if multi == nil {
			c.undoAppend(multi, name, done)
			return imap.BAD("", "Only one message per APPEND")
		}
	}
	var uids imap.NumSet
	var validity uint32
	for _, d := range done {
		if d == nil || d.UIDValidity == 0 || d.UID == 0 || (validity != 0 && d.UIDValidity != validity) {
			return nil
		}
		validity = d.UIDValidity
		// Consecutive UIDs, the usual case, make one range (RFC 3502
		// allows any set in the order the messages were appended).
		if n := len(uids.Ranges); n > 0 && uids.Ranges[n-1].Stop+1 == d.UID {
			uids.Ranges[n-1].Stop = d.UID
		} else {
			uids.Ranges = append(uids.Ranges, imap.NumRange{Start: d.UID, Stop: d.UID})
		}
	}
	cmd.code = imap.CodeAppendUID
	cmd.codeArg = u32(validity) + " " + uids.String()
	return nil
}

// undoAppend takes back the messages of a failed MULTIAPPEND. A failure
// here is logged: the client is told the command failed either way.
func (c *conn) undoAppend(multi SessionMultiAppend, name string, done []*imap.AppendData) {
	if len(done) == 0 || multi == nil {
		return
	}
	if err := multi.AppendUndo(c.ctx, name, done); err != nil {
		c.log.Error("imapserver: MULTIAPPEND rollback failed", "mailbox", name, "err", err)
	}
}

// appendOne reads one append-message ([flag-list SP] [date-time SP]
// literal) and stores it. more reports that the line goes on with SP and
// another message (read up to, not including, the SP).
func (c *conn) appendOne(cmd *command, name string, later bool) (data *imap.AppendData, more bool, err error) {
	var opts imap.AppendOptions
	if b, _ := c.dec.PeekByte(); b == '(' {
		flags, err := c.readFlagList(false)
		if err != nil {
			return nil, false, err
		}
		opts.Flags = flags
		if !c.dec.ExpectSP() {
			return nil, false, c.decErr()
		}
	}
	if b, _ := c.dec.PeekByte(); b == '"' {
		var t time.Time
		if !c.dec.ExpectDateTime(&t) || !c.dec.ExpectSP() {
			return nil, false, c.decErr()
		}
		opts.Time = t
	}
	utf8 := false
	if b, _ := c.dec.PeekByte(); b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' {
		var a string
		if !c.dec.ExpectAtom(&a) {
			return nil, false, c.decErr()
		}
		if !equalFold(a, "CATENATE") && !equalFold(a, "UTF8") {
			return nil, false, imap.BAD("", "Expected a literal, CATENATE or UTF8")
		}
		if !c.dec.ExpectSP() || !c.dec.ExpectSpecial('(') {
			return nil, false, c.decErr()
		}
		switch {
		case equalFold(a, "CATENATE"):
			cat, ok := c.session.(SessionCatenate)
			if !ok {
				return nil, false, imap.BAD("", "CATENATE is not supported")
			}
			return c.appendCatenate(cmd, cat, name, &opts)
		case !equalFold(a, "UTF8") || !c.enabled(ExtUTF8Accept):
			return nil, false, imap.BAD("", "UTF8 APPEND data needs ENABLE UTF8=ACCEPT")
		}
		utf8 = true
	}
	r, size, ok := c.dec.ExpectLiteralReader(c.srv.opts.MaxAppendSize, true)
	if !ok {
		err := c.decErr()
		if le, ok := asLimit(err); ok && !le.Fatal {
			// RFC 7889 §4 (APPENDLIMIT) answers an oversized message
			// with NO [TOOBIG]; the decoder skipped or refused it.
			return nil, false, &imap.Error{Type: imap.StatusNO, Code: imap.CodeTooBig, Text: "Message too big"}
		}
		return nil, false, err
	}
	body := &appendBody{c: c, r: literalReader{c: c, r: r}, left: size, utf8: utf8}
	var appendErr error
	if size == 0 && (later || c.peekMore(body)) {
		// RFC 3502 §6.3.11: a zero-length literal is an error and
		// cancels the APPEND. A lone empty APPEND is stored, as before.
		appendErr = imap.NO("", "APPEND cancelled")
	} else {
		data, appendErr = c.session.Append(c.ctx, name, body, size, &opts)
	}
	// The session may have stopped early (a refusal): read the rest so the
	// connection stays in step.
	if _, err := io.Copy(io.Discard, body); err != nil && body.lineErr == nil {
		return nil, false, &ioError{err}
	}
	if body.lineErr != nil {
		// The store saw the error before its last byte and kept nothing.
		return nil, false, body.lineErr
	}
	if !body.more {
		cmd.lineDone = true
	}
	if appendErr != nil {
		return nil, false, errorf(cmd, appendErr)
	}
	return data, body.more, nil
}

// peekMore reads the end of an empty literal to learn whether another
// message follows it.
func (c *conn) peekMore(body *appendBody) bool {
	body.finish()
	return body.more
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// appendBody is the message literal of APPEND. When the last octet has been
// read, and before it is handed to the session, it checks what follows: a
// CRLF ending the command, or SP and another message (MULTIAPPEND, RFC
// 3502); anything else is answered BAD, and the store, seeing an error
// instead of EOF, keeps nothing. Without this check the message would be
// stored and the client told the command failed.
type appendBody struct {
	c       *conn
	r       io.Reader
	left    int64 // octets of the literal not yet read
	utf8    bool  // inside UTF8 ( ... ): a ")" follows the literal
	checked bool  // the end of the line has been examined
	more    bool  // SP and another message follow
	lineErr error // what followed the literal, when not acceptable
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

// finish examines what follows the literal once and returns io.EOF when it
// is acceptable.
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
// and reports a NUL in it, then reads the ")" of UTF8 data and the CRLF
// ending the command, or notes the SP before another message.
func (b *appendBody) checkEnd() error {
	if _, err := io.Copy(io.Discard, b.r); err != nil {
		var se *imapwire.SyntaxError
		if errors.As(err, &se) {
			return se
		}
		return &ioError{err}
	}
	if b.utf8 && !b.c.dec.ExpectSpecial(')') {
		return b.c.decErr()
	}
	if x, _ := b.c.dec.PeekByte(); x == ' ' {
		b.more = true
		return nil
	}
	if !b.c.dec.ExpectCRLF() {
		return b.c.decErr()
	}
	return nil
}
