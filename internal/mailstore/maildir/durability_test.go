package maildir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// TestLazyCommit: a flag change commits with synchronous=NORMAL (as
// Dovecot, no fsync; Store.writeLazy), and every pooled connection is back
// at FULL afterwards, so a COPY never commits lazily unasked.
func TestLazyCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uids := appendN(t, s, 1)
	mb := openT(t, s, "INBOX")
	var inside int
	err = s.writeLazy(ctx, func(w *wtx) error {
		return w.tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inside)
	})
	if err != nil || inside != 1 {
		t.Errorf("synchronous in a lazy transaction = %d, %v; want 1 (NORMAL)", inside, err)
	}
	if _, _, err := mb.StoreFlags(ctx, uids, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	// Hold every connection the pool may have (Open allows 8) and ask each.
	for i := range 8 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var level int
		if err := conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil || level != 2 {
			t.Errorf("connection %d: synchronous = %d, %v; want 2 (FULL)", i, level, err)
		}
	}
}

// TestAppendUIDListAfterCommit: Append writes its uidlist line inside the
// transaction (so lines of concurrent APPENDs are in UID order) and
// fsyncs and closes the file after the commit: every line is there when
// the calls return, in order, and no descriptor is left open.
func TestAppendUIDListAfterCommit(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{}) // with fsync: the deferred one runs (not openTest)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, _, err := s.Append(context.Background(), "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	data, err := os.ReadFile(filepath.Join(dir, UIDListName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:] // past the header
	var uids []int
	for _, l := range lines {
		var uid int
		var base string
		if _, err := fmt.Sscan(l, &uid, &base); err != nil {
			t.Fatalf("uidlist line %q: %v", l, err)
		}
		uids = append(uids, uid)
	}
	if len(uids) != 40 || !slices.IsSorted(uids) || uids[0] != 1 || uids[39] != 40 {
		t.Errorf("uidlist UIDs = %v, want 1 to 40 in order", uids)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.HasSuffix(target, UIDListName) {
			t.Errorf("descriptor %s still open on %s", fd.Name(), target)
		}
	}
}

// TestAppendUIDListNothing: no lines, no file opened (a sync that adopted
// files with the UIDs their uidlist already had writes none, and pays no
// fsync for it).
func TestAppendUIDListNothing(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	folder := t.TempDir()
	if err := s.appendUIDList(folder, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(folder, UIDListName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("appendUIDList with no lines touched %s: %v", UIDListName, err)
	}
}

// TestLostAppendCommit: APPEND commits its index transaction lazily, so
// a power loss may take its row out of the index while its file (in cur/)
// and its uidlist line, fsynced before the OK, survive. The index is put
// in that state by hand (the rows of UIDs 3 and 4 deleted; UIDNEXT,
// HIGHESTMODSEQ and cur/'s mtime as before those APPENDs) and the
// process's memory of the check dropped, as after a restart. The first
// look at the mailbox then takes the messages back with the UIDs their
// clients were given, flags and dates from the files; a message whose
// file is gone too (expunged, and the expunge survived) stays gone, and
// its UID is never given again.
func TestLostAppendCommit(t *testing.T) {
	ctx := context.Background()
	date := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		gone     []uint32 // lost UIDs whose files are removed as well
		wantUIDs []uint32 // after the recovery
	}{
		{"files kept", nil, []uint32{1, 2, 3, 4}},
		{"first file gone", []uint32{3}, []uint32{1, 2, 4}},
		{"both files gone", []uint32{3, 4}, []uint32{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			defer s.Close()
			appendN(t, s, 2)
			var before struct{ uidNext, modSeq, curMtime int64 }
			if err := s.db.QueryRowContext(ctx, `SELECT uidnext, highestmodseq, cur_mtime FROM mailboxes WHERE name = 'INBOX'`).
				Scan(&before.uidNext, &before.modSeq, &before.curMtime); err != nil {
				t.Fatal(err)
			}
			for want := uint32(3); want <= 4; want++ {
				_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{Flags: []string{`\Flagged`}, InternalDate: date})
				if err != nil || uid != want {
					t.Fatalf("Append = %d, %v; want UID %d", uid, err, want)
				}
			}
			for _, uid := range tc.gone {
				var base, info string
				if err := s.db.QueryRowContext(ctx, `SELECT base, info FROM messages WHERE uid = ?`, uid).Scan(&base, &info); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(filepath.Join(dir, "cur", base+info)); err != nil {
					t.Fatal(err)
				}
			}
			// The power loss: the lazy commits are gone from the index.
			for _, q := range []string{`DELETE FROM messages WHERE uid > 2`, `DELETE FROM savedate WHERE uid > 2`, `DELETE FROM cache WHERE uid > 2`} {
				if _, err := s.db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.db.ExecContext(ctx, `UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, cur_mtime = ? WHERE name = 'INBOX'`,
				before.uidNext, before.modSeq, before.curMtime); err != nil {
				t.Fatal(err)
			}
			// The restart: this process has checked and cached nothing.
			s.sh.uidChecks.mu.Lock()
			s.sh.uidChecks.done = nil
			s.sh.uidChecks.mu.Unlock()
			s.sh.verified.mu.Lock()
			s.sh.verified.by = nil
			s.sh.verified.mu.Unlock()
			s.sh.meta.mu.Lock()
			s.sh.meta.entries, s.sh.meta.held = nil, 0
			s.sh.meta.mu.Unlock()

			mb := openT(t, s, "INBOX")
			if st, err := mb.State(ctx); err != nil || st.UIDNext != 5 {
				t.Errorf("UIDNEXT after the recovery = %d, %v; want 5", st.UIDNext, err)
			}
			msgs, err := mb.Messages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint32
			for _, m := range msgs {
				got = append(got, m.UID)
			}
			if !slices.Equal(got, tc.wantUIDs) {
				t.Fatalf("UIDs after the recovery = %v; want %v", got, tc.wantUIDs)
			}
			infos, err := mb.Info(ctx, got[2:])
			if err != nil || len(infos) != len(got)-2 {
				t.Fatalf("Info(%v) = %v, %v", got[2:], infos, err)
			}
			for _, in := range infos {
				if !slices.Equal(in.Flags, []string{`\Flagged`}) || !in.InternalDate.Equal(date) {
					t.Errorf("UID %d recovered with flags %v, date %v; want [\\Flagged], %v", in.UID, in.Flags, in.InternalDate, date)
				}
			}
			if _, uid, err := s.Append(ctx, "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{}); err != nil || uid != 5 {
				t.Errorf("next Append = UID %d, %v; want 5 (3 and 4 were given out before the power loss)", uid, err)
			}
		})
	}
}
