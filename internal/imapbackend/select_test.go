package imapbackend

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
)

func TestSelectData(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1), `\Seen`)
		appendMsg(t, st, "INBOX", simpleMsg(2), `\Seen`, "Work")
		appendMsg(t, st, "INBOX", simpleMsg(3))
		appendMsg(t, st, "INBOX", simpleMsg(4), "$Label1")
		s := login(t, st)

		got := selectBox(t, s, "inbox", false)
		state := mustState(t, s)
		want := &imap.SelectData{
			Flags:          []imap.Flag{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`, "$Label1", "Work"},
			PermanentFlags: []imap.Flag{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`, "$Label1", "Work", `\*`},
			NumMessages:    4,
			NumRecent:      4,
			FirstUnseen:    3,
			UIDNext:        5,
			UIDValidity:    state.UIDValidity,
			HighestModSeq:  state.HighestModSeq,
			MailboxID:      state.MailboxID,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Select = %+v, want %+v", got, want)
		}

		// A second session sees nothing recent any more; EXAMINE is
		// read-only with no permanent flags (RFC 3501 §6.3.2).
		s2 := login(t, st)
		got = selectBox(t, s2, "INBOX", true)
		if got.NumRecent != 0 || !got.ReadOnly || got.PermanentFlags == nil || len(got.PermanentFlags) != 0 {
			t.Errorf("Examine = %+v, want 0 recent, read-only, PERMANENTFLAGS ()", got)
		}
		if err := s2.Store(ctx, &fetchRec{}, imap.NumKindSeq, set(t, "1"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{`\Deleted`}}); !isCode(err, imap.CodeReadOnly) {
			t.Errorf("Store in EXAMINE = %v, want NO [READ-ONLY]", err)
		}

		_, err := s.Select(ctx, "nosuch", false)
		if !isCode(err, imap.CodeNonExistent) {
			t.Errorf("Select(nosuch) = %v, want NO [NONEXISTENT]", err)
		}
		if s.sel != nil {
			t.Errorf("a failed SELECT left a mailbox selected (RFC 3501 §6.3.1)")
		}
	})
}

