package imapbackend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// condUpdates is updates plus the RFC 7162 responses.
type condUpdates struct{ updates }

func (u *condUpdates) WriteVanished(uids imap.NumSet, earlier bool) error {
	if earlier {
		return u.add("* VANISHED (EARLIER) %s", uids)
	}
	return u.add("* VANISHED %s", uids)
}

func (u *condUpdates) WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error {
	return u.add("* %d FETCH (UID %d FLAGS %s MODSEQ (%d))", seq, uid, flagList(flags), modSeq)
}

// condFetch is fetchRec plus VANISHED (EARLIER), in one stream.
type condFetch struct{ fetchRec }

func (f *condFetch) WriteVanished(uids imap.NumSet, earlier bool) error {
	fmt.Fprintf(&f.out, "* VANISHED (EARLIER) %s\n", uids)
	return nil
}

func (f *condFetch) WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error {
	return fmt.Errorf("unexpected unsolicited FETCH %d", seq)
}

var (
	_ imapserver.ModSeqWriter = (*condUpdates)(nil)
	_ imapserver.ModSeqWriter = (*condFetch)(nil)
)

// forEachCondStore runs fn on every driver, mbox included: the MODSEQ
// history lives in each driver's own index.
func forEachCondStore(t *testing.T, fn func(t *testing.T, st mailstore.Store)) {
	forEachStore(t, fn)
	t.Run("mbox", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
			t.Fatal(err)
		}
		st, err := mbox.Open(mbox.Options{Root: filepath.Join(dir, "home"), Inbox: filepath.Join(dir, "spool", "u"),
			NoFsync: true, Location: time.UTC, Now: fixedClock, Hostname: "vm", Sender: "t@vm"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

// modSeqOf returns the store's MODSEQ of uid.
func modSeqOf(t *testing.T, s *session, uid uint32) uint64 {
	t.Helper()
	msgs, err := s.sel.mb.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.UID == uid {
			return m.ModSeq
		}
	}
	t.Fatalf("UID %d not in the mailbox", uid)
	return 0
}

// TestCondStoreSessions runs two sessions on INBOX: one with QRESYNC on,
// one without, and checks what the first is told (RFC 7162 §3.1, §3.2).
func TestCondStoreSessions(t *testing.T) {
	forEachCondStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i))
		}
		a := login(t, st)
		a.Enable(imapserver.ExtQResync)
		a.Enable(imapserver.ExtCondStore)
		sd := selectBox(t, a, "INBOX", false)
		mark := sd.HighestModSeq
		if hms, _ := a.HighestModSeq(ctx); hms != mark || mark < 1 {
			t.Fatalf("HighestModSeq = %d, SELECT said %d", hms, mark)
		}
		b := login(t, st)
		selectBox(t, b, "INBOX", false)
		var bu updates
		if err := b.Store(ctx, &fetchRec{}, imap.NumKindUID, set(t, "2,4"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Deleted`}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Expunge(ctx, &bu, nil); err != nil {
			t.Fatal(err)
		}
		if got := bu.take(); got != "* 2 EXPUNGE\n* 3 EXPUNGE" {
			t.Errorf("B's EXPUNGE without QRESYNC = %q", got)
		}
		if err := b.Store(ctx, &fetchRec{}, imap.NumKindUID, set(t, "3"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Flagged`}}); err != nil {
			t.Fatal(err)
		}
		ms3 := modSeqOf(t, b, 3)

		// No VANISHED while FETCH, STORE or SEARCH answer; the flag
		// change carries UID and MODSEQ (§3.2.4).
		var au condUpdates
		if err := a.Poll(ctx, &au, false); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("* 3 FETCH (UID 3 FLAGS (\\Recent \\Flagged) MODSEQ (%d))", ms3)
		if got := au.take(); got != want {
			t.Errorf("poll without expunge = %q, want %q", got, want)
		}
		// HIGHESTMODSEQ stays below the expunge not yet reported (§3.2).
		if hms, _ := a.HighestModSeq(ctx); hms != mark {
			t.Errorf("HighestModSeq with an expunge pending = %d, want %d", hms, mark)
		}
		if err := a.Poll(ctx, &au, true); err != nil {
			t.Fatal(err)
		}
		if got := au.take(); got != "* VANISHED 2,4" {
			t.Errorf("poll = %q, want * VANISHED 2,4", got)
		}
		state := mustState(t, a)
		if hms, _ := a.HighestModSeq(ctx); hms != state.HighestModSeq {
			t.Errorf("HighestModSeq after the news = %d, want %d", hms, state.HighestModSeq)
		}

		// UID FETCH (CHANGEDSINCE mark VANISHED) (§3.2.6).
		var f condFetch
		if err := a.Fetch(ctx, &f, imap.NumKindUID, set(t, "1:*"), &imap.FetchOptions{UID: true, Flags: true, ModSeq: true, ChangedSince: mark, Vanished: true}); err != nil {
			t.Fatal(err)
		}
		want = fmt.Sprintf("* VANISHED (EARLIER) 2,4\n* 2 FETCH (UID 3 FLAGS (\\Recent \\Flagged) MODSEQ (%d))", ms3)
		if got := f.take(); got != want {
			t.Errorf("UID FETCH (CHANGEDSINCE VANISHED) =\n%s\nwant\n%s", got, want)
		}

		// STORE (UNCHANGEDSINCE mark): UID 3 changed since, UID 5 not.
		res, err := a.StoreConditional(ctx, &f, imap.NumKindSeq, set(t, "2:3"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
			Flags: []imap.Flag{"$Done"}, UnchangedSince: mark, Conditional: true})
		if err != nil {
			t.Fatal(err)
		}
		ms5 := modSeqOf(t, a, 5)
		if got, want := f.take(), fmt.Sprintf("* 3 FETCH (UID 5 MODSEQ (%d))", ms5); got != want || res.Modified.String() != "2" {
			t.Errorf("STORE (UNCHANGEDSINCE) = %q, MODIFIED %q; want %q, MODIFIED 2", got, res.Modified, want)
		}

		// SEARCH MODSEQ returns the highest MODSEQ of the matches.
		sr, err := a.Search(ctx, imap.NumKindUID, &imap.SearchCriteria{ModSeq: mark + 1}, &imap.SearchOptions{ModSeq: true})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sr.All) != "[3 5]" || sr.ModSeq != max(ms3, ms5) {
			t.Errorf("UID SEARCH MODSEQ %d = %v (MODSEQ %d), want [3 5] (MODSEQ %d)", mark+1, sr.All, sr.ModSeq, max(ms3, ms5))
		}

		// Own EXPUNGE: VANISHED, and HighestModSeq covers it (§3.2.7).
		if err := a.Store(ctx, &f, imap.NumKindUID, set(t, "1"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Deleted`}}); err != nil {
			t.Fatal(err)
		}
		f.take()
		if err := a.Expunge(ctx, &au, nil); err != nil {
			t.Fatal(err)
		}
		// (The FLAGS with $Done comes here: the fetchRec given to the
		// STORE above cannot take it.)
		if got, want := au.take(), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Done)\n* VANISHED 1"; got != want {
			t.Errorf("EXPUNGE with QRESYNC = %q, want %q", got, want)
		}
		state = mustState(t, a)
		if hms, _ := a.HighestModSeq(ctx); hms != state.HighestModSeq {
			t.Errorf("HighestModSeq after EXPUNGE = %d, want %d", hms, state.HighestModSeq)
		}

		// SELECT (QRESYNC): a fresh session resyncs from mark.
		c := login(t, st)
		c.Enable(imapserver.ExtQResync)
		c.Enable(imapserver.ExtCondStore)
		selectBox(t, c, "INBOX", true)
		known := set(t, "1:5")
		if err := c.Resync(ctx, &f, &imap.SelectQResync{UIDValidity: sd.UIDValidity, ModSeq: mark, KnownUIDs: &known}); err != nil {
			t.Fatal(err)
		}
		want = fmt.Sprintf("* VANISHED (EARLIER) 1:2,4\n* 1 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (%d))\n* 2 FETCH (UID 5 FLAGS ($Done) MODSEQ (%d))", ms3, ms5)
		if got := f.take(); got != want {
			t.Errorf("Resync =\n%s\nwant\n%s", got, want)
		}
		// §3.2.5.2: message 1 is UID 3, so expunges up to 3 are known.
		seqs, uids := set(t, "1"), set(t, "3")
		if err := c.Resync(ctx, &f, &imap.SelectQResync{UIDValidity: sd.UIDValidity, ModSeq: mark, KnownUIDs: &known, KnownSeqs: &seqs, KnownSeqUIDs: &uids}); err != nil {
			t.Fatal(err)
		}
		if got := f.take(); got != fmt.Sprintf("* VANISHED (EARLIER) 4\n* 1 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (%d))\n* 2 FETCH (UID 5 FLAGS ($Done) MODSEQ (%d))", ms3, ms5) {
			t.Errorf("Resync with sequence match data = %q", got)
		}
		// §3.2.5: another UIDVALIDITY, nothing.
		if err := c.Resync(ctx, &f, &imap.SelectQResync{UIDValidity: sd.UIDValidity + 1, ModSeq: mark}); err != nil || f.take() != "" {
			t.Errorf("Resync with a wrong UIDVALIDITY wrote something or failed: %v", err)
		}
	})
}

// TestStoreUnchangedSinceZero: UNCHANGEDSINCE 0 fails for every message
// and stores nothing (RFC 7162 §3.1.3, example 8).
func TestStoreUnchangedSinceZero(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1))
		appendMsg(t, st, "INBOX", simpleMsg(2))
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		var f fetchRec
		res, err := s.StoreConditional(ctx, &f, imap.NumKindUID, set(t, "1:*"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"$MDNSent"}, Conditional: true})
		if err != nil || res.Modified.String() != "1:2" || f.take() != "" {
			t.Errorf("STORE (UNCHANGEDSINCE 0) = %+v, %v, want MODIFIED 1:2 and no FETCH", res, err)
		}
		if msgs, _ := s.sel.mb.Messages(ctx); len(msgs[0].Flags)+len(msgs[1].Flags) != 0 {
			t.Errorf("flags stored despite UNCHANGEDSINCE 0: %+v", msgs)
		}
	})
}

// idleVanished signals each VANISHED an IDLE writes.
type idleVanished struct {
	condUpdates
	got chan string
}

func (u *idleVanished) WriteVanished(uids imap.NumSet, earlier bool) error {
	u.got <- fmt.Sprintf("* VANISHED %s", uids)
	return nil
}

// TestIdleVanished: during IDLE, an expunge by another session reaches a
// QRESYNC client as VANISHED (RFC 7162 §3.2.10).
func TestIdleVanished(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 3; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i))
		}
		a := login(t, st)
		a.Enable(imapserver.ExtQResync)
		a.Enable(imapserver.ExtCondStore)
		selectBox(t, a, "INBOX", false)
		b := login(t, st)
		selectBox(t, b, "INBOX", false)

		w := &idleVanished{got: make(chan string, 4)}
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- a.Idle(ctx, w, stop) }()
		if err := b.Store(ctx, &fetchRec{}, imap.NumKindUID, set(t, "2"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Deleted`}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Expunge(ctx, &updates{}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-w.got:
			if got != "* VANISHED 2" {
				t.Errorf("IDLE wrote %q, want * VANISHED 2", got)
			}
		case <-time.After(30 * time.Second): // a hang, not a speed check
			t.Fatal("no VANISHED during IDLE")
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
