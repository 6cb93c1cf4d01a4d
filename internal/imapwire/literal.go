package imapwire

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

const (
	// maxDiscardLiteral bounds a refused non-synchronizing literal that
	// the decoder reads and drops to stay in step with the client (RFC
	// 7888 §4 and DESIGN.md §6 want it read); a larger one is a fatal
	// LimitError, since reading it would take the link for minutes.
	maxDiscardLiteral = 1 << 30
	// discardFactor times MaxLineLength is how many octets outside
	// literals DiscardLine drops looking for the end of a line before it
	// gives the connection up (a fatal LimitError).
	discardFactor = 16
	// tailSize is how many of the last octets of a line the decoder keeps
	// to recognise a literal announcement ("{" 19 digits "+}" CRLF fits).
	tailSize = 32
)

// crlf reads CRLF inside a line (after a literal announcement), without
// ending the command line.
func (d *Decoder) crlf() bool {
	if d.err != nil {
		return false
	}
	p, err := d.r.Peek(2)
	if len(p) == 2 && p[0] == '\r' && p[1] == '\n' {
		d.readByte()
		_, ok := d.readByte()
		return ok
	}
	if len(p) < 2 && err != nil {
		d.setIOErr(err)
		return false
	}
	return d.syntax("expected end of line after literal size, found %s", describe(p[0]))
}

// literalHeader reads "{" number64 ["+"] "}" CRLF (RFC 3501 §9 literal,
// RFC 7888 non-synchronizing literal); sync is false for "{n+}".
func (d *Decoder) literalHeader() (n int64, sync, ok bool) {
	if !d.ExpectSpecial('{') {
		return 0, false, false
	}
	s := d.digits()
	if s == "" {
		return 0, false, d.err == nil && d.expected("literal size")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, d.syntax("literal size %s out of range", s)
	}
	sync = !d.Special('+')
	if !d.ExpectSpecial('}') || !d.crlf() {
		return 0, false, false
	}
	return n, sync, true
}

// acceptLiteral applies the size limit to an announced literal. Within it,
// a synchronizing literal gets its continuation request. Over it, a
// synchronizing literal is refused unread (its announcement ends the line:
// RFC 3501 §7.5, the client sends nothing more) and a non-synchronizing
// one is read and dropped so that its octets are never run as commands.
func (d *Decoder) acceptLiteral(n int64, sync bool, max int64) bool {
	return d.acceptLiteralWithin(n, sync, max, nil)
}

// acceptLiteralWithin is acceptLiteral with le, when not nil, as the error
// of a literal over max (a budget rather than the size limit).
func (d *Decoder) acceptLiteralWithin(n int64, sync bool, max int64, le *LimitError) bool {
	d.segStart = d.lineLen
	if n <= max {
		if sync && d.opts.Continue != nil {
			if err := d.opts.Continue(); err != nil {
				d.setIOErr(err)
				return false
			}
		}
		return true
	}
	if le == nil {
		le = &LimitError{Code: imap.CodeTooBig, Msg: fmt.Sprintf("literal of %d octets exceeds the limit of %d", n, max)}
	}
	switch {
	case sync:
		d.eol = true
	case n > maxDiscardLiteral:
		le.Fatal = true
	default:
		if _, err := d.r.Discard(int(n)); err != nil {
			d.setIOErr(unexpectedEOF(err))
			return false
		}
	}
	d.setErr(le)
	return false
}

// literalString reads a literal into memory, bounded by MaxLiteralSize.
// It collects the octets as they arrive rather than allocating the
// announced size up front.
func (d *Decoder) literalString(s *string) bool {
	n, sync, ok := d.literalHeader()
	if !ok {
		return false
	}
	max := d.opts.MaxLiteralSize
	var budgetErr *LimitError
	if left := d.opts.MaxLiteralTotal - d.litTotal; n <= max && n > left {
		max = left
		budgetErr = &LimitError{Code: imap.CodeLimit, Msg: fmt.Sprintf("literals of one command exceed %d octets in all", d.opts.MaxLiteralTotal)}
	}
	if !d.acceptLiteralWithin(n, sync, max, budgetErr) {
		return false
	}
	d.litTotal += n
	var b strings.Builder
	b.Grow(int(min(n, 4096)))
	nul := false
	for n > 0 {
		if _, err := d.r.Peek(1); err != nil {
			d.setIOErr(unexpectedEOF(err))
			return false
		}
		p, _ := d.r.Peek(int(min(int64(d.r.Buffered()), n)))
		nul = nul || bytes.IndexByte(p, 0) >= 0
		b.Write(p)
		d.r.Discard(len(p))
		n -= int64(len(p))
	}
	if nul {
		// CHAR8 excludes NUL (RFC 3501 §9); the literal was read whole,
		// so the line is still in step.
		return d.syntax("NUL in literal")
	}
	*s = b.String()
	return true
}

