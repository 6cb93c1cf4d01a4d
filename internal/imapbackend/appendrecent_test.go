package imapbackend

import (
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestAppendRecent: a message a session APPENDs to the mailbox it has
// selected read-write is \Recent to that session, and to no other (RFC
// 3501 §2.3.2), whether the store claims it in the APPEND's transaction
// (maildir: mailstore.SessionAppender) or the poll after it claims it
// (memstore); a message appended elsewhere, or into a mailbox examined
// read-only, is left for the next session to claim, and so is everything
// older that nobody claimed yet.
func TestAppendRecent(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		if err := st.Create(ctx, "Other", ""); err != nil {
			t.Fatal(err)
		}
		appendMsg(t, st, "INBOX", simpleMsg(1))
		appendMsg(t, st, "INBOX", simpleMsg(2))
		a := login(t, st)
		if d := selectBox(t, a, "INBOX", false); d.NumRecent != 2 {
			t.Fatalf("a SELECT: %d RECENT, want 2", d.NumRecent)
		}
		var u updates
		appendAs := func(s *session, box string, n int) uint32 {
			t.Helper()
			msg := simpleMsg(n)
			d, err := s.Append(ctx, box, strings.NewReader(msg), int64(len(msg)), &imap.AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return d.UID
		}
		poll := func(s *session, want string) {
			t.Helper()
			if err := s.Poll(ctx, &u, true); err != nil {
				t.Fatal(err)
			}
			if got := u.take(); got != want {
				t.Errorf("Poll = %q, want %q", got, want)
			}
		}
		recentFlag := func(s *session, seqs string, want string) {
			t.Helper()
			fr := &fetchRec{}
			if err := s.Fetch(ctx, fr, imap.NumKindSeq, set(t, seqs), &imap.FetchOptions{Flags: true}); err != nil {
				t.Fatal(err)
			}
			if got := fr.take(); got != want {
				t.Errorf("FETCH %s FLAGS = %q, want %q", seqs, got, want)
			}
		}

		// Its own APPEND: recent to a, claimed by the APPEND itself
		// where the store can.
		appendAs(a, "INBOX", 3)
		_, inOne := st.(mailstore.SessionAppender)
		if stat, err := st.Status(ctx, "INBOX"); err != nil || (stat.Recent == 0) != inOne {
			t.Errorf("unclaimed after a's APPEND = %d, %v; want 0 only for a SessionAppender (%v)", stat.Recent, err, inOne)
		}
		poll(a, "* 3 EXISTS\n* 3 RECENT")
		recentFlag(a, "3", `* 3 FETCH (FLAGS (\Recent))`)
		appendAs(a, "INBOX", 4)
		appendAs(a, "INBOX", 5)
		poll(a, "* 5 EXISTS\n* 5 RECENT")

		// Another program delivers 6, then a appends 7 before it polls:
		// both are a's, claimed by the poll.
		appendMsg(t, st, "INBOX", simpleMsg(6))
		appendAs(a, "INBOX", 7)
		poll(a, "* 7 EXISTS\n* 7 RECENT")
		recentFlag(a, "6:7", "* 6 FETCH (FLAGS (\\Recent))\n* 7 FETCH (FLAGS (\\Recent))")

		// Into a mailbox a has not selected: the next session's.
		appendAs(a, "Other", 1)
		poll(a, "")

		b := login(t, st)
		if d := selectBox(t, b, "INBOX", false); d.NumRecent != 0 {
			t.Errorf("b SELECT INBOX: %d RECENT, want 0 (a claimed them all)", d.NumRecent)
		}
		// b examines Other (read-only) and appends there: not claimed.
		if d := selectBox(t, b, "Other", true); d.NumRecent != 1 {
			t.Errorf("b EXAMINE Other: %d RECENT, want 1", d.NumRecent)
		}
		appendAs(b, "Other", 2)
		poll(b, "* 2 EXISTS\n* 1 RECENT") // EXAMINE claims nothing, new mail included
		c := login(t, st)
		if d := selectBox(t, c, "Other", false); d.NumRecent != 2 {
			t.Errorf("c SELECT Other: %d RECENT, want 2 (nobody claimed them)", d.NumRecent)
		}
		recentFlag(c, "1:2", "* 1 FETCH (FLAGS (\\Recent))\n* 2 FETCH (FLAGS (\\Recent))")
	})
}
