package imapbackend

import (
	"bytes"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/message"
)

// naiveCRLF turns every LF not preceded by CR into CRLF.
func naiveCRLF(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func countBare(b []byte) int64 {
	return int64(len(naiveCRLF(b)) - len(b))
}

// checkSpan compares writeSpan with the naive conversion for one span and
// partial range, writing through a writer that takes small pieces.
func checkSpan(t *testing.T, data []byte, off, n int64) {
	t.Helper()
	sp := span{start: 0, end: int64(len(data)), bare: countBare(data)}
	full := naiveCRLF(data)
	o, m := partialRange(&imap.SectionPartial{Offset: off, Size: n}, sp.size())
	want := full[o : o+m]
	var got bytes.Buffer
	if err := writeSpan(&got, bytes.NewReader(data), sp, o, m); err != nil {
		t.Fatalf("writeSpan(%q, %d, %d) error %v", data, o, m, err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("writeSpan(%q, %d, %d) = %q, want %q", data, o, m, got.Bytes(), want)
	}
	if got := message.ToCRLF(data); !bytes.Equal(got, full) {
		t.Errorf("message.ToCRLF(%q) = %q, want %q", data, got, full)
	}
}

func TestWriteSpan(t *testing.T) {
	tests := []struct {
		data   string
		off, n int64
	}{
		{"a\nb\r\nc\n", 0, 100},
		{"a\nb\r\nc\n", 1, 1}, // the inserted CR alone
		{"a\nb\r\nc\n", 2, 1}, // the LF alone
		{"a\nb\r\nc\n", 1, 2},
		{"a\nb\r\nc\n", 9, 5},
		{"a\nb\r\nc\n", 50, 5},
		{"\n\n\n", 0, 6},
		{"\r\r\n\n", 0, 10},
		{"no line end", 3, 4},
		{"", 0, 10},
	}
	for _, tt := range tests {
		checkSpan(t, []byte(tt.data), tt.off, tt.n)
	}
}

func FuzzWriteSpan(f *testing.F) {
	f.Add([]byte("a\nb\r\nc\n"), int64(1), int64(3))
	f.Add([]byte("\r\n\n\r"), int64(0), int64(9))
	f.Fuzz(func(t *testing.T, data []byte, off, n int64) {
		if off < 0 || n < 0 || len(data) > 4096 {
			return
		}
		checkSpan(t, data, off, n)
	})
}
