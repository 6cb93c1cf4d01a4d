package message

import (
	"bytes"
	"strings"
)

// Header is a parsed header block (RFC 5322 §2.2). It keeps the raw bytes;
// values are unfolded only when asked for.
type Header struct {
	raw    []byte
	fields []fieldSpan
}

// fieldSpan locates one field in Header.raw. colon is -1 for a line that has
// no colon (kept, nameless, as Dovecot keeps it).
type fieldSpan struct {
	start, nameEnd, colon, end int32
}

// Field is one header field (RFC 5322 §2.2) as it appears in the message.
type Field struct {
	// Name is the field name as written, without surrounding whitespace;
	// "" for a line without a colon.
	Name string
	// Raw is the whole field: name, colon, value, continuation lines and
	// the line ending(s), exactly as stored.
	Raw []byte
}

// Value returns the field body unfolded (RFC 5322 §2.2.3: line endings
// before whitespace removed), with surrounding whitespace trimmed. Bytes are
// kept raw: no encoded-word decoding.
func (f Field) Value() string {
	i := bytes.IndexByte(f.Raw, ':')
	if i < 0 {
		return ""
	}
	return unfold(f.Raw[i+1:])
}

// ParseHeader parses a header block (RFC 5322 §2.2), such as the bytes
// HeaderStart..BodyStart of a part read back from the message. It stops at
// the first empty line. raw is kept, not copied.
func ParseHeader(raw []byte) Header { return parseHeader(raw) }

// parseHeader splits a header block into fields.
func parseHeader(raw []byte) Header {
	h := Header{raw: raw}
	n := bytes.Count(raw, []byte{'\n'})
	if n > 0 {
		h.fields = make([]fieldSpan, 0, n)
	}
	forEachField(raw, func(start, colon, end int) {
		nameEnd := colon
		for nameEnd > start && (raw[nameEnd-1] == ' ' || raw[nameEnd-1] == '\t') {
			nameEnd--
		}
		h.fields = append(h.fields, fieldSpan{int32(start), int32(nameEnd), int32(colon), int32(end)})
	})
	return h
}

// forEachField calls fn for each field of raw: its start, the index of its
// colon (-1 if none) and its end (after the last line ending). The empty line
// that ends a header block, and anything after it, is not a field.
// Continuation lines before any field form a nameless field.
func forEachField(raw []byte, fn func(start, colon, end int)) {
	start, colon, i := -1, -1, 0
	for i < len(raw) {
		j := bytes.IndexByte(raw[i:], '\n')
		next := len(raw)
		if j >= 0 {
			next = i + j + 1
		}
		line := raw[i:next]
		if isBlankLine(line) {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if start < 0 {
				start = i
			}
		} else {
			if start >= 0 {
				fn(start, colon, i)
			}
			start = i
			colon = bytes.IndexByte(line, ':')
			if colon >= 0 {
				colon += i
			}
		}
		i = next
	}
	if start >= 0 {
		fn(start, colon, i)
	}
}

func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

func (h Header) name(f fieldSpan) []byte {
	if f.colon < 0 {
		return nil
	}
	return h.raw[f.start:f.nameEnd]
}

// Len returns the number of fields.
func (h Header) Len() int { return len(h.fields) }

// Raw returns the header block as stored, including its empty line.
func (h Header) Raw() []byte { return h.raw }

// Fields returns the fields in their original order.
func (h Header) Fields() []Field {
	fs := make([]Field, len(h.fields))
	for i, f := range h.fields {
		fs[i] = Field{Name: string(h.name(f)), Raw: h.raw[f.start:f.end]}
	}
	return fs
}

// Has reports whether a field called name (case-insensitive) is present.
func (h Header) Has(name string) bool {
	for _, f := range h.fields {
		if equalFoldBytes(h.name(f), name) {
			return true
		}
	}
	return false
}

// Get returns the unfolded value of the first field called name
// (case-insensitive), raw bytes kept, or "" when there is none.
func (h Header) Get(name string) string {
	for _, f := range h.fields {
		if equalFoldBytes(h.name(f), name) {
			return unfold(h.raw[f.colon+1 : f.end])
		}
	}
	return ""
}

// Values returns the unfolded values of every field called name, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if equalFoldBytes(h.name(f), name) {
			vs = append(vs, unfold(h.raw[f.colon+1:f.end]))
		}
	}
	return vs
}

// unfold removes the line endings of a folded field body and trims the
// surrounding whitespace (RFC 5322 §2.2.3).
func unfold(b []byte) string {
	b = bytes.Trim(b, " \t\r\n")
	if bytes.IndexByte(b, '\n') < 0 {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			sb.Write(b)
			break
		}
		line := b[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		sb.Write(line)
		b = b[i+1:]
	}
	return sb.String()
}

func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// FilterHeader returns the fields of the header block raw whose names are in
// names (case-insensitive), or with not set those whose names are not, for
// BODY[HEADER.FIELDS (...)] and BODY[HEADER.FIELDS.NOT (...)] (RFC 3501
// §6.4.5). Fields keep their original bytes, continuation lines included, and
// their order; the result ends with the empty line (CRLF) RFC 3501 requires,
// except when raw has no empty line: a message with no body and no blank line
// gets none (RFC 3501 §6.4.5), so an empty selection is then "".
// A field whose last line has no line ending gets a CRLF. Nameless lines
// (no colon) match no name, so only the NOT form returns them.
func FilterHeader(raw []byte, names []string, not bool) []byte {
	out := make([]byte, 0, 256)
	forEachField(raw, func(start, colon, end int) {
		match := false
		if colon >= 0 {
			name := bytes.TrimRight(raw[start:colon], " \t")
			for _, n := range names {
				if equalFoldBytes(name, n) {
					match = true
					break
				}
			}
		}
		if match == not {
			return
		}
		out = append(out, raw[start:end]...)
		if out[len(out)-1] != '\n' {
			out = append(out, '\r', '\n')
		}
	})
	if !hasBlankLine(raw) {
		return out
	}
	return append(out, '\r', '\n')
}

// hasBlankLine reports whether the header block raw contains the empty line
// that separates a header from its body.
func hasBlankLine(raw []byte) bool {
	for i := 0; i < len(raw); {
		next := len(raw)
		if j := bytes.IndexByte(raw[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		if isBlankLine(raw[i:next]) {
			return true
		}
		i = next
	}
	return false
}
