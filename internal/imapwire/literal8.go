package imapwire

import "io"

// Literal8 writes "~{size}" CRLF (RFC 3516 §7 literal8, RFC 9051 §9) and
// returns a writer that must receive exactly size octets, NUL allowed, and
// then be closed, as for Literal.
func (e *Encoder) Literal8(size int64) io.WriteCloser {
	e.byte('~').byte('{').Number64(size).byte('}').CRLF()
	return &literalWriter{e: e, n: size}
}
