package message

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func collectText(t *testing.T, msg string) string {
	t.Helper()
	p, err := Parse(strings.NewReader(msg), int64(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	var cur bytes.Buffer
	err = BodyText(strings.NewReader(msg), p, func(b []byte) bool {
		cur.Write(b)
		return true
	})
	if err != nil {
		t.Fatalf("BodyText: %v", err)
	}
	return cur.String()
}

func TestBodyText(t *testing.T) {
	uw2, err := readFile("testdata/uw2-qp-encoded-words.eml")
	if err != nil {
		t.Fatal(err)
	}
	latin, err := readFile("testdata/8bit-headers.eml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, msg, want string
	}{
		{"qp utf-8", uw2, "Café menu:\r\n>From the kitchen: soup, bread, crème brûlée.\r\n"},
		{"8bit latin-1", latin, "Schöne Grüße.\r\n"},
		{"base64", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nw6l0w6kK\r\nYQ==\r\n", "été\na"},
		{"base64 junk", "Content-Transfer-Encoding: BASE64\r\n\r\naGVs*bG8=\r\n", "hello"},
		{"qp soft breaks", "Content-Transfer-Encoding: quoted-printable\r\n\r\nlong=\r\nline  \r\nbad=ZZ end=\r\n", "longline\r\nbad=ZZ end"},
		{"multipart skips non-text",
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--b--\r\n",
			"one<p>two</p>"},
		{"nested message", "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ninner text\r\n", "inner text\r\n"},
		{"unknown charset kept", "Content-Type: text/plain; charset=x-nope\r\n\r\n\xff\xfe\r\n", "\xff\xfe\r\n"},
	}
	for _, tt := range tests {
		got := collectText(t, tt.msg)
		if got != tt.want {
			t.Errorf("%s: BodyText = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

func TestBodyTextChunks(t *testing.T) {
	// 100k of "é" lines, and one 70k line: chunks end at line ends or at
	// rune boundaries, and are at most 32 KiB.
	var b strings.Builder
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	for b.Len() < 100<<10 {
		b.WriteString("ééééééééé\n")
	}
	b.WriteString(strings.Repeat("é", 35<<10))
	msg := b.String()
	p, _ := Parse(strings.NewReader(msg), int64(len(msg)))
	var all bytes.Buffer
	err := BodyText(strings.NewReader(msg), p, func(c []byte) bool {
		if len(c) > textChunk {
			t.Fatalf("chunk of %d bytes", len(c))
		}
		if !bytes.HasSuffix(c, []byte("\n")) && !strings.HasSuffix(string(c), "é") {
			t.Fatalf("chunk ends with %q", c[len(c)-3:])
		}
		all.Write(c)
		return true
	})
	if err != nil || all.String() != msg[p.BodyStart:] {
		t.Fatalf("BodyText = %d bytes, %v, want %d bytes", all.Len(), err, len(msg)-int(p.BodyStart))
	}
	// Stopping early.
	calls := 0
	_ = BodyText(strings.NewReader(msg), p, func([]byte) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("BodyText calls after false = %d, want 1", calls)
	}
}

type failReader struct{ n int64 }

var errDisk = errors.New("disk on fire")

func (f failReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.n {
		return 0, errDisk
	}
	n := copy(p, bytes.Repeat([]byte("a\n"), len(p)/2+1)[:min(int64(len(p)), f.n-off)])
	if int64(n) < int64(len(p)) {
		return n, errDisk
	}
	return n, nil
}

func TestIOErrors(t *testing.T) {
	if _, err := Parse(failReader{100}, 1000); !errors.Is(err, errDisk) {
		t.Errorf("Parse(failing reader) error = %v, want %v", err, errDisk)
	}
	msg := "Content-Transfer-Encoding: base64\r\n\r\n" + strings.Repeat("QUJD", 1000)
	p, _ := Parse(strings.NewReader(msg), int64(len(msg)))
	r := failReader{p.BodyStart + 10}
	if err := BodyText(r, p, func([]byte) bool { return true }); !errors.Is(err, errDisk) {
		t.Errorf("BodyText(failing reader) error = %v, want %v", err, errDisk)
	}
	var _ io.ReaderAt = r
}
