package maildir

import (
	"context"
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
// cache lingered starts its epoch and MODSEQs again; the cache of the old
// file must not be taken for it.
func TestMetaCacheIndexReplaced(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	appendT(t, s, "INBOX")
	loadInbox(t, s)
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, IndexName+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s = openTest(t, dir)
	defer s.Close()
	openT(t, s, "INBOX").Close() // indexes the folder again
	if heldInMemory(t, s) {
		t.Error("the removed index's cached metadata survived into the new index")
	}
	checkCache(t, "rebuilt", s, "INBOX", false)
}
