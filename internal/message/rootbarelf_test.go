package message

import (
	"strings"
	"testing"
)

// TestRootBareLF: RootBareLF reads what UnmarshalPart does for the root,
// on messages with bare LFs in the header, the body, both or neither, and
// refuses what is not an encoding.
func TestRootBareLF(t *testing.T) {
	for _, msg := range []string{
		"Subject: crlf\r\n\r\nbody\r\n",
		"Subject: lf\n\nbody\nmore\n",
		"Subject: mixed\r\nTo: a@b\n\r\nline\nline\r\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b--\n",
	} {
		p, err := Parse(strings.NewReader(msg), int64(len(msg)))
		if err != nil {
			t.Fatal(err)
		}
		data, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want := int64(strings.Count(msg, "\n") - strings.Count(msg, "\r\n"))
		if got, err := RootBareLF(data); err != nil || got != want || got != p.BareLFHeader+p.BareLFBody {
			t.Errorf("RootBareLF(%q) = %d, %v; want %d", msg, got, err, want)
		}
		if _, err := RootBareLF(data[:3]); err == nil {
			t.Errorf("RootBareLF of a truncated encoding of %q: no error", msg)
		}
	}
	if _, err := RootBareLF([]byte{0xff, 1, 2}); err == nil {
		t.Error("RootBareLF of an unknown version: no error")
	}
}
