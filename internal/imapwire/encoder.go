package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/imap"
)

// maxQuotedLength is the longest string String writes quoted; longer ones
// go as literals, which clients parse without scanning for escapes.
const maxQuotedLength = 1024

// dateTimeLayout is date-time (RFC 3501 §9) without its quotes.
const dateTimeLayout = "02-Jan-2006 15:04:05 -0700"

// Encoder writes IMAP syntax (RFC 3501 §9) to a buffered writer. Errors
// are sticky: the first is returned by Err (and by Flush), and every
// later write is dropped.
type Encoder struct {
	w   *bufio.Writer // nil while parked (NewParkingEncoder)
	err error
	// utf8 is the mode of RFC 6855 §3 (see SetUTF8).
	utf8 bool
	// pool lends w to a parking encoder, dst is where w writes.
	pool *sync.Pool
	dst  io.Writer
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w *bufio.Writer) *Encoder { return &Encoder{w: w} }

// NewParkingEncoder returns an encoder writing to dst through a buffered
// writer it takes from pool (which holds *bufio.Writer) at its first
// write and gives back at Park. A server holds thousands of quiet
// connections (IDLE, or between commands) with nothing buffered: their
// write buffers are better shared (issue 7: memory per connection).
func NewParkingEncoder(dst io.Writer, pool *sync.Pool) *Encoder {
	return &Encoder{pool: pool, dst: dst}
}

// buf returns the buffered writer, taking one from the pool when parked.
func (e *Encoder) buf() *bufio.Writer {
	if e.w == nil {
		e.w = e.pool.Get().(*bufio.Writer)
		e.w.Reset(e.dst)
	}
	return e.w
}

// Park gives the buffered writer back to the pool when nothing is
// buffered (after Flush); the next write takes one again. It does
// nothing for an encoder made by NewEncoder, or after Pin.
func (e *Encoder) Park() {
	if e.pool == nil || e.w == nil || e.w.Buffered() > 0 {
		return
	}
	e.w.Reset(nil) // no reference to this connection from the pool
	e.pool.Put(e.w)
	e.w = nil
}

// Pin returns the buffered writer, kept for good: Park no longer gives
// it back (COMPRESS resets it onto its compressor, which it must keep).
func (e *Encoder) Pin() *bufio.Writer {
	w := e.buf()
	e.pool = nil
	return w
}

// Err returns the first error.
func (e *Encoder) Err() error { return e.err }

// Flush writes the buffered data to the connection and returns the first
// error.
func (e *Encoder) Flush() error {
	if e.err == nil {
		if e.w != nil {
			e.err = e.w.Flush()
		}
	}
	return e.err
}

func (e *Encoder) setErr(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *Encoder) str(s string) *Encoder {
	if e.err == nil {
		_, e.err = e.buf().WriteString(s)
	}
	return e
}

func (e *Encoder) byte(b byte) *Encoder {
	if e.err == nil {
		e.err = e.buf().WriteByte(b)
	}
	return e
}

// SP writes a space.
func (e *Encoder) SP() *Encoder { return e.byte(' ') }

// CRLF ends a response line.
func (e *Encoder) CRLF() *Encoder { return e.str("\r\n") }

// Special writes the single octet b (a delimiter such as "(" or "[").
func (e *Encoder) Special(b byte) *Encoder { return e.byte(b) }

// Atom writes s as is; the caller keeps it an atom (or a keyword such as
// "FETCH" or "BODY[1]").
func (e *Encoder) Atom(s string) *Encoder { return e.str(s) }

// Number writes number (RFC 3501 §9). The digits are formatted in the
// buffer's free space (bufio.Writer.AvailableBuffer), as are those of
// Number64 and DateTime: an array on the stack escaped through Write, one
// allocation per number, two per line of UID FETCH 1:* (FLAGS) (issue 7).
func (e *Encoder) Number(n uint32) *Encoder {
	if e.err == nil {
		w := e.buf()
		_, e.err = w.Write(strconv.AppendUint(w.AvailableBuffer(), uint64(n), 10))
	}
	return e
}

// Number64 writes number64 (RFC 9051 §9); a negative n is an error.
func (e *Encoder) Number64(n int64) *Encoder {
	if n < 0 {
		e.setErr(fmt.Errorf("imapwire: negative number64 %d", n))
		return e
	}
	if e.err == nil {
		w := e.buf()
		_, e.err = w.Write(strconv.AppendInt(w.AvailableBuffer(), n, 10))
	}
	return e
}

// Text writes resp-text as is (the caller keeps it free of CR and LF).
func (e *Encoder) Text(s string) *Encoder { return e.str(s) }

// Quoted writes a quoted string (RFC 3501 §9), escaping " and \. A string
// holding CR, LF or NUL cannot be quoted: that is an error (use String).
func (e *Encoder) Quoted(s string) *Encoder {
	if strings.ContainsAny(s, "\r\n\x00") {
		e.setErr(errors.New("imapwire: cannot quote a string holding CR, LF or NUL"))
		return e
	}
	e.byte('"')
	for len(s) > 0 && e.err == nil {
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			e.str(s)
			break
		}
		e.str(s[:i]).byte('\\').byte(s[i])
		s = s[i+1:]
	}
	return e.byte('"')
}

