package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// CONDSTORE and QRESYNC (RFC 7162) end to end on Maildir: the resync issue
// 6 asks for, and go-imap v2's CONDSTORE support.

// loginAlice connects imapclient as the transcript user.
func loginAlice(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c := dialIMAP(t, addr, nil)
	if err := c.Login(tsUser, tsPassword).Wait(); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	return c
}

// rawAlice is a raw connection logged in as the transcript user.
func rawAlice(t *testing.T, addr string) *rawConn {
	t.Helper()
	c := dialRaw(t, addr, false)
	c.mustOK("LOGIN " + tsUser + " " + tsPassword)
	return c
}

var (
	uidValidityRE   = regexp.MustCompile(`^\* OK \[UIDVALIDITY ([0-9]+)\]`)
	highestModSeqRE = regexp.MustCompile(`^\* OK \[HIGHESTMODSEQ ([0-9]+)\]`)
)

// codeValue returns the number re captures from the first matching line.
func codeValue(t *testing.T, lines []string, re *regexp.Regexp) uint64 {
	t.Helper()
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			n, err := strconv.ParseUint(m[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no line matches %s in %q", re, lines)
	return 0
}

// TestCondStoreResync is the QRESYNC resync of issue 6: client A selects
// with QRESYNC and goes away; client B expunges some messages and flags
// others; A comes back with SELECT (QRESYNC (uidvalidity modseq known-uids))
// and gets exactly the VANISHED (EARLIER) and FETCH (UID FLAGS MODSEQ) it
// needs, after the usual SELECT responses (RFC 7162 §3.2.5.1).
func TestCondStoreResync(t *testing.T) {
	t.Parallel()
	addr := startTranscriptServer(t, deliverBasic) // UIDs 1-5

	a := rawAlice(t, addr)
	a.mustOK("ENABLE QRESYNC")
	sel := a.mustOK("SELECT INBOX")
	uv := codeValue(t, sel, uidValidityRE)
	hms := codeValue(t, sel, highestModSeqRE)
	a.mustOK("LOGOUT")

	b := loginAlice(t, addr)
	if _, err := b.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	store := func(uids imap.UIDSet, op imap.StoreFlagsOp, flags ...imap.Flag) {
		t.Helper()
		if err := b.Store(uids, &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
			t.Fatalf("STORE %v: %v", uids, err)
		}
	}
	store(imap.UIDSetNum(2, 4), imap.StoreFlagsAdd, imap.FlagDeleted)
	if err := b.UIDExpunge(imap.UIDSetNum(2, 4)).Close(); err != nil {
		t.Fatal(err)
	}
	store(imap.UIDSetNum(5), imap.StoreFlagsAdd, "$Done")
	store(imap.UIDSetNum(1), imap.StoreFlagsDel, imap.FlagSeen)
	// B learns the new MODSEQs; A must be told exactly these.
	msgs, err := b.Fetch(imap.UIDSetNum(1, 3, 5), &imap.FetchOptions{UID: true, ModSeq: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	modSeq := map[imap.UID]uint64{}
	for _, m := range msgs {
		modSeq[m.UID] = m.ModSeq
	}
	if modSeq[3] > hms || modSeq[1] <= hms || modSeq[5] <= hms {
		t.Fatalf("MODSEQs after B's changes = %v, want 1 and 5 above %d, 3 not", modSeq, hms)
	}
	if err := b.Logout().Wait(); err != nil {
		t.Fatal(err)
	}

	a = rawAlice(t, addr)
	a.mustOK("ENABLE QRESYNC")
	got := a.mustOK(fmt.Sprintf("SELECT INBOX (QRESYNC (%d %d 1:5))", uv, hms))
	i := slices.IndexFunc(got, func(l string) bool { return highestModSeqRE.MatchString(l) })
	if i < 0 {
		t.Fatalf("SELECT (QRESYNC) gave no HIGHESTMODSEQ: %q", got)
	}
	// The SELECT responses end with the MAILBOXID (RFC 8474 §4.2).
	if j := slices.IndexFunc(got, func(l string) bool { return strings.HasPrefix(l, "* OK [MAILBOXID ") }); j > i {
		i = j
	}
	want := []string{
		"* VANISHED (EARLIER) 2,4",
		fmt.Sprintf("* 1 FETCH (UID 1 FLAGS () MODSEQ (%d))", modSeq[1]),
		fmt.Sprintf("* 3 FETCH (UID 5 FLAGS ($Done) MODSEQ (%d))", modSeq[5]),
	}
	if !slices.Equal(got[i+1:], want) {
		t.Errorf("after the SELECT responses:\ngot  %q\nwant %q", got[i+1:], want)
	}
	// The same question as a UID FETCH (§3.2.6) gets the same answer.
	got = a.mustOK(fmt.Sprintf("UID FETCH 1:5 (FLAGS) (CHANGEDSINCE %d VANISHED)", hms))
	if !slices.Equal(got, want) {
		t.Errorf("UID FETCH (CHANGEDSINCE VANISHED):\ngot  %q\nwant %q", got, want)
	}
	a.mustOK("LOGOUT")
}

// TestIMAPClientCondStore drives CONDSTORE with go-imap v2: SELECT
// (CONDSTORE), FETCH MODSEQ and CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH
// MODSEQ and STATUS HIGHESTMODSEQ.
func TestIMAPClientCondStore(t *testing.T) {
	t.Parallel()
	addr := startTranscriptServer(t, deliverBasic)
	c := loginAlice(t, addr)
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Has(imap.CapCondStore) || !caps.Has(imap.CapQResync) {
		t.Fatalf("CAPABILITY = %v, want CONDSTORE and QRESYNC", capList(caps))
	}
	sd, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sd.HighestModSeq == 0 {
		t.Fatalf("SELECT (CONDSTORE) HighestModSeq = 0")
	}
	all := imap.SeqSet{{Start: 1, Stop: 0}}
	msgs := fetch(t, c, all, &imap.FetchOptions{UID: true, ModSeq: true})
	if len(msgs) != 5 {
		t.Fatalf("FETCH 1:* (MODSEQ) gave %d messages, want 5", len(msgs))
	}
	var highest uint64
	for _, m := range msgs {
		if m.ModSeq == 0 || m.ModSeq > sd.HighestModSeq {
			t.Errorf("message %d MODSEQ %d, want in 1..%d", m.SeqNum, m.ModSeq, sd.HighestModSeq)
		}
		highest = max(highest, m.ModSeq)
	}
	if highest != sd.HighestModSeq {
		t.Errorf("highest message MODSEQ %d, HIGHESTMODSEQ %d", highest, sd.HighestModSeq)
	}

	// STORE UNCHANGEDSINCE: message 1 passes, message 5 (newer) fails.
	since := msgs[0].ModSeq
	if err := c.Store(imap.SeqSetNum(1, 5), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}},
		&imap.StoreOptions{UnchangedSince: since}).Close(); err != nil {
		t.Fatalf("STORE (UNCHANGEDSINCE %d): %v", since, err)
	}
	changed := fetch(t, c, all, &imap.FetchOptions{UID: true, Flags: true, ChangedSince: sd.HighestModSeq})
	if len(changed) != 1 || changed[0].UID != 1 || !slices.Contains(changed[0].Flags, imap.FlagFlagged) || changed[0].ModSeq <= sd.HighestModSeq {
		t.Errorf("FETCH (CHANGEDSINCE %d) = %+v, want only UID 1, \\Flagged, a new MODSEQ", sd.HighestModSeq, changed)
	}

	data, err := c.Search(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: sd.HighestModSeq + 1}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := data.AllSeqNums(); !slices.Equal(got, []uint32{1}) || len(changed) == 1 && data.ModSeq != changed[0].ModSeq {
		t.Errorf("SEARCH MODSEQ = %v (MODSEQ %d), want [1] with its MODSEQ", got, data.ModSeq)
	}

	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) == 1 && st.HighestModSeq != changed[0].ModSeq {
		t.Errorf("STATUS HIGHESTMODSEQ = %d, want %d", st.HighestModSeq, changed[0].ModSeq)
	}
}
