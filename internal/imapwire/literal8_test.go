package imapwire

import (
	"io"
	"testing"
)

// TestLiteral8 checks "~{n}" CRLF and its octets, NUL included (RFC 3516
// §7), and that a short write is an error, as for Literal.
func TestLiteral8(t *testing.T) {
	got, err := encode(func(e *Encoder) {
		w := e.Literal8(3)
		io.WriteString(w, "a\x00b")
		w.Close()
		e.SP().Atom("x")
	})
	if want := "~{3}\r\na\x00b x"; got != want || err != nil {
		t.Errorf("Literal8 = %q, %v; want %q, nil", got, err, want)
	}
	_, err = encode(func(e *Encoder) {
		w := e.Literal8(3)
		io.WriteString(w, "a")
		w.Close()
	})
	if err == nil {
		t.Error("short Literal8: no error")
	}
}

func TestHasPrefix(t *testing.T) {
	d := newTestDecoder("PREVIEW (LAZY)\r\n", DecoderOptions{})
	var a string
	if !d.ExpectAtom(&a) || !d.HasPrefix(" (") || d.HasPrefix(" (X") || !d.ExpectSP() {
		t.Fatalf("HasPrefix after %q: err %v", a, d.Err())
	}
}
