package message

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// FuzzBodyTextUTF8 checks that BodyText's UTF-8 fast path gives the text
// a UTF-8 decoder over the whole decoded body gives, whatever the bytes
// and however they fall into chunks.
func FuzzBodyTextUTF8(f *testing.F) {
	f.Add("utf-8", "", []byte("caf\xc3\xa9 cr\xe8me\r\n"), 1)
	f.Add("us-ascii", "quoted-printable", []byte("a=C3=\r\n=A9 \xff\r\n"), 3)
	f.Add("UTF-8", "base64", []byte("w6k=\r\n"), 0)
	f.Add("utf-8", "", []byte(strings.Repeat("\xe2\x82\xac", 20000)), 2)
	f.Fuzz(func(t *testing.T, charset, cte string, body []byte, pad int) {
		if !isUTF8(charset) || strings.ContainsAny(charset+cte, "\r\n;\"") || pad < 0 || pad > 40000 {
			return
		}
		// Padding moves the chunk boundaries over the body.
		body = append(bytes.Repeat([]byte{'x'}, pad), body...)
		msg := "Content-Type: text/plain; charset=\"" + charset + "\"\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + string(body)
		p, err := Parse(strings.NewReader(msg), int64(len(msg)))
		if err != nil {
			return
		}
		r := strings.NewReader(msg)
		want, _ := io.ReadAll(transform.NewReader(DecodedReader(r, p), unicode.UTF8.NewDecoder()))
		var got []byte
		if err := BodyText(r, p, func(text []byte) bool { got = append(got, text...); return true }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("BodyText = %q, want %q", got, want)
		}
	})
}