// needsLiteral reports whether String must write s as a literal: it holds
// an octet a quoted string cannot carry in IMAP4rev1 (CR, LF, NUL, 8-bit)
// or is long.
func needsLiteral(s string) bool {
	if len(s) > maxQuotedLength {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 || c >= 0x80 {
			return true
		}
	}
	return false
}

// String writes string (RFC 3501 §9): quoted when possible, else a
// literal. A NUL cannot be carried by any string; it is written in a
// literal anyway, which most clients accept.
func (e *Encoder) String(s string) *Encoder {
	if !needsLiteral(s) || e.utf8 && utf8Quotable(s) {
		return e.Quoted(s)
	}
	w := e.Literal(int64(len(s)))
	io.WriteString(w, s)
	w.Close()
	return e
}

// AString writes astring (RFC 3501 §9): an atom when s is a non-empty run
// of ASTRING-CHARs, else String.
func (e *Encoder) AString(s string) *Encoder {
	if s == "" {
		return e.String(s)
	}
	for i := 0; i < len(s); i++ {
		if !astringChar[s[i]] {
			return e.String(s)
		}
	}
	return e.str(s)
}

// NString writes nstring (RFC 3501 §9): NIL for "", else String.
func (e *Encoder) NString(s string) *Encoder {
	if s == "" {
		return e.str("NIL")
	}
	return e.String(s)
}

// Mailbox writes a mailbox name (RFC 3501 §9 mailbox), mUTF-7 encoded
// (§5.1.3), or as UTF-8 in UTF-8 mode (RFC 6855 §3); any case of INBOX is
// written as INBOX.
func (e *Encoder) Mailbox(name string) *Encoder {
	if strings.EqualFold(name, "INBOX") {
		return e.str("INBOX")
	}
	if e.utf8 {
		return e.AString(name)
	}
	return e.AString(EncodeMUTF7(name))
}

// NumSet writes a sequence set (RFC 3501 §9 sequence-set).
func (e *Encoder) NumSet(s imap.NumSet) *Encoder {
	if !s.SearchRes && len(s.Ranges) == 0 {
		e.setErr(errors.New("imapwire: empty sequence set"))
		return e
	}
	return e.str(s.String())
}

// Flag writes a flag (RFC 3501 §9 flag) as is.
func (e *Encoder) Flag(f imap.Flag) *Encoder { return e.str(string(f)) }

// DateTime writes a quoted date-time (RFC 3501 §9), in t's zone.
func (e *Encoder) DateTime(t time.Time) *Encoder {
	if e.err == nil {
		w := e.buf()
		b := append(w.AvailableBuffer(), '"')
		b = t.AppendFormat(b, dateTimeLayout)
		b = append(b, '"')
		_, e.err = w.Write(b)
	}
	return e
}

// List writes "(" item(0) SP item(1) ... ")": item writes element i.
func (e *Encoder) List(n int, item func(i int)) *Encoder {
	e.byte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.byte(' ')
		}
		item(i)
	}
	return e.byte(')')
}

// Literal writes "{size}" CRLF (RFC 3501 §9 literal) and returns a writer
// that must receive exactly size octets and then be closed (a short or
// long write is an error, recorded in the encoder too).
func (e *Encoder) Literal(size int64) io.WriteCloser {
	e.byte('{').Number64(size).byte('}').CRLF()
	return &literalWriter{e: e, n: size}
}

type literalWriter struct {
	e *Encoder
	n int64 // octets still expected
}

func (l *literalWriter) Write(p []byte) (int, error) {
	if l.e.err != nil {
		return 0, l.e.err
	}
	if int64(len(p)) > l.n {
		l.e.setErr(fmt.Errorf("imapwire: literal longer than announced by %d octets", int64(len(p))-l.n))
		return 0, l.e.err
	}
	k, err := l.e.buf().Write(p)
	l.n -= int64(k)
	l.e.setErr(err)
	return k, err
}

// ReadFrom copies r into the literal, at most the octets still expected
// (one more is read to tell a long source), through the buffered writer's
// ReadFrom: once its buffer is flushed, a writer that takes a reader itself
// gets the rest in one call (the connection's sendfile path), not in
// buffer-sized writes. io.Copy calls it.
func (l *literalWriter) ReadFrom(r io.Reader) (int64, error) {
	if l.e.err != nil {
		return 0, l.e.err
	}
	lr, ok := r.(*io.LimitedReader)
	bounded := ok && lr.N <= l.n
	if !bounded {
		lr = &io.LimitedReader{R: r, N: l.n}
	}
	n, err := l.e.buf().ReadFrom(lr)
	l.n -= n
	l.e.setErr(err)
	if err == nil && !bounded && l.n == 0 {
		// Anything left in r would overflow the literal.
		var one [1]byte
		if k, _ := io.ReadFull(r, one[:]); k > 0 {
			l.e.setErr(errors.New("imapwire: literal longer than announced"))
			err = l.e.err
		}
	}
	return n, err
}

func (l *literalWriter) Close() error {
	if l.n != 0 {
		l.e.setErr(fmt.Errorf("imapwire: literal shorter than announced by %d octets", l.n))
	}
	return l.e.err
}
