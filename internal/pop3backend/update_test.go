package pop3backend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/pop3server"
)

// TestUpdateRemovesMarked checks that QUIT removes exactly the messages
// DELE marked, and that messages delivered after the login and other
// \Deleted messages (unlike UW) stay.
func TestUpdateRemovesMarked(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			appendMsg(t, st, simpleMsg(i))
		}
		s := login(t, st)
		for _, n := range []int{1, 3} {
			if err := s.Dele(ctx, n); err != nil {
				t.Fatalf("Dele(%d) = %v", n, err)
			}
		}
		if err := s.Dele(ctx, 3); err == nil {
			t.Errorf("Dele(3) twice = nil, want an error")
		}
		late := appendMsg(t, st, simpleMsg(5)) // delivered after login
		// An IMAP client flags 4 \Deleted meanwhile: not ours to expunge.
		flag(t, st, 4, mailstore.FlagDeleted)
		if n, _, _ := s.Stat(ctx); n != 2 {
			t.Errorf("Stat count after 2 DELE = %d, want 2", n)
		}
		if err := s.Update(ctx); err != nil {
			t.Fatalf("Update = %v", err)
		}
		s.Close()
		want := []string{"2:", `4:\Deleted`, "5:"}
		if late != 5 {
			t.Fatalf("late UID = %d, want 5", late)
		}
		if got := inbox(t, st); !slices.Equal(got, want) {
			t.Errorf("INBOX after QUIT = %q, want %q", got, want)
		}
	})
}

// flag adds flag to uid through a separate Mailbox, as an IMAP session
// would.
func flag(t testing.TB, st mailstore.Store, uid uint32, flag string) {
	t.Helper()
	mb, err := st.Open(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, _, err := mb.StoreFlags(context.Background(), []uint32{uid}, mailstore.FlagsAdd, []string{flag}, 0); err != nil {
		t.Fatal(err)
	}
}

// expunge removes uid through a separate Mailbox, as an IMAP session would.
func expunge(t testing.TB, st mailstore.Store, uid uint32) {
	t.Helper()
	mb, err := st.Open(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if gone, err := mb.Expunge(context.Background(), []uint32{uid}); err != nil || len(gone) != 1 {
		t.Fatalf("Expunge(%d) = %v, %v", uid, gone, err)
	}
}

// TestCloseWithoutUpdate checks that a session that ends without QUIT (a
// dropped connection) removes nothing and sets no \Seen, as does one that
// ran RSET before QUIT.
func TestCloseWithoutUpdate(t *testing.T) {
	for _, rset := range []bool{false, true} {
		name := "close"
		if rset {
			name = "rset+quit"
		}
		t.Run(name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st mailstore.Store) {
				ctx := context.Background()
				for i := 1; i <= 3; i++ {
					appendMsg(t, st, simpleMsg(i))
				}
				before := inbox(t, st)
				s := login(t, st)
				retr(t, s, 1)
				for n := 1; n <= 3; n++ {
					if err := s.Dele(ctx, n); err != nil {
						t.Fatal(err)
					}
				}
				if rset {
					if err := s.Rset(ctx); err != nil {
						t.Fatal(err)
					}
					if n, _, _ := s.Stat(ctx); n != 3 {
						t.Errorf("Stat count after RSET = %d, want 3", n)
					}
					if err := s.Update(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if got := inbox(t, st); !slices.Equal(got, before) {
					t.Errorf("INBOX after %s = %q, want %q", name, got, before)
				}
			})
		})
	}
}

// TestSeen checks that RETR leads to \Seen at QUIT and TOP does not, and
// that nseen counts only messages that were not \Seen before.
func TestSeen(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, simpleMsg(1))
		appendMsg(t, st, simpleMsg(2))
		appendMsg(t, st, simpleMsg(3), mailstore.FlagSeen)
		appendMsg(t, st, simpleMsg(4))
		lr := &logRec{}
		s := loginLog(t, st, lr)
		retr(t, s, 1)
		retr(t, s, 1)
		top(t, s, 2, 10)
		retr(t, s, 3)
		retr(t, s, 4)
		if err := s.Dele(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got, want := inbox(t, st), []string{`1:\Seen`, "2:", `3:\Seen`}; !slices.Equal(got, want) {
			t.Errorf("INBOX after RETR 1, TOP 2, RETR 3, RETR+DELE 4, QUIT = %q, want %q", got, want)
		}
		want := "Update user=alice host=" + testHost + " nmsgs=3 ndele=1 nseen=2"
		if got := lr.take(); len(got) != 3 || got[1] != want {
			t.Errorf("log = %q, want %q second", got, want)
		}
	})
}

