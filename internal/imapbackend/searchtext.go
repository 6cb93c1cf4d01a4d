package imapbackend

import (
	"bytes"
	"unicode/utf8"
)

// textSearcher finds a case-folded needle in decoded text for SEARCH BODY
// and TEXT (RFC 3501 §6.4.4: case-insensitive substrings), reusing its
// buffers from message to message: one per SEARCH worker.
type textSearcher struct {
	body  []byte // message.BodyTextBuffer's scratch space
	lower []byte // text lowered, ASCII fast path
}

// contains reports whether text contains needle (already folded with
// fold) once text is folded the same way: bytes.ToLower, whose result it
// gives exactly. ASCII text, the common case, is lowered into a reused
// buffer instead of a new one per chunk.
func (ts *textSearcher) contains(text, needle []byte) bool {
	for _, c := range text {
		if c >= utf8.RuneSelf {
			return bytes.Contains(bytes.ToLower(text), needle)
		}
	}
	if cap(ts.lower) < len(text) {
		ts.lower = make([]byte, len(text), max(len(text), 4<<10))
	}
	low := ts.lower[:len(text)]
	for i, c := range text {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return bytes.Contains(low, needle)
}
