package message

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// textChunk is the most BodyText hands to its callback at once.
const textChunk = 32 << 10

// BodyText calls fn with the decoded text of every text/* leaf part under p
// (message/rfc822 parts included), for SEARCH BODY and TEXT (RFC 3501
// §6.4.4). Each part is undone from its Content-Transfer-Encoding (base64,
// quoted-printable; RFC 2045 §6) and converted from its charset to UTF-8;
// text in an unknown charset is passed as it is. Memory use is bounded: text
// arrives in chunks of at most 32 KiB that end at a line end (a longer line
// is split, never inside a UTF-8 sequence; a chunk of invalid UTF-8 grows
// by its replacement characters), valid only during the call.
// Parts are separated: no chunk holds text of two parts. Iteration stops when
// fn returns false. The error is an I/O error from r; undecodable content
// ends that part's text silently.
func BodyText(r io.ReaderAt, p *Part, fn func(text []byte) bool) error {
	return BodyTextBuffer(r, p, nil, fn)
}

// TextBufferSize is the size of the scratch buffer BodyTextBuffer uses.
const TextBufferSize = textChunk

// BodyTextBuffer is BodyText using buf, at least TextBufferSize long, as
// its scratch space, so that a SEARCH over many messages allocates it once
// rather than once per message; a shorter buf (nil) is allocated.
func BodyTextBuffer(r io.ReaderAt, p *Part, buf []byte, fn func(text []byte) bool) error {
	var err error
	if len(buf) < textChunk {
		buf = make([]byte, textChunk)
	}
	buf = buf[:textChunk]
	p.Walk(func(_ []int, q *Part) bool {
		if q.Type != "text" || len(q.Children) > 0 {
			return true
		}
		var more bool
		more, err = partText(r, q, buf, fn)
		return more && err == nil
	})
	return err
}

// PartText is BodyText for one leaf part, whatever its type.
func PartText(r io.ReaderAt, p *Part, fn func(text []byte) bool) error {
	_, err := partText(r, p, make([]byte, textChunk), fn)
	return err
}

// DecodedReader returns a reader of p's body with its
// Content-Transfer-Encoding undone (RFC 2045 §6): base64 and
// quoted-printable are decoded leniently, anything else is passed through.
func DecodedReader(r io.ReaderAt, p *Part) io.Reader {
	var body io.Reader = &ioErrReader{io.NewSectionReader(r, p.BodyStart, p.Size())}
	switch p.Encoding {
	case "base64":
		return &b64Reader{r: body}
	case "quoted-printable":
		return &qpReader{br: bufio.NewReaderSize(body, 4096)}
	}
	return body
}

func partText(r io.ReaderAt, p *Part, buf []byte, fn func([]byte) bool) (bool, error) {
	src := DecodedReader(r, p)
	// UTF-8 and US-ASCII text, nearly all text, is passed as read when it
	// is valid UTF-8 and converted chunk by chunk when it is not (chunks
	// never end inside a UTF-8 sequence, so the result is the stream's):
	// a transform.Reader costs 8 KiB of buffers per part, most of a SEARCH
	// BODY's allocations (issue 7).
	cs := p.Param("charset")
	utf8Text := isUTF8(cs)
	if dec, ok := CharsetDecoder(cs); ok && !utf8Text {
		src = transform.NewReader(src, dec)
	}
	n := 0
	for {
		m, err := io.ReadFull(src, buf[n:])
		n += m
		eof := err != nil
		cut := n
		if !eof {
			if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
				cut = i + 1
			} else {
				cut = runeCut(buf[:n])
			}
		}
		if cut > 0 {
			text := buf[:cut]
			if utf8Text && !utf8.Valid(text) {
				text, _ = unicode.UTF8.NewDecoder().Bytes(text)
			}
			if !fn(text) {
				return false, nil
			}
		}
		n = copy(buf, buf[cut:n])
		if eof {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return true, nil
			}
			var se *sectionErr
			if errors.As(err, &se) {
				return false, fmt.Errorf("message: read body: %w", se.err)
			}
			// A decoding error: the rest of this part is not text.
			return true, nil
		}
	}
}