// TestConcurrentChanges makes IMAP-like changes through the store API while
// a POP3 session is open: the snapshot does not move, RETR of a message
// removed meanwhile is a clean [SYS/TEMP] error, and QUIT succeeds.
func TestConcurrentChanges(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			appendMsg(t, st, simpleMsg(i))
		}
		s := login(t, st)
		before, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		flag(t, st, 2, mailstore.FlagFlagged)
		expunge(t, st, 3)
		appendMsg(t, st, simpleMsg(5))
		after, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(after, before) {
			t.Errorf("List after outside changes = %v, want the snapshot %v", after, before)
		}
		var b strings.Builder
		err = s.Retr(ctx, 3, &b)
		if pe, ok := pop3server.AsError(err); !ok || pe.Code != pop3server.CodeSysTemp || !strings.Contains(pe.Text, "removed by another session") {
			t.Errorf("Retr(3) of an expunged message = %v, want -ERR [SYS/TEMP] ... removed by another session", err)
		}
		if b.Len() != 0 {
			t.Errorf("Retr(3) wrote %q before failing, want nothing", b.String())
		}
		if err := s.Top(ctx, 3, 0, &b); errCode(err) != string(pop3server.CodeSysTemp) {
			t.Errorf("Top(3) of an expunged message = %v, want [SYS/TEMP]", err)
		}
		if got := retr(t, s, 2); got != simpleMsg(2) {
			t.Errorf("Retr(2) = %q, want %q", got, simpleMsg(2))
		}
		for _, n := range []int{3, 4} {
			if err := s.Dele(ctx, n); err != nil {
				t.Fatalf("Dele(%d) = %v", n, err)
			}
		}
		if err := s.Update(ctx); err != nil {
			t.Fatalf("Update with an already expunged UID = %v, want nil", err)
		}
		s.Close()
		want := []string{"1:", `2:\Flagged \Seen`, "5:"}
		if got := inbox(t, st); !slices.Equal(got, want) {
			t.Errorf("INBOX = %q, want %q", got, want)
		}
	})
}

// TestTwoPOP3Sessions runs two sessions on one maildrop: both DELE the same
// message and both QUIT without error; each removes what it marked.
func TestTwoPOP3Sessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 3; i++ {
			appendMsg(t, st, simpleMsg(i))
		}
		a, b := login(t, st), login(t, st)
		for _, d := range []struct {
			s *session
			n int
		}{{a, 1}, {a, 2}, {b, 2}} {
			if err := d.s.Dele(ctx, d.n); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Update(ctx); err != nil {
			t.Fatalf("first Update = %v", err)
		}
		if err := b.Update(ctx); err != nil {
			t.Fatalf("second Update = %v", err)
		}
		if got, want := inbox(t, st), []string{"3:"}; !slices.Equal(got, want) {
			t.Errorf("INBOX = %q, want %q", got, want)
		}
	})
}

// TestDeletedHidden checks that, as in UW ipop3d, messages flagged
// \Deleted at login are not in the maildrop, and the login line counts
// them apart.
func TestDeletedHidden(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, simpleMsg(1))
		appendMsg(t, st, simpleMsg(2), mailstore.FlagDeleted)
		appendMsg(t, st, simpleMsg(3))
		lr := &logRec{}
		s := loginLog(t, st, lr)
		list, err := s.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range list {
			got = append(got, m.UID[8:])
		}
		if want := []string{"00000001", "00000003"}; !slices.Equal(got, want) {
			t.Errorf("UIDs in the maildrop = %q, want %q", got, want)
		}
		if got, want := lr.take(), []string{"Login user=alice host=" + testHost + " nmsgs=2/3"}; !slices.Equal(got, want) {
			t.Errorf("log = %q, want %q", got, want)
		}
	})
}

// TestMessageRange checks the guards behind the server's own checks.
func TestMessageRange(t *testing.T) {
	st := openers[0].open(t)
	appendMsg(t, st, simpleMsg(1))
	s := login(t, st)
	ctx := context.Background()
	var b strings.Builder
	for _, n := range []int{0, 2, -1} {
		if err := s.Retr(ctx, n, &b); err == nil {
			t.Errorf("Retr(%d) = nil, want an error", n)
		}
		if err := s.Dele(ctx, n); err == nil {
			t.Errorf("Dele(%d) = nil, want an error", n)
		}
	}
	s.Dele(ctx, 1)
	if err := s.Top(ctx, 1, 0, &b); err == nil {
		t.Errorf("Top of a deleted message = nil, want an error")
	}
	if b.Len() != 0 {
		t.Errorf("failed calls wrote %q", b.String())
	}
	var pe *pop3server.Error
	if err := s.Retr(ctx, 1, &b); !errors.As(err, &pe) {
		t.Errorf("Retr of a deleted message = %v, want a *pop3server.Error", err)
	}
}
