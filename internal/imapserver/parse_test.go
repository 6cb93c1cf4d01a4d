package imapserver

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func set(ranges ...imap.NumRange) imap.NumSet { return imap.NumSet{Ranges: ranges} }

func rng(start, stop uint32) imap.NumRange { return imap.NumRange{Start: start, Stop: stop} }

func hf(key, value string) imap.SearchCriteriaHeaderField {
	return imap.SearchCriteriaHeaderField{Key: key, Value: value}
}

// TestSearchParse checks the criteria handed to the session.
func TestSearchParse(t *testing.T) {
	tests := []struct {
		args string
		want imap.SearchCriteria
	}{
		{"ALL", imap.SearchCriteria{}},
		{"1:3,5 UID 2:*", imap.SearchCriteria{SeqNum: []imap.NumSet{set(rng(1, 3), rng(5, 5))},
			UID: []imap.NumSet{set(rng(2, 0))}}},
		{"ANSWERED DELETED DRAFT FLAGGED RECENT SEEN", imap.SearchCriteria{Flag: []imap.Flag{
			imap.FlagAnswered, imap.FlagDeleted, imap.FlagDraft, imap.FlagFlagged, imap.FlagRecent, imap.FlagSeen}}},
		{"UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN OLD", imap.SearchCriteria{NotFlag: []imap.Flag{
			imap.FlagAnswered, imap.FlagDeleted, imap.FlagDraft, imap.FlagFlagged, imap.FlagSeen, imap.FlagRecent}}},
		{"NEW", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagRecent}, NotFlag: []imap.Flag{imap.FlagSeen}}},
		{"KEYWORD $Work UNKEYWORD Junk", imap.SearchCriteria{Flag: []imap.Flag{"$Work"}, NotFlag: []imap.Flag{"Junk"}}},
		{`FROM a TO "b c" CC {1+}` + "\r\nd" + ` BCC e SUBJECT f HEADER X-Spam ""`, imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{
			hf("From", "a"), hf("To", "b c"), hf("Cc", "d"), hf("Bcc", "e"), hf("Subject", "f"), hf("X-Spam", "")}}},
		{"BODY x TEXT y", imap.SearchCriteria{Body: []string{"x"}, Text: []string{"y"}}},
		{`SINCE 1-Feb-2026 BEFORE "03-Mar-2026" ON 2-Feb-2026`, imap.SearchCriteria{
			Since: day(2026, 2, 1), Before: day(2026, 3, 3), On: day(2026, 2, 2)}},
		{"SENTSINCE 1-Feb-2026 SENTBEFORE 3-Mar-2026 SENTON 2-Feb-2026", imap.SearchCriteria{
			SentSince: day(2026, 2, 1), SentBefore: day(2026, 3, 3), SentOn: day(2026, 2, 2)}},
		{"SINCE 1-Feb-2026 SINCE 5-Feb-2026 BEFORE 9-Mar-2026 BEFORE 3-Mar-2026", imap.SearchCriteria{
			Since: day(2026, 2, 5), Before: day(2026, 3, 3)}},
		{"ON 1-Feb-2026 ON 2-Feb-2026", imap.SearchCriteria{On: day(2026, 2, 1),
			Not: []imap.SearchCriteria{{Not: []imap.SearchCriteria{{On: day(2026, 2, 2)}}}}}},
		{"LARGER 10 SMALLER 100 LARGER 20 SMALLER 50", imap.SearchCriteria{Larger: 20, Smaller: 50}},
		{"SMALLER 0", imap.SearchCriteria{Not: []imap.SearchCriteria{{}}}},
		{"NOT SEEN", imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagSeen}}}}},
		{"OR SEEN (FROM a DELETED)", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{
			{Flag: []imap.Flag{imap.FlagSeen}},
			{Header: []imap.SearchCriteriaHeaderField{hf("From", "a")}, Flag: []imap.Flag{imap.FlagDeleted}}}}}},
		{"OR OR 1 2 3", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{
			{Or: [][2]imap.SearchCriteria{{{SeqNum: []imap.NumSet{set(rng(1, 1))}}, {SeqNum: []imap.NumSet{set(rng(2, 2))}}}}},
			{SeqNum: []imap.NumSet{set(rng(3, 3))}}}}}},
		{"((SEEN) (DRAFT))", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen, imap.FlagDraft}}},
		{"CHARSET UTF-8 SUBJECT {5+}\r\ncaf\u00e9", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{hf("Subject", "caf\u00e9")}}},
		{"CHARSET ISO-8859-1 SUBJECT {4+}\r\ncaf\xe9", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{hf("Subject", "caf\u00e9")}}},
		{"CHARSET KOI8-R BODY {3+}\r\n\xd3\xc5\xd2", imap.SearchCriteria{Body: []string{"\u0441\u0435\u0440"}}},
		{"charset us-ascii text x", imap.SearchCriteria{Text: []string{"x"}}},
		// RFC 5032 WITHIN: the stricter bound of each kind is kept.
		{"OLDER 5 OLDER 10 YOUNGER 100 YOUNGER 50", imap.SearchCriteria{Older: 10, Younger: 50}},
		{"NOT YOUNGER 7", imap.SearchCriteria{Not: []imap.SearchCriteria{{Younger: 7}}}},
		// RFC 5182 "$" as a sequence set and a UID set.
		{"$ UID $", imap.SearchCriteria{SeqNum: []imap.NumSet{{SearchRes: true}}, UID: []imap.NumSet{{SearchRes: true}}}},
		// RFC 4731 RETURN before CHARSET.
		{"RETURN (MIN SAVE) CHARSET UTF-8 SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}},
		{"RETURN () 2", imap.SearchCriteria{SeqNum: []imap.NumSet{set(rng(2, 2))}}},
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
}

