package message

import (
	"fmt"
	"os"
	"testing"
)

// TestUWSizes checks octet and line counts against what UW imapd 2007f
// answered for the same messages (shared/uw-observed.md §3.1, FETCH
// BODYSTRUCTURE and RFC822.SIZE of INBOX messages 1-4, stored with CRLF).
func TestUWSizes(t *testing.T) {
	type sl struct{ size, lines int64 }
	tests := []struct {
		file   string
		total  int64
		leaves map[string]sl // section -> body size and lines
	}{
		{"uw1-plain.eml", 521, map[string]sl{"1": {81, 6}}},
		{"uw2-qp-encoded-words.eml", 497, map[string]sl{"1": {79, 2}}},
		{"uw3-alternative.eml", 629, map[string]sl{"1": {49, 1}, "2": {89, 1}}},
		// UW gives no line count for the base64 attachment; its size is 50.
		{"uw4-mixed-attachment.eml", 707, map[string]sl{"1": {18, 1}, "2": {50, 1}}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != tt.total {
			t.Errorf("%s: RFC822.SIZE = %d, want %d", tt.file, len(data), tt.total)
		}
		p, _ := parseFile(t, "testdata/"+tt.file)
		for sec, want := range tt.leaves {
			var n int
			fmt.Sscan(sec, &n)
			q, ok := p.Section([]int{n})
			if !ok {
				t.Errorf("%s: Section(%s) not found", tt.file, sec)
				continue
			}
			if got := (sl{q.Size(), q.BodyLines}); got != want {
				t.Errorf("%s: part %s size, lines = %v, want %v", tt.file, sec, got, want)
			}
		}
	}
}
