package imapbackend

import (
	"bytes"
	"testing"
)

// TestTextSearcherContains checks the ASCII fast path against its
// definition, bytes.ToLower then bytes.Contains, on both paths.
func TestTextSearcherContains(t *testing.T) {
	tests := []struct {
		text, needle string
		want         bool
	}{
		{"The Zeppelin Has Landed\r\n", "zeppelin", true},
		{"THE ZEPPELIN", "zeppelin", true},
		{"zeppeli", "zeppelin", false},
		{"", "", true},
		{"abc", "", true},
		{"[@`{", "[@`{", true}, // the bytes around the letters are not folded
		{"CRÈME BRÛLÉE", "crème", true},
		{"Ünïcödé and ASCII", "ünïcödé", true},
		{"İstanbul", "istanbul", true}, // unicode.ToLower, as bytes.ToLower folds
		{"caf\xe9 raw", "caf", true},
		{"caf\xe9 raw", "café", false},
	}
	var ts textSearcher
	for _, tt := range tests {
		needle := []byte(fold(tt.needle))
		if got := ts.contains([]byte(tt.text), needle); got != tt.want {
			t.Errorf("contains(%q, %q) = %v, want %v", tt.text, needle, got, tt.want)
		}
		if ref := bytes.Contains(bytes.ToLower([]byte(tt.text)), needle); ref != tt.want {
			t.Errorf("reference(%q, %q) = %v, want %v (bad test)", tt.text, needle, ref, tt.want)
		}
	}
}

// FuzzTextSearcher checks that contains gives what bytes.ToLower and
// bytes.Contains give, whatever the bytes, with its buffer reused.
func FuzzTextSearcher(f *testing.F) {
	f.Add([]byte("The Zeppelin Has Landed"), "ZEPPELIN")
	f.Add([]byte("CRÈME \xff brûlée"), "Crème")
	var ts textSearcher
	f.Fuzz(func(t *testing.T, text []byte, needle string) {
		nb := []byte(fold(needle))
		if got, want := ts.contains(text, nb), bytes.Contains(bytes.ToLower(text), nb); got != want {
			t.Fatalf("contains(%q, %q) = %v, want %v", text, nb, got, want)
		}
	})
}
