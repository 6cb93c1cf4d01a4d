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

	"github.com/postern/postern/internal/mailstore"
)

// TestLazyCommit: a flag change commits with synchronous=NORMAL (as
// Dovecot, no fsync; Store.writeLazy), and every pooled connection is back
// at FULL afterwards, so an APPEND never commits lazily unasked.
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