// runeCut returns the length of the longest prefix of b that does not end
// inside a UTF-8 sequence.
func runeCut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// sectionErr marks an I/O error of the underlying message, as opposed to a
// decoding error.
type sectionErr struct{ err error }

func (e *sectionErr) Error() string { return e.err.Error() }
func (e *sectionErr) Unwrap() error { return e.err }

// ioErrReader marks the errors of the message reader as I/O errors.
type ioErrReader struct{ r io.Reader }

func (e *ioErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sectionErr{err}
	}
	return n, err
}

// b64Reader decodes base64 (RFC 2045 §6.8) leniently and one 4-character
// quantum at a time: everything outside the alphabet and "=" is skipped, so
// line ends and stray junk do not stop it; a padded quantum ends the data,
// and anything after it, an invalid quantum or a partial one at the end is
// an error. Working by quanta makes the output independent of how the
// input arrives and how it is read: base64.NewDecoder over a filter gave
// "000= 0000" as 2 octets and an error when read at once, 5 octets and no
// error in 7-octet reads (FuzzDecodedReader), and BINARY.SIZE and BINARY
// rely on two passes decoding alike.
type b64Reader struct {
	r    io.Reader
	in   [512]byte
	q    [4]byte // the quantum being collected
	nq   int
	out  []byte // decoded, not yet returned
	buf  [3 * 512 / 4]byte
	pad  bool  // a padded quantum was decoded: only junk may follow
	err  error // returned once out is drained
	done bool
}

func (b *b64Reader) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.done {
			return 0, b.err
		}
		b.fill()
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// fill decodes the quanta of one read from r.
func (b *b64Reader) fill() {
	n, err := b.r.Read(b.in[:])
	out := b.buf[:0]
	for _, c := range b.in[:n] {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			continue
		}
		if b.pad {
			b.finish(out, base64.CorruptInputError(0))
			return
		}
		b.q[b.nq] = c
		if b.nq++; b.nq < 4 {
			continue
		}
		b.nq = 0
		var d [3]byte
		k, derr := base64.StdEncoding.Decode(d[:], b.q[:])
		if derr != nil {
			b.finish(out, derr)
			return
		}
		out = append(out, d[:k]...)
		b.pad = k < 3
	}
	switch {
	case err == io.EOF && b.nq > 0:
		b.finish(out, io.ErrUnexpectedEOF)
	case err != nil:
		b.finish(out, err)
	default:
		b.out = out
	}
}

// finish hands out the last decoded octets and ends the data with err.
func (b *b64Reader) finish(out []byte, err error) {
	b.out, b.err, b.done = out, err, true
}

// qpReader decodes quoted-printable (RFC 2045 §6.7) leniently: a bad escape
// is kept literally, trailing whitespace is dropped, "=" at a line end is a
// soft line break.
type qpReader struct {
	br   *bufio.Reader
	out  []byte // decoded, not yet returned
	buf  []byte // backing store of out
	done bool
	err  error
}

func (q *qpReader) Read(p []byte) (int, error) {
	for len(q.out) == 0 {
		if q.done {
			return 0, q.err
		}
		q.fill()
	}
	n := copy(p, q.out)
	q.out = q.out[n:]
	return n, nil
}

func (q *qpReader) fill() {
	line, err := q.br.ReadSlice('\n')
	switch {
	case err == nil, errors.Is(err, bufio.ErrBufferFull):
	case err == io.EOF:
		q.done, q.err = true, io.EOF
	default:
		q.done, q.err = true, err
	}
	full := err == nil
	body := line
	var nl []byte
	if full {
		i := len(body) - 1
		if i > 0 && body[i-1] == '\r' {
			i--
		}
		body, nl = body[:i], body[i:]
	}
	if full || q.done {
		body = bytes.TrimRight(body, " \t")
	}
	out := q.buf[:0]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i == len(body)-1 && (full || q.done) {
			nl = nil // soft line break
			break
		}
		if i+2 < len(body) {
			h, ok1 := unhex(body[i+1])
			l, ok2 := unhex(body[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				continue
			}
		}
		out = append(out, c)
	}
	q.buf = append(out, nl...)
	q.out = q.buf
}