func mustState(t *testing.T, s *session) mailstore.MailboxState {
	t.Helper()
	st, err := s.sel.mb.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func isCode(err error, code imap.ResponseCode) bool {
	e, ok := imap.AsError(err)
	return ok && e.Code == code
}

// TestTwoSessions checks that each session sees the other's changes only
// through Poll, and EXPUNGE only when allowed (RFC 3501 §7.4.1).
func TestTwoSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i))
		}
		a, b := login(t, st), login(t, st)
		selectBox(t, a, "INBOX", false)
		selectBox(t, b, "INBOX", false)
		var ua, ub updates
		fr := &fetchRec{}

		// Nothing changed: no updates, either way.
		if err := a.Poll(ctx, &ua, true); err != nil || ua.take() != "" {
			t.Fatalf("idle Poll wrote %v %v", ua.lines, err)
		}

		// a flags message 2: a sees its own FETCH once, b sees it on Poll.
		if err := a.Store(ctx, fr, imap.NumKindSeq, set(t, "2"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{`\Flagged`}}); err != nil {
			t.Fatal(err)
		}
		if got, want := fr.take(), `* 2 FETCH (FLAGS (\Recent \Flagged))`; got != want {
			t.Errorf("Store wrote %q, want %q", got, want)
		}
		a.Poll(ctx, &ua, true)
		if got := ua.take(); got != "" {
			t.Errorf("own change reported again: %q", got)
		}
		b.Poll(ctx, &ub, true)
		if got, want := ub.take(), `* 2 FETCH (FLAGS (\Flagged))`; got != want {
			t.Errorf("b Poll = %q, want %q", got, want)
		}

		// A new message and a new keyword.
		appendMsg(t, st, "INBOX", simpleMsg(6), "Urgent")
		b.Poll(ctx, &ub, false)
		if got, want := ub.take(), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent)\n* 6 EXISTS\n* 1 RECENT"; got != want {
			t.Errorf("b Poll after append = %q, want %q", got, want)
		}
		a.Poll(ctx, &ua, false)
		if got, want := ua.take(), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Urgent)\n* 6 EXISTS\n* 5 RECENT"; got != want {
			t.Errorf("a Poll after append = %q, want %q", got, want)
		}

		// a deletes 2 and 4 and expunges: a sees 2 then 3 (old 4).
		a.Store(ctx, fr, imap.NumKindSeq, set(t, "2,4"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Deleted`}})
		if got := fr.take(); got != "" {
			t.Errorf("silent Store wrote %q", got)
		}
		if err := a.Expunge(ctx, &ua, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := ua.take(), "* 2 EXPUNGE\n* 3 EXPUNGE"; got != want {
			t.Errorf("Expunge wrote %q, want %q", got, want)
		}
		// b may not hear of the expunge during FETCH: the messages stay
		// addressable, expunged ones are skipped, and the command ends
		// OK [EXPUNGEISSUED] (RFC 5530 §3). Their last flag change is
		// gone with them.
		b.Poll(ctx, &ub, false)
		if got, want := ub.take(), ""; got != want {
			t.Errorf("b Poll (no expunge) = %q, want %q", got, want)
		}
		if err := b.Fetch(ctx, fr, imap.NumKindSeq, set(t, "1:*"), &imap.FetchOptions{UID: true, RFC822Size: true}); err != expungeIssued {
			t.Fatalf("b Fetch of expunged messages = %v, want OK [EXPUNGEISSUED]", err)
		}
		if got, want := fr.take(), "* 1 FETCH (UID 1 RFC822.SIZE 52)\n* 3 FETCH (UID 3 RFC822.SIZE 52)\n* 5 FETCH (UID 5 RFC822.SIZE 52)\n* 6 FETCH (UID 6 RFC822.SIZE 52)"; got != want {
			t.Errorf("b Fetch = %q, want %q", got, want)
		}
		// STORE skips them and says why; COPY copies none of the set.
		if err := b.Store(ctx, fr, imap.NumKindSeq, set(t, "3:4"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{`\Flagged`}}); err != expungeIssued {
			t.Errorf("b Store of an expunged message = %v, want OK [EXPUNGEISSUED]", err)
		}
		if got := fr.take(); strings.Contains(got, "* 4 FETCH") || !strings.Contains(got, "* 3 FETCH") {
			t.Errorf("b Store wrote %q, want a FETCH for 3 only", got)
		}
		if _, err := b.Copy(ctx, imap.NumKindSeq, set(t, "3:4"), "INBOX"); err != errExpungeIssued {
			t.Errorf("b Copy of an expunged message = %v, want NO [EXPUNGEISSUED]", err)
		}
		b.Poll(ctx, &ub, true)
		if got, want := ub.take(), "* 2 EXPUNGE\n* 3 EXPUNGE"; got != want {
			t.Errorf("b Poll (expunge) = %q, want %q", got, want)
		}
		if !reflect.DeepEqual(b.sel.uids, []uint32{1, 3, 5, 6}) || !reflect.DeepEqual(a.sel.uids, b.sel.uids) {
			t.Errorf("seq maps: a %v, b %v, want [1 3 5 6]", a.sel.uids, b.sel.uids)
		}
		// Sequence numbers after the expunge.
		b.Fetch(ctx, fr, imap.NumKindSeq, set(t, "2:3"), &imap.FetchOptions{UID: true})
		if got, want := fr.take(), "* 2 FETCH (UID 3)\n* 3 FETCH (UID 5)"; got != want {
			t.Errorf("Fetch 2:3 = %q, want %q", got, want)
		}
		if err := b.Fetch(ctx, fr, imap.NumKindSeq, set(t, "5"), &imap.FetchOptions{UID: true}); !errors.Is(err, errBadSet) {
			t.Errorf("Fetch 5 of 4 = %v, want BAD", err)
		}
		if err := b.Fetch(ctx, fr, imap.NumKindUID, set(t, "100:200"), &imap.FetchOptions{}); err != nil || fr.take() != "" {
			t.Errorf("UID Fetch of no message = %v, want nothing", err)
		}
	})
}

func TestCloseExpunges(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1), `\Deleted`)
		appendMsg(t, st, "INBOX", simpleMsg(2))
		s := login(t, st)
		selectBox(t, s, "INBOX", true)
		if err := s.Unselect(ctx, true); err != nil {
			t.Fatal(err)
		}
		if n := status(t, st, "INBOX").Messages; n != 2 {
			t.Errorf("CLOSE of an EXAMINEd mailbox expunged: %d messages left", n)
		}
		selectBox(t, s, "INBOX", false)
		if err := s.Unselect(ctx, true); err != nil {
			t.Fatal(err)
		}
		if n := status(t, st, "INBOX").Messages; n != 1 {
			t.Errorf("CLOSE left %d messages, want 1", n)
		}
	})
}

func status(t *testing.T, st mailstore.Store, name string) mailstore.Status {
	t.Helper()
	s, err := st.Status(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoreKeywordCase checks that a keyword differing only in case from
// one in use is stored with the existing spelling.
func TestStoreKeywordCase(t *testing.T) {
	st := memstore.New(nil)
	appendMsg(t, st, "INBOX", "Subject: a\r\n\r\nx\r\n")
	s := login(t, st)
	selectBox(t, s, "INBOX", false)
	ctx := context.Background()
	w := &fetchRec{}
	one := imap.NumSet{Ranges: []imap.NumRange{{Start: 1, Stop: 1}}}
	for _, kw := range []imap.Flag{"Work", "WORK", "work"} {
		if err := s.Store(ctx, w, imap.NumKindSeq, one, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{kw}, Silent: true}); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].Flags; len(got) != 1 || got[0] != "Work" {
		t.Errorf("flags after STORE Work, WORK, work = %q, want [Work]", got)
	}
}