// ExpectLiteralReader reads a literal announcement ({n}, {n+}, or ~{n} for
// literal8 when allowLiteral8, RFC 3516) and returns a reader of exactly n
// octets streamed from the connection (the continuation is sent first for
// {n}). A literal over max is refused with a *LimitError (code TOOBIG): a
// synchronizing one is not read, a non-synchronizing one is read and
// discarded. The caller must read the reader to EOF (or call DiscardLine)
// before decoding further.
//
// A literal (not literal8) must not hold NUL (RFC 3501 §9 CHAR8): the
// reader checks the octets as they pass and, when one held NUL, returns a
// *SyntaxError with its last octets (and records it as the decoder's
// error), so the store sees a failed copy and the literal is still
// consumed whole.
func (d *Decoder) ExpectLiteralReader(max int64, allowLiteral8 bool) (r io.Reader, size int64, ok bool) {
	b, ok := d.peekByte()
	if !ok {
		return nil, 0, false
	}
	lit8 := false
	switch {
	case b == '~' && allowLiteral8:
		d.readByte()
		lit8 = true
	case b != '{':
		d.expected("literal")
		return nil, 0, false
	}
	n, sync, ok := d.literalHeader()
	if !ok || !d.acceptLiteral(n, sync, max) {
		return nil, 0, false
	}
	l := &literalReader{d: d, n: n, checkNUL: !lit8}
	d.lit = l
	return l, n, true
}

// literalReader streams a literal from the decoder's bufio.Reader.
type literalReader struct {
	d        *Decoder
	n        int64 // octets left
	checkNUL bool
	nul      bool
	err      error // returned once n is 0: io.EOF or the NUL SyntaxError
}