// TestSortParse checks the sort criteria handed to the session (RFC 5256
// §5 sort-criteria, RFC 5957 §3).
func TestSortParse(t *testing.T) {
	tests := []struct {
		args string
		want []imap.SortKey
	}{
		{"(DATE) UTF-8 ALL", []imap.SortKey{{Name: "DATE"}}},
		{"(reverse arrival Cc) US-ASCII ALL", []imap.SortKey{{Name: "ARRIVAL", Reverse: true}, {Name: "CC"}}},
		{"(FROM SIZE SUBJECT TO REVERSE DISPLAYFROM DISPLAYTO) UTF-8 ALL", []imap.SortKey{{Name: "FROM"}, {Name: "SIZE"},
			{Name: "SUBJECT"}, {Name: "TO"}, {Name: "DISPLAYFROM", Reverse: true}, {Name: "DISPLAYTO"}}},
		{"RETURN (COUNT) (SUBJECT) UTF-8 ALL", []imap.SortKey{{Name: "SUBJECT"}}},
		// A repeated key cannot change the order and is dropped, so a
		// long list costs no more than its distinct keys.
		{"(DATE REVERSE DATE SIZE DATE size) UTF-8 ALL", []imap.SortKey{{Name: "DATE"}, {Name: "SIZE"}}},
		{"(" + strings.TrimSpace(strings.Repeat("REVERSE ARRIVAL ", 4000)) + ") UTF-8 ALL", []imap.SortKey{{Name: "ARRIVAL", Reverse: true}}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	for _, tt := range tests {
		tc.send("s SORT " + tt.args + "\r\n")
		lines := tc.until("s")
		if last := lines[len(lines)-1]; last != "s OK SORT completed" {
			t.Errorf("SORT %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := ts.store.lastSort
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SORT %q keys = %+v, want %+v", tt.args, got, tt.want)
		}
	}
}

func TestFetchParse(t *testing.T) {
	hdr := imap.PartSpecifierHeader
	tests := []struct {
		args string
		want imap.FetchOptions
	}{
		{"ALL", imap.FetchOptions{Flags: true, InternalDate: true, RFC822Size: true, Envelope: true}},
		{"FAST", imap.FetchOptions{Flags: true, InternalDate: true, RFC822Size: true}},
		{"full", imap.FetchOptions{Flags: true, InternalDate: true, RFC822Size: true, Envelope: true, Body: true}},
		{"(UID BODYSTRUCTURE)", imap.FetchOptions{UID: true, BodyStructure: true}},
		{"BODY[]", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}},
		{"BODY.PEEK[1.2.3]<5.10>", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{
			{Part: []int{1, 2, 3}, Peek: true, Partial: &imap.SectionPartial{Offset: 5, Size: 10}}}}},
		{"(BODY[2.MIME] BODY[1.TEXT] BODY[3.HEADER])", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{
			{Part: []int{2}, Specifier: imap.PartSpecifierMIME}, {Part: []int{1}, Specifier: imap.PartSpecifierText},
			{Part: []int{3}, Specifier: hdr}}}},
		{`BODY.PEEK[HEADER.FIELDS (From "To" {2+}` + "\r\nCc)]", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{
			{Specifier: hdr, HeaderFields: []string{"From", "To", "Cc"}, Peek: true}}}},
		{"BODY[1.HEADER.FIELDS.NOT (Received)]", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{
			{Part: []int{1}, Specifier: hdr, HeaderFieldsNot: []string{"Received"}}}}},
		{"(RFC822 RFC822.HEADER RFC822.TEXT)", imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{
			{Legacy: "RFC822"}, {Specifier: hdr, Peek: true, Legacy: "RFC822.HEADER"},
			{Specifier: imap.PartSpecifierText, Legacy: "RFC822.TEXT"}}}},
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
}

