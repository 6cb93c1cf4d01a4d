package imapbackend

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
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

// TestSearchTextParallel checks BODY and TEXT over more messages than
// one worker takes, against what each message holds: the parallel
// evaluation must find exactly the sequential matches, in order.
func TestSearchTextParallel(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		var wantBody, wantText []uint32
		for i := 1; i <= 300; i++ {
			var msg string
			switch {
			case i%7 == 0:
				msg = fmt.Sprintf("Subject: m%d\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
					i, base64.StdEncoding.EncodeToString([]byte("a hidden NEEDLE here\r\n")))
				wantBody = append(wantBody, uint32(i))
				wantText = append(wantText, uint32(i))
			case i%11 == 0:
				msg = fmt.Sprintf("Subject: needle in the header %d\r\n\r\nplain body\r\n", i)
				wantText = append(wantText, uint32(i))
			default:
				msg = fmt.Sprintf("Subject: m%d\r\n\r\nnothing to see %d\r\n", i, i)
			}
			appendMsg(t, st, "INBOX", msg)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", true)
		for pass := 1; pass <= 2; pass++ {
			got, err := s.Search(ctx, imap.NumKindSeq, &imap.SearchCriteria{Body: []string{"needle"}}, nil)
			if err != nil || !reflect.DeepEqual(got.All, wantBody) {
				t.Errorf("pass %d: SEARCH BODY needle = %v, %v; want %v", pass, got.All, err, wantBody)
			}
			got, err = s.Search(ctx, imap.NumKindSeq, &imap.SearchCriteria{Text: []string{"needle"}}, nil)
			if err != nil || !reflect.DeepEqual(got.All, wantText) {
				t.Errorf("pass %d: SEARCH TEXT needle = %v, %v; want %v", pass, got.All, err, wantText)
			}
		}
	})
}
