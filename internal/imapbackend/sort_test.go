package imapbackend

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/sortthread"
)

// threadCorpus is eight messages in three conversations: "Plan" (1, with
// replies 2 and 5, and 4 replying to 2), "Other" (3, and 6 forwarding it
// without references) and two replies (7, 8) to a message not in the
// mailbox. Sent dates rise with the sequence number; internal dates too,
// except that 3 arrived first.
var threadCorpus = []struct{ from, subject, id, refs string }{
	{"Aaron Zed <zed@example.org>", "Plan", "<a@x>", ""},
	{"amy@example.org", "Re: Plan", "<b@x>", "<a@x>"},
	{"Bob@example.org", "Other", "<c@x>", ""},
	{"amy@example.org", "Re: Plan", "<d@x>", "<a@x> <b@x>"},
	{"carl@example.org", "RE: plan", "<e@x>", "<a@x>"},
	{"bob@example.org", "Fwd: Other", "<f@x>", ""},
	{"dan@example.org", "Re: Missing", "<g@x>", "<missing@x>"},
	{"eve@example.org", "Re: Missing", "<h@x>", "<missing@x>"},
}

// fillThreadCorpus appends threadCorpus to INBOX; UIDs are sequence
// numbers + 10 (a first batch of ten is expunged).
func fillThreadCorpus(t *testing.T, st mailstore.Store) *session {
	t.Helper()
	ctx := context.Background()
	var first []uint32
	for i := 0; i < 10; i++ {
		first = append(first, appendMsg(t, st, "INBOX", simpleMsg(i)))
	}
	pre := login(t, st)
	selectBox(t, pre, "INBOX", false)
	if _, err := pre.sel.mb.Expunge(ctx, first); err != nil {
		t.Fatal(err)
	}
	for i, m := range threadCorpus {
		var b strings.Builder
		fmt.Fprintf(&b, "From: %s\r\nTo: alice@example.org\r\nSubject: %s\r\nMessage-ID: %s\r\n", m.from, m.subject, m.id)
		fmt.Fprintf(&b, "Date: %d Nov 2026 10:00:00 +0000\r\n", i+1)
		if m.refs != "" {
			fmt.Fprintf(&b, "References: %s\r\n", m.refs)
		}
		fmt.Fprintf(&b, "\r\nBody %d.%s\r\n", i+1, strings.Repeat(" x", 100*(8-i))) // sizes fall
		arrival := time.Date(2026, 11, 1+i, 12, 0, 0, 0, time.UTC)
		if i == 2 {
			arrival = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		if _, _, err := st.Append(ctx, "INBOX", strings.NewReader(b.String()), mailstore.AppendOptions{InternalDate: arrival}); err != nil {
			t.Fatal(err)
		}
	}
	s := login(t, st)
	selectBox(t, s, "INBOX", false)
	return s
}

func TestSort(t *testing.T) {
	tests := []struct {
		keys string // "REVERSE DATE" style, space-separated criteria
		c    *imap.SearchCriteria
		want []uint32 // sequence numbers
	}{
		{"DATE", &imap.SearchCriteria{}, []uint32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"REVERSE DATE", &imap.SearchCriteria{}, []uint32{8, 7, 6, 5, 4, 3, 2, 1}},
		{"ARRIVAL", &imap.SearchCriteria{}, []uint32{3, 1, 2, 4, 5, 6, 7, 8}},
		{"SUBJECT", &imap.SearchCriteria{}, []uint32{7, 8, 3, 6, 1, 2, 4, 5}},
		{"SUBJECT REVERSE DATE", &imap.SearchCriteria{}, []uint32{8, 7, 6, 3, 5, 4, 2, 1}},
		{"FROM", &imap.SearchCriteria{}, []uint32{2, 4, 3, 6, 5, 7, 8, 1}},
		{"DISPLAYFROM", &imap.SearchCriteria{}, []uint32{1, 2, 4, 3, 6, 5, 7, 8}},
		{"SIZE", &imap.SearchCriteria{}, []uint32{8, 7, 6, 5, 4, 3, 2, 1}},
		{"TO", &imap.SearchCriteria{}, []uint32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"CC", &imap.SearchCriteria{}, []uint32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"REVERSE SUBJECT", crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "2:7")} }), []uint32{2, 4, 5, 3, 6, 7}},
		{"FROM", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "nothing"}}
		}), nil},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := fillThreadCorpus(t, st)
		for _, tt := range tests {
			keys := parseSortKeys(tt.keys)
			got, err := s.Sort(ctx, imap.NumKindSeq, keys, tt.c, &imap.SearchOptions{})
			if err != nil || !reflect.DeepEqual(got.All, tt.want) {
				t.Errorf("SORT (%s) = %v, %v, want %v", tt.keys, got, err, tt.want)
			}
			var wantUIDs []uint32
			for _, n := range tt.want {
				wantUIDs = append(wantUIDs, n+10)
			}
			got, err = s.Sort(ctx, imap.NumKindUID, keys, tt.c, &imap.SearchOptions{})
			if err != nil || !reflect.DeepEqual(got.All, wantUIDs) {
				t.Errorf("UID SORT (%s) = %v, %v, want %v", tt.keys, got, err, wantUIDs)
			}
		}
	})
}

// parseSortKeys reads "REVERSE DATE SUBJECT" into sort keys.
func parseSortKeys(s string) []imap.SortKey {
	var keys []imap.SortKey
	rev := false
	for _, f := range strings.Fields(s) {
		if f == "REVERSE" {
			rev = true
			continue
		}
		keys = append(keys, imap.SortKey{Name: f, Reverse: rev})
		rev = false
	}
	return keys
}