func (l *literalReader) Read(p []byte) (int, error) {
	if l.n == 0 {
		if l.err != nil {
			return 0, l.err
		}
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.d.r.Read(p)
	l.n -= int64(k)
	if l.checkNUL && !l.nul && bytes.IndexByte(p[:k], 0) >= 0 {
		l.nul = true
	}
	if err != nil && l.n > 0 {
		err = unexpectedEOF(err)
		l.d.setIOErr(err)
		return k, err
	}
	if l.n == 0 {
		if l.d.lit == l {
			l.d.lit = nil
		}
		if l.nul {
			l.err = &SyntaxError{Msg: "NUL in literal"}
			l.d.setErr(l.err)
			return k, l.err
		}
	}
	return k, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DiscardLine skips the rest of the current line, reading and dropping any
// non-synchronizing literal on it (never sending a continuation for a
// synchronizing one: its announcement ends the line), so the next command is
// read cleanly after an error. It drops the unread rest of a literal from
// ExpectLiteralReader first. It is a no-op when the line's CRLF was
// already read (or a refused synchronizing literal ended it), so call it
// before Reset.
//
// It returns an I/O error, or the fatal *LimitError of a line whose end
// could not be found within 16 times MaxLineLength octets (then the
// connection must be closed).
func (d *Decoder) DiscardLine() error {
	if d.errIO {
		return d.err
	}
	if le, ok := d.err.(*LimitError); ok && le.Fatal {
		return le
	}
	if d.eol {
		return nil
	}
	if err := d.discardRest(); err != nil {
		_, isLimit := err.(*LimitError)
		d.err, d.errIO = err, !isLimit
		return err
	}
	return nil
}

// discardRest drops octets to the end of the command line, dropping the
// non-synchronizing literals on it, and sets eol. It reads the raw reader
// whatever the recorded error is.
func (d *Decoder) discardRest() error {
	if l := d.lit; l != nil {
		d.lit = nil
		if l.n > 0 {
			k, err := d.r.Discard(int(l.n))
			l.n -= int64(k)
			if err != nil {
				return unexpectedEOF(err)
			}
		}
	}
	var buf [2 * tailSize]byte
	tail := buf[:0]
	for i := max(d.segStart, d.lineLen-tailSize); i < d.lineLen; i++ {
		tail = append(tail, d.tail[i%tailSize])
	}
	budget := discardFactor * d.opts.MaxLineLength
	for {
		if len(tail) > 0 && tail[len(tail)-1] == '\n' {
			n, ok := nonSyncLiteral(tail)
			if !ok {
				d.eol = true
				return nil
			}
			if n > maxDiscardLiteral {
				return &LimitError{Code: imap.CodeTooBig, Msg: fmt.Sprintf("literal of %d octets is too large to skip", n), Fatal: true}
			}
			if _, err := d.r.Discard(int(n)); err != nil {
				return unexpectedEOF(err)
			}
			tail = tail[:0]
		}
		line, err := d.r.ReadSlice('\n')
		budget -= len(line)
		tail = appendTail(tail, line)
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		if err != nil && budget < 0 {
			return &LimitError{Code: imap.CodeTooBig, Msg: "command line too long: its end was not found", Fatal: true}
		}
	}
}

// lineTooLong records the LimitError of a line over MaxLineLength and
// skips to its end at once, so that the error says whether the connection
// is still usable (Fatal) before anyone answers it.
func (d *Decoder) lineTooLong() {
	le := &LimitError{Code: imap.CodeTooBig, Msg: fmt.Sprintf("command line longer than %d octets", d.opts.MaxLineLength)}
	d.err = le
	if err := d.discardRest(); err != nil {
		le.Fatal = true
	}
}

// appendTail appends p to tail keeping only the last tailSize octets.
func appendTail(tail, p []byte) []byte {
	if len(p) >= tailSize {
		return append(tail[:0], p[len(p)-tailSize:]...)
	}
	tail = append(tail, p...)
	if len(tail) > tailSize {
		tail = append(tail[:0], tail[len(tail)-tailSize:]...)
	}
	return tail
}

// nonSyncLiteral reports whether a line's last octets (ending in LF)
// announce a non-synchronizing literal "{n+}" CRLF, and its size. A size
// too large to parse is returned as math.MaxInt64.
func nonSyncLiteral(tail []byte) (int64, bool) {
	t := bytes.TrimSuffix(tail[:len(tail)-1], []byte{'\r'})
	t, ok := bytes.CutSuffix(t, []byte("+}"))
	if !ok {
		return 0, false
	}
	i := len(t)
	for i > 0 && digitChar[t[i-1]] {
		i--
	}
	if i == len(t) || i == 0 || t[i-1] != '{' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(t[i:]), 10, 64)
	if err != nil {
		return math.MaxInt64, true
	}
	return n, true
}

// ReadLine reads raw octets up to CRLF (for AUTHENTICATE continuation
// responses, RFC 3501 §6.2.2, and IDLE's DONE, RFC 2177), bounded by
// MaxLineLength. The line is returned without its CRLF; a line ending in
// a bare LF is a *SyntaxError. A longer line is a *LimitError, Fatal when
// its end could not be found. Errors are returned, not recorded.
func (d *Decoder) ReadLine() (string, error) {
	var buf []byte
	for {
		p, err := d.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			if len(buf)+len(p) > 0 {
				err = unexpectedEOF(err)
			}
			return "", err
		}
		if len(buf)+len(p) > d.opts.MaxLineLength {
			le := &LimitError{Code: imap.CodeTooBig, Msg: fmt.Sprintf("line longer than %d octets", d.opts.MaxLineLength)}
			if err != nil && d.skipToLF() != nil {
				le.Fatal = true
			}
			return "", le
		}
		buf = append(buf, p...)
		if err == nil {
			break
		}
	}
	if len(buf) < 2 || buf[len(buf)-2] != '\r' {
		return "", &SyntaxError{Msg: "line ends in LF without CR"}
	}
	return string(buf[:len(buf)-2]), nil
}

// skipToLF drops octets through the next LF, at most discardFactor times
// MaxLineLength of them.
func (d *Decoder) skipToLF() error {
	budget := discardFactor * d.opts.MaxLineLength
	for budget >= 0 {
		line, err := d.r.ReadSlice('\n')
		budget -= len(line)
		if err == nil {
			return nil
		}
		if err != bufio.ErrBufferFull {
			return err
		}
	}
	return &LimitError{Code: imap.CodeTooBig, Msg: "line too long: its end was not found", Fatal: true}
}
