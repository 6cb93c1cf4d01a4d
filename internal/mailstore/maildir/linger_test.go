package maildir

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// heldInMemory reports whether s's process-wide cache holds INBOX's
// metadata (cachedMsgs without loading).
func heldInMemory(t *testing.T, s *Store) bool {
	t.Helper()
	ctx := context.Background()
	r, ok, err := s.rowBy(ctx, s.db, 0, "INBOX")
	if err != nil || !ok {
		t.Fatalf("rowBy(INBOX) = %v, %v", ok, err)
	}
	_, held, err := s.cachedMsgs(ctx, r.id, false)
	if err != nil {
		t.Fatal(err)
	}
	return held
}

// loadInbox opens INBOX and reads its messages, which loads the cache.
func loadInbox(t *testing.T, s *Store) {
	t.Helper()
	mb := openT(t, s, "INBOX")
	defer mb.Close()
	if _, err := mb.Messages(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestMetaCacheOutlivesStore: a user who logs out and in again (the last
// Store closed, a new one opened) SELECTs from the cache the last session
// loaded (issue 7: the second SELECT of a 100,000-message mailbox).
func TestMetaCacheOutlivesStore(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	appendT(t, s, "INBOX")
	loadInbox(t, s)
	if !heldInMemory(t, s) {
		t.Fatal("INBOX not in memory after Messages")
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	if !heldInMemory(t, s) {
		t.Error("INBOX's cached metadata was dropped with the last Store")
	}
	checkCache(t, "reopened", s, "INBOX", false)
}

// TestMetaCacheIndexReplaced: an index file removed and rebuilt while the
// cache lingered starts its MODSEQs again, maybe in the old file's inode;
// the cache of the old file must not be taken for it (a new index's epoch
// starts at random).
func TestMetaCacheIndexReplaced(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	appendT(t, s, "INBOX")
	loadInbox(t, s)
	oldEpoch := indexEpoch(t, s)
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, IndexName+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s = openTest(t, dir)
	defer s.Close()
	openT(t, s, "INBOX").Close() // indexes the folder again
	if e := s.sh.meta.entry(1, false); e == nil || e.epoch != oldEpoch {
		t.Fatal("the old index's cache did not linger: this test tests nothing")
	}
	if newEpoch := indexEpoch(t, s); newEpoch == oldEpoch {
		t.Errorf("the rebuilt index's epoch is the old one's (%d): its cache would be taken as current", newEpoch)
	}
	checkCache(t, "rebuilt", s, "INBOX", false)
}

// indexEpoch is the index's epoch (meta's "epoch" key), 0 when unset.
func indexEpoch(t *testing.T, s *Store) int64 {
	t.Helper()
	var e sql.NullInt64
	if err := s.db.QueryRowContext(context.Background(), `SELECT (SELECT value FROM meta WHERE key = 'epoch')`).Scan(&e); err != nil {
		t.Fatal(err)
	}
	return e.Int64
}
