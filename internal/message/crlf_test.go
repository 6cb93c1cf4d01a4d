package message

import (
	"bytes"
	"errors"
	"testing"
)

// naiveCRLF turns every LF not preceded by CR into CRLF: the reference.
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

// writeInPieces writes data to w in pieces of size n (a CR may end one
// piece and its LF start the next).
func writeInPieces(w *CRLFWriter, data []byte, n int) error {
	for len(data) > 0 {
		k := min(n, len(data))
		if _, err := w.Write(data[:k]); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}

func TestCRLFWriter(t *testing.T) {
	tests := []struct {
		in          string
		skip, limit int64
		want        string
		wantLimit   bool
	}{
		{"a\nb\r\nc\n", 0, -1, "a\r\nb\r\nc\r\n", false},
		{"\n\n", 0, -1, "\r\n\r\n", false},
		{"\r\r\n\n", 0, -1, "\r\r\n\r\n", false},
		{"no line end", 0, -1, "no line end", false},
		{"a\nb\n", 1, 2, "\r\n", true},      // the inserted CR and its LF
		{"a\nb\n", 2, -1, "\nb\r\n", false}, // starting between CR and LF
		{"a\nb\n", 0, 0, "", true},
		{"a\nb\n", 10, -1, "", false},
	}
	for _, tt := range tests {
		for _, piece := range []int{1, 2, 100} {
			var buf bytes.Buffer
			w := &CRLFWriter{W: &buf, Skip: tt.skip, Limit: tt.limit}
			err := writeInPieces(w, []byte(tt.in), piece)
			if buf.String() != tt.want || errors.Is(err, ErrCRLFLimit) != tt.wantLimit || w.N != int64(buf.Len()) {
				t.Errorf("CRLFWriter(%q, skip %d, limit %d) in pieces of %d = %q, %v, N %d; want %q (limit reached %v)",
					tt.in, tt.skip, tt.limit, piece, buf.String(), err, w.N, tt.want, tt.wantLimit)
			}
		}
	}
}

func FuzzCRLFWriter(f *testing.F) {
	f.Add([]byte("a\nb\r\nc\n"), 3)
	f.Add([]byte("\r\n\r\r\n\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, piece int) {
		if piece <= 0 || piece > 64 {
			piece = 7
		}
		var buf bytes.Buffer
		w := NewCRLFWriter(&buf)
		if err := writeInPieces(w, data, piece); err != nil {
			t.Fatal(err)
		}
		want := naiveCRLF(data)
		if !bytes.Equal(buf.Bytes(), want) || w.N != int64(len(want)) {
			t.Fatalf("CRLFWriter(%q) = %q (N %d), want %q", data, buf.Bytes(), w.N, want)
		}
		if got := ToCRLF(data); !bytes.Equal(got, want) {
			t.Fatalf("ToCRLF(%q) = %q, want %q", data, got, want)
		}
	})
}
