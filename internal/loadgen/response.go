package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// maxLiteral bounds one literal in a server response, so a broken server
// cannot make the tool allocate without end. A message the tool appended
// is at most a few MiB; 256 MiB leaves room for any corpus.
const maxLiteral = 256 << 20

// maxLine bounds the text of one response outside its literals.
const maxLine = 16 << 20

// respReader reads whole server responses (RFC 3501 §7): a line, and when
// it ends with a literal's "{N}" (or "~{N}", RFC 3516 §4.2) the N octets
// and the rest of the line after them, again and again.
type respReader struct {
	br  *bufio.Reader
	buf []byte // the last response, reused
}

// next returns the next response without its final CRLF. Inside it, every
// literal is kept as sent: "{N}\r\n" followed by its N octets. The slice
// is valid until the next call.
func (r *respReader) next() ([]byte, error) {
	r.buf = r.buf[:0]
	lineStart := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(r.buf) > maxLine {
				return nil, errors.New("loadgen: response line too long")
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(r.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		end := len(r.buf) - 1 // at '\n'
		if end > lineStart && r.buf[end-1] == '\r' {
			end--
		}
		n, ok := trailingLiteral(r.buf[lineStart:end])
		if !ok {
			r.buf = r.buf[:end]
			return r.buf, nil
		}
		if n > maxLiteral {
			return nil, fmt.Errorf("loadgen: literal of %d octets exceeds %d", n, maxLiteral)
		}
		if err := r.readN(int(n)); err != nil {
			return nil, err
		}
		lineStart = len(r.buf)
	}
}

// readN appends n octets, growing the buffer as they arrive rather than
// trusting n up front.
func (r *respReader) readN(n int) error {
	for n > 0 {
		step := min(n, 64<<10)
		start := len(r.buf)
		// Grown in place, not appended from a zeroed slice: at the
		// throughput the bodies figure measures, that allocation and copy
		// was most of the tool's own CPU, taken from the server's two cores.
		r.buf = slices.Grow(r.buf, step)[:start+step]
		if _, err := io.ReadFull(r.br, r.buf[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("loadgen: reading literal: %w", err)
		}
		n -= step
	}
	return nil
}

// trailingLiteral reports whether line ends with a literal's octet count,
// "{N}" (or "{N+}", which servers do not send but costs nothing to allow),
// and returns N.
func trailingLiteral(line []byte) (int64, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	i := bytes.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	digits := line[i+1 : len(line)-1]
	if len(digits) > 0 && digits[len(digits)-1] == '+' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 || len(digits) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// status is a tagged or untagged status response (RFC 3501 §7.1).
type status struct {
	Kind string // "OK", "NO", "BAD", "BYE", "PREAUTH"
	Code string // inside the brackets, e.g. "APPENDUID 38505 3955"; empty if none
	Text string // human-readable text after the code
}

func (s status) String() string {
	if s.Code != "" {
		return s.Kind + " [" + s.Code + "] " + s.Text
	}
	return s.Kind + " " + s.Text
}

// parseStatus parses "OK [CODE] text" (the part after the tag or "* ").
func parseStatus(b []byte) (status, bool) {
	kind, rest, _ := bytes.Cut(b, []byte(" "))
	var s status
	switch k := string(bytes.ToUpper(kind)); k {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		s.Kind = k
	default:
		return s, false
	}
	if len(rest) > 0 && rest[0] == '[' {
		if i := bytes.IndexByte(rest, ']'); i > 0 {
			s.Code = string(rest[1:i])
			rest = bytes.TrimLeft(rest[i+1:], " ")
		}
	}
	s.Text = string(rest)
	return s, true
}
