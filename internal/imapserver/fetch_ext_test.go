package imapserver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// TestFetchExtParse checks the FETCH items of BINARY (RFC 3516 §4.2),
// PREVIEW (RFC 8970 §3) and OBJECTID (RFC 8474 §7) handed to the session.
func TestFetchExtParse(t *testing.T) {
	bs := func(peek bool, part ...int) *imap.FetchItemBinarySection {
		return &imap.FetchItemBinarySection{Part: part, Peek: peek}
	}
	tests := []struct {
		args string
		want imap.FetchOptions
	}{
		{"BINARY[]", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bs(false)}}},
		{"binary.peek[1.2]", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bs(true, 1, 2)}}},
		{"BINARY.PEEK[3]<10.20>", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{
			{Part: []int{3}, Peek: true, Partial: &imap.SectionPartial{Offset: 10, Size: 20}}}}},
		{"(UID BINARY.SIZE[1] BINARY.SIZE[])", imap.FetchOptions{UID: true, BinarySize: []*imap.FetchItemBinarySection{bs(false, 1), bs(false)}}},
		{"PREVIEW", imap.FetchOptions{Preview: true}},
		{"(PREVIEW (LAZY) UID)", imap.FetchOptions{Preview: true, UID: true}},
		{"(UID PREVIEW (lazy))", imap.FetchOptions{Preview: true, UID: true}},
		{"(EMAILID THREADID)", imap.FetchOptions{EmailID: true, ThreadID: true}},
		{"(UID SAVEDATE)", imap.FetchOptions{UID: true, SaveDate: true}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	tc.send("e EXAMINE INBOX\r\n")
	tc.until("e")
	for _, tt := range tests {
		tc.send("f FETCH 1 " + tt.args + "\r\n")
		lines := tc.until("f")
		if last := lines[len(lines)-1]; last != "f OK FETCH completed" {
			t.Errorf("FETCH %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := ts.store.lastFetch
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("FETCH %q options = %+v, want %+v", tt.args, *got, tt.want)
		}
	}
	bad := []struct{ args, want string }{
		{"BINARY[1.MIME]", "f BAD Invalid body section"},
		{"BINARY[HEADER]", "f BAD Invalid body section"},
		{"BINARY[0]", "f BAD Invalid body section"},
		{"BINARY.SIZE[1]<0.5>", `f BAD expected SP or ")", found "<"`},
		{"BINARY.FOO[1]", "f BAD Unknown FETCH item"},
		{"PREVIEW (FUZZY)", "f BAD Unknown PREVIEW modifier"},
	}
	for _, tt := range bad {
		tc.send("f FETCH 1 (" + tt.args + ")\r\n")
		lines := tc.until("f")
		if last := lines[len(lines)-1]; last != tt.want {
			t.Errorf("FETCH (%s): %q, want %q", tt.args, lines, tt.want)
		}
	}
}

// TestSearchExtParse checks the search keys of SAVEDATE (RFC 8514 §4.3)
// and OBJECTID (RFC 8474 §6) handed to the session.
func TestSearchExtParse(t *testing.T) {
	tests := []struct {
		args string
		want imap.SearchCriteria
	}{
		{"SAVEDATESUPPORTED", imap.SearchCriteria{}},
		{"SAVEDSINCE 1-Feb-2026 SAVEDBEFORE 3-Mar-2026 SAVEDON 2-Feb-2026", imap.SearchCriteria{
			SavedSince: day(2026, 2, 1), SavedBefore: day(2026, 3, 3), SavedOn: day(2026, 2, 2)}},
		{"SAVEDON 1-Feb-2026 (SAVEDON 2-Feb-2026)", imap.SearchCriteria{SavedOn: day(2026, 2, 1),
			Not: []imap.SearchCriteria{{Not: []imap.SearchCriteria{{SavedOn: day(2026, 2, 2)}}}}}},
		{"EMAILID M1-a_b THREADID T9 EMAILID M2", imap.SearchCriteria{EmailID: []string{"M1-a_b", "M2"}, ThreadID: []string{"T9"}}},
		{"NOT (EMAILID M1)", imap.SearchCriteria{Not: []imap.SearchCriteria{{EmailID: []string{"M1"}}}}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	for _, tt := range tests {
		tc.send("s SEARCH " + tt.args + "\r\n")
		lines := tc.until("s")
		if last := lines[len(lines)-1]; last != "s OK SEARCH completed" {
			t.Errorf("SEARCH %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := ts.store.lastSearch
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("SEARCH %q criteria = %+v, want %+v", tt.args, *got, tt.want)
		}
	}
	for _, args := range []string{"EMAILID", "EMAILID a.b", "SAVEDON", "SAVEDON x", "SAVEDATE 1-Feb-2026"} {
		tc.send("s SEARCH " + args + "\r\n")
		lines := tc.until("s")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "s BAD ") {
			t.Errorf("SEARCH %q: %q, want BAD", args, lines)
		}
	}
}
