package maildir

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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
