package maildir

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// TestRacyCurRename: another program renames a file in cur/ (a flag
// change) within the same timestamp tick as this store's last look, so
// cur/'s mtime does not move. The store must still see the change: a
// directory read less than racyWindow after it changed is not trusted.
func TestRacyCurRename(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{NoFsync: true, PollInterval: time.Hour, SafetyPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb := openT(t, s, "INBOX")
	d, _ := s.dirOf("INBOX")
	if err := os.WriteFile(filepath.Join(d, "new", "1.M1P1.mta"), []byte(testMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %v, %v; want one message", msgs, err)
	}
	cur := filepath.Join(d, "cur")
	fi, err := os.Stat(cur)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(cur)
	if len(ents) != 1 {
		t.Fatalf("cur/ holds %d files, want 1", len(ents))
	}
	old := filepath.Join(cur, ents[0].Name())
	if err := os.Rename(old, old+"F"); err != nil {
		t.Fatal(err)
	}
	// The same tick: cur/'s mtime is what the last look saw.
	if err := os.Chtimes(cur, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %v, %v; want one message", msgs, err)
	}
	if !slices.Contains(msgs[0].Flags, `\Flagged`) {
		t.Errorf("flags after a same-tick rename to ...F = %v, want \\Flagged", msgs[0].Flags)
	}
}

// TestRacyAfterOwnStore: this store's own flag change leaves cur/ too
// recent to trust, and the polls that follow check it by reading
// (sameOnDisk) rather than merging. Another program's change in the same
// tick (cur/'s mtime put back to what the store saw) must still show: at
// once when no agreeing check is younger than verifyReuse, after it
// otherwise.
func TestRacyAfterOwnStore(t *testing.T) {
	tests := []struct {
		name   string
		reuse  bool // verifyReuse left at an hour: the change is not seen yet
		change func(t *testing.T, cur, newDir string, files []string)
		check  func(msgs []mailstore.MessageMeta) bool
	}{
		{"rename", false, func(t *testing.T, cur, _ string, files []string) {
			mustRename(t, filepath.Join(cur, files[1]), filepath.Join(cur, files[1]+"S"))
		}, func(msgs []mailstore.MessageMeta) bool {
			return len(msgs) == 2 && slices.Contains(msgs[1].Flags, `\Seen`)
		}},
		{"rename within verifyReuse", true, func(t *testing.T, cur, _ string, files []string) {
			mustRename(t, filepath.Join(cur, files[1]), filepath.Join(cur, files[1]+"S"))
		}, func(msgs []mailstore.MessageMeta) bool {
			return len(msgs) == 2 && !slices.Contains(msgs[1].Flags, `\Seen`)
		}},
		{"remove", false, func(t *testing.T, cur, _ string, files []string) {
			if err := os.Remove(filepath.Join(cur, files[1])); err != nil {
				t.Fatal(err)
			}
		}, func(msgs []mailstore.MessageMeta) bool { return len(msgs) == 1 }},
		{"add to cur", false, func(t *testing.T, cur, _ string, _ []string) {
			if err := os.WriteFile(filepath.Join(cur, "9.M9P9.other:2,"), []byte(testMsg), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(msgs []mailstore.MessageMeta) bool { return len(msgs) == 3 }},
		{"deliver to new", false, func(t *testing.T, _, newDir string, _ []string) {
			if err := os.WriteFile(filepath.Join(newDir, "9.M9P9.mta"), []byte(testMsg), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(msgs []mailstore.MessageMeta) bool { return len(msgs) == 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(t.TempDir(), Options{NoFsync: true, PollInterval: time.Hour, SafetyPoll: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.verifyReuse = 0
			if tt.reuse {
				s.verifyReuse = time.Hour
			}
			uids := appendN(t, s, 2)
			mb := openT(t, s, "INBOX")
			if _, _, err := mb.StoreFlags(ctx, uids[:1], mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
				t.Fatal(err)
			}
			d, _ := s.dirOf("INBOX")
			cur, newDir := filepath.Join(d, "cur"), filepath.Join(d, "new")
			curFi, _ := os.Stat(cur)
			newFi, _ := os.Stat(newDir)
			// A poll that finds nothing changed.
			if ch, exp, _, err := mb.Changes(ctx, 0); err != nil || len(ch) != 2 || len(exp) != 0 {
				t.Fatalf("Changes = %v, %v, %v; want the 2 messages", ch, exp, err)
			}
			// The files in UID order, from the index: the names do not
			// sort in delivery order (their microsecond field is not
			// zero-padded).
			files := []string{fileOf(t, mb, uids[0]), fileOf(t, mb, uids[1])}
			tt.change(t, cur, newDir, files)
			if err := os.Chtimes(cur, curFi.ModTime(), curFi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(newDir, newFi.ModTime(), newFi.ModTime()); err != nil {
				t.Fatal(err)
			}
			msgs, err := mb.Messages(ctx)
			if err != nil || !tt.check(msgs) {
				t.Errorf("Messages after another program's same-tick change = %v, %v", msgs, err)
			}
			if tt.reuse {
				// The period over, the change shows.
				s.verifyReuse = 0
				if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 2 || !slices.Contains(msgs[1].Flags, `\Seen`) {
					t.Errorf("Messages once verifyReuse is over = %v, %v; want the second \\Seen", msgs, err)
				}
			}
		})
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestOwnWritesCarryCheck: a write that starts from an agreeing check
// (APPEND, STORE, EXPUNGE) notes its commit as agreeing with the time of
// that check, so the poll after it does not read cur/ again, and the
// reuse still ends verifyReuse after cur/ was last read: another
// program's same-tick change made before the write, which the write's own
// rename hides from cur/'s mtime, shows once that time is over.
func TestOwnWritesCarryCheck(t *testing.T) {
	ops := []struct {
		name  string
		write func(t *testing.T, s *Store, mb mailstore.Mailbox, uids []uint32)
		want  int // messages after the write
	}{
		{"append", func(t *testing.T, s *Store, _ mailstore.Mailbox, _ []uint32) { appendN(t, s, 1) }, 4},
		{"store", func(t *testing.T, _ *Store, mb mailstore.Mailbox, uids []uint32) {
			if _, _, err := mb.StoreFlags(context.Background(), uids[:1], mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
				t.Fatal(err)
			}
		}, 3},
		{"expunge", func(t *testing.T, _ *Store, mb mailstore.Mailbox, uids []uint32) {
			if _, err := mb.Expunge(context.Background(), uids[:1]); err != nil {
				t.Fatal(err)
			}
		}, 2},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(t.TempDir(), Options{NoFsync: true, PollInterval: time.Hour, SafetyPoll: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.verifyReuse = time.Hour
			uids := appendN(t, s, 3)
			mb := openT(t, s, "INBOX")
			d, _ := s.dirOf("INBOX")
			cur := filepath.Join(d, "cur")
			// Make cur/ recent (untrusted), then a poll checks it by reading.
			if _, _, err := mb.StoreFlags(ctx, uids[:1], mailstore.FlagsAdd, []string{`\Answered`}, 0); err != nil {
				t.Fatal(err)
			}
			// An mtime in the future is never trusted: however slowly the
			// test runs, cur/'s stays too recent to record, as it is for a
			// moment after a real change.
			future := time.Now().Add(time.Hour)
			if err := os.Chtimes(cur, future, future); err != nil {
				t.Fatal(err)
			}
			s.verifyReuse = 0
			if _, _, _, err := mb.Changes(ctx, 0); err != nil {
				t.Fatal(err)
			}
			s.verifyReuse = time.Hour
			if _, _, _, err := mb.Changes(ctx, 0); err != nil {
				t.Fatal(err)
			}
			row, _, _ := s.rowBy(ctx, s.db, 0, "INBOX")
			checked := s.sh.verified.by[row.id].at
			if checked.IsZero() {
				t.Fatal("no agreeing check noted after a poll")
			}
			// Another program marks the last message \Seen in the same tick.
			curFi, _ := os.Stat(cur)
			last := fileOf(t, mb, uids[2])
			mustRename(t, filepath.Join(cur, last), filepath.Join(cur, last+"S"))
			if err := os.Chtimes(cur, curFi.ModTime(), curFi.ModTime()); err != nil {
				t.Fatal(err)
			}

			op.write(t, s, mb, uids)

			row, _, _ = s.rowBy(ctx, s.db, 0, "INBOX")
			st, ok := s.sh.verified.by[row.id]
			if !ok || st.row != row || !st.at.Equal(checked) {
				t.Fatalf("after the write: noted %+v (ok %v), want the row %+v as checked at %v", st, ok, row, checked)
			}
			msgs, err := mb.Messages(ctx)
			if err != nil || len(msgs) != op.want {
				t.Fatalf("Messages after the write = %d, %v; want %d", len(msgs), err, op.want)
			}
			if slices.ContainsFunc(msgs, func(m mailstore.MessageMeta) bool { return slices.Contains(m.Flags, `\Seen`) }) {
				t.Errorf("the same-tick change showed before verifyReuse was over: %v", msgs)
			}
			s.verifyReuse = 0
			msgs, err = mb.Messages(ctx)
			if err != nil || len(msgs) != op.want || !slices.ContainsFunc(msgs, func(m mailstore.MessageMeta) bool { return m.UID == uids[2] && slices.Contains(m.Flags, `\Seen`) }) {
				t.Errorf("Messages once verifyReuse is over = %v, %v; want %d, UID %d \\Seen", msgs, err, op.want, uids[2])
			}
		})
	}
}

// TestReusedCheckTrustsNoLaterMtime: a write's sync that finds agreement
// through a reused check (verified) records the directories' mtimes as
// trusted only as of that check's read. Here the read was in the very tick
// of cur/'s mtime, another program's change followed in that tick, and a
// second later a write (a \Recent claim) synced: had it trusted the mtime
// as of now, the change would never have shown.
func TestReusedCheckTrustsNoLaterMtime(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{NoFsync: true, PollInterval: time.Hour, SafetyPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uids := appendN(t, s, 2)
	mb := openT(t, s, "INBOX")
	d, _ := s.dirOf("INBOX")
	cur := filepath.Join(d, "cur")
	if _, _, err := mb.StoreFlags(ctx, uids[:1], mailstore.FlagsAdd, []string{`\Answered`}, 0); err != nil {
		t.Fatal(err)
	}
	s.verifyReuse = 0
	if _, _, _, err := mb.Changes(ctx, 0); err != nil { // reads cur/: the check
		t.Fatal(err)
	}
	curFi, _ := os.Stat(cur)
	last := fileOf(t, mb, uids[1])
	mustRename(t, filepath.Join(cur, last), filepath.Join(cur, last+"S"))
	if err := os.Chtimes(cur, curFi.ModTime(), curFi.ModTime()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(racyWindow + 100*time.Millisecond) // the mtime is old enough to trust now
	s.verifyReuse = time.Hour
	if _, err := mb.ClaimRecent(ctx); err != nil { // a write that syncs, reusing the check
		t.Fatal(err)
	}
	s.verifyReuse = 0
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 2 || !slices.Contains(msgs[1].Flags, `\Seen`) {
		t.Errorf("Messages = %v, %v; want the second \\Seen", msgs, err)
	}
}

// fileOf returns the name in cur/ of uid's file, as the index has it.
func fileOf(t *testing.T, mb mailstore.Mailbox, uid uint32) string {
	t.Helper()
	name, ok, err := mb.(*mailbox).lookupName(context.Background(), uid)
	if err != nil || !ok {
		t.Fatalf("file of UID %d: %v, %v", uid, ok, err)
	}
	return name
}