func TestStoreParse(t *testing.T) {
	tests := []struct {
		args string
		want imap.StoreFlags
	}{
		{"FLAGS ()", imap.StoreFlags{Op: imap.StoreFlagsSet, Flags: []imap.Flag{}}},
		{"+FLAGS.SILENT (\\SEEN $x)", imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, "$x"}}},
		{"-flags \\Deleted \\Recent \\draft", imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagDeleted, imap.FlagDraft}}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	for _, tt := range tests {
		tc.send("s STORE 1 " + tt.args + "\r\n")
		lines := tc.until("s")
		if last := lines[len(lines)-1]; last != "s OK STORE completed" {
			t.Errorf("STORE %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := ts.store.lastStore
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("STORE %q = %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

func TestListParse(t *testing.T) {
	tests := []struct {
		args string
		want []string
	}{
		{`"" *`, []string{"", "*"}},
		{`~/Mail/ %`, []string{"~/Mail/", "%"}},
		{`"" "Entw&APw-rfe/*"`, []string{"", "Entwürfe/*"}},
		{`Archive {1+}` + "\r\n%", []string{"Archive", "%"}},
		{`inbox ""`, nil}, // answered by the server itself
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	for _, tt := range tests {
		ts.store.mu.Lock()
		ts.store.lastList = nil
		ts.store.mu.Unlock()
		tc.send("l LIST " + tt.args + "\r\n")
		lines := tc.until("l")
		if last := lines[len(lines)-1]; last != "l OK LIST completed" {
			t.Errorf("LIST %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := ts.store.lastList
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("LIST %q = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestAppendParse(t *testing.T) {
	tests := []struct {
		args string
		want imap.AppendOptions
	}{
		{"{1+}\r\nx", imap.AppendOptions{}},
		{"(\\Seen \\Recent kw) {1+}\r\nx", imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen, "kw"}}},
		{"\" 5-Jan-2026 10:11:12 -0130\" {1+}\r\nx", imap.AppendOptions{
			Time: time.Date(2026, 1, 5, 10, 11, 12, 0, time.FixedZone("", -90*60))}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	for _, tt := range tests {
		tc.send("a APPEND Archive " + tt.args + "\r\n")
		lines := tc.until("a")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "a OK [APPENDUID ") {
			t.Errorf("APPEND %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := *ts.store.lastAppend
		ts.store.mu.Unlock()
		if !got.Time.Equal(tt.want.Time) || got.Time.IsZero() != tt.want.Time.IsZero() {
			t.Errorf("APPEND %q time = %v, want %v", tt.args, got.Time, tt.want.Time)
		}
		if _, off := got.Time.Zone(); !got.Time.IsZero() {
			if _, wantOff := tt.want.Time.Zone(); off != wantOff {
				t.Errorf("APPEND %q zone offset = %d, want %d", tt.args, off, wantOff)
			}
		}
		got.Time, tt.want.Time = time.Time{}, time.Time{}
		if len(got.Flags) == 0 && len(tt.want.Flags) == 0 {
			got.Flags, tt.want.Flags = nil, nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("APPEND %q = %+v, want %+v", tt.args, got, tt.want)
		}
	}
}