func TestThread(t *testing.T) {
	tests := []struct {
		alg  imap.ThreadAlgorithm
		kind imap.NumKind
		c    *imap.SearchCriteria
		want string
	}{
		{imap.ThreadReferences, imap.NumKindSeq, &imap.SearchCriteria{}, "(1 (2 4)(5))(3 6)((7)(8))"},
		{imap.ThreadReferences, imap.NumKindUID, &imap.SearchCriteria{}, "(11 (12 14)(15))(13 16)((17)(18))"},
		{imap.ThreadOrderedSubject, imap.NumKindSeq, &imap.SearchCriteria{}, "(1 (2)(4)(5))(3 6)(7 8)"},
		{imap.ThreadOrderedSubject, imap.NumKindUID, &imap.SearchCriteria{}, "(11 (12)(14)(15))(13 16)(17 18)"},
		// Without 1, its replies are siblings under a missing parent.
		{imap.ThreadReferences, imap.NumKindSeq, crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "2:8")} }),
			"((2 4)(5))(3 6)((7)(8))"},
		{imap.ThreadReferences, imap.NumKindSeq, crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "7")} }), "(7)"},
		{imap.ThreadReferences, imap.NumKindSeq, crit(func(c *imap.SearchCriteria) { c.Larger = 1 << 20 }), ""},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := fillThreadCorpus(t, st)
		for _, tt := range tests {
			got, err := s.Thread(ctx, tt.kind, tt.alg, tt.c)
			if err != nil || formatThreads(got) != tt.want {
				t.Errorf("THREAD %s (kind %d) = %q, %v, want %q", tt.alg, tt.kind, formatThreads(got), err, tt.want)
			}
		}
	})
}

// formatThreads prints thread-lists as the THREAD response does.
func formatThreads(ts []imap.Thread) string {
	var b strings.Builder
	var one func(t imap.Thread)
	one = func(t imap.Thread) {
		b.WriteByte('(')
		for i, n := range t.Nums {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		}
		if len(t.Nums) > 0 && len(t.Children) > 0 {
			b.WriteByte(' ')
		}
		for _, c := range t.Children {
			one(c)
		}
		b.WriteByte(')')
	}
	for _, t := range ts {
		one(t)
	}
	return b.String()
}

// TestThreadsOfMatchesFormat checks that threadsOf reads sortthread's trees
// as sortthread.FormatThreads prints them, over inputs with missing
// parents, loops and subject merges.
func TestThreadsOfMatchesFormat(t *testing.T) {
	ids := []string{"", "<a@x>", "<b@x>", "<c@x>", "<d@x>"}
	subjects := []string{"x", "Re: x", "y", "Fwd: y", ""}
	for seed := 0; seed < 500; seed++ {
		n := 1 + seed%9
		msgs := make([]sortthread.Message, n)
		r := uint32(seed*2654435761 + 1)
		next := func(k int) int { r = r*1664525 + 1013904223; return int(r>>16) % k }
		for i := range msgs {
			msgs[i] = sortthread.Message{
				Seq: uint32(i + 1), UID: uint32(i + 1),
				Date:       time.Date(2026, 1, 1+next(5), 0, 0, 0, 0, time.UTC),
				Subject:    subjects[next(len(subjects))],
				MessageID:  ids[next(len(ids))],
				InReplyTo:  ids[next(len(ids))],
				References: ids[next(len(ids))] + " " + ids[next(len(ids))],
			}
		}
		num := func(m *sortthread.Message) uint32 { return m.Seq }
		for _, nodes := range [][]*sortthread.Node{sortthread.ThreadReferences(msgs), sortthread.ThreadOrderedSubject(msgs)} {
			if got, want := formatThreads(threadsOf(nodes, num)), sortthread.FormatThreads(nodes, num); got != want {
				t.Fatalf("seed %d: threadsOf printed %q, FormatThreads %q", seed, got, want)
			}
		}
	}
}

// TestSortModSeq: with opts.ModSeq, Sort gives the highest MODSEQ of its
// matches (RFC 7162 §3.1.9) in the same pass, equal to what Search says.
func TestSortModSeq(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := fillThreadCorpus(t, st)
		crit := &imap.SearchCriteria{SeqNum: []imap.NumSet{set(t, "2:4")}}
		if err := s.Store(ctx, &fetchRec{}, imap.NumKindSeq, set(t, "3"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Flagged`}}); err != nil {
			t.Fatal(err)
		}
		want, err := s.Search(ctx, imap.NumKindSeq, crit, &imap.SearchOptions{ModSeq: true})
		if err != nil || want.ModSeq == 0 {
			t.Fatalf("Search MODSEQ = %v, %v; want a MODSEQ", want, err)
		}
		got, err := s.Sort(ctx, imap.NumKindSeq, []imap.SortKey{{Name: "SIZE"}}, crit, &imap.SearchOptions{ModSeq: true})
		if err != nil || got.ModSeq != want.ModSeq || len(got.All) != 3 {
			t.Errorf("Sort MODSEQ = %+v, %v; want 3 matches and MODSEQ %d", got, err, want.ModSeq)
		}
		got, err = s.Sort(ctx, imap.NumKindSeq, []imap.SortKey{{Name: "SIZE"}}, crit, &imap.SearchOptions{})
		if err != nil || got.ModSeq != 0 {
			t.Errorf("Sort without MODSEQ = %+v, %v; want MODSEQ 0", got, err)
		}
	})
}
