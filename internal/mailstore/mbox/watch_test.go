package mbox_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// openNoPoll opens a test store whose poll periods are far longer than
// any wait of the tests, so that only inotify can wake a watcher.
func openNoPoll(t *testing.T, dir string) *mbox.Store {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	opts.PollInterval, opts.SafetyPoll = time.Hour, time.Hour
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// watchTimeout bounds a wait for a signal that must come; it is generous
// for a loaded machine and is never a measure of speed.
const watchTimeout = 30 * time.Second

func waitWatch(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(watchTimeout):
		t.Fatalf("Watch not signalled after %s", what)
	}
}

// TestWatchInotifyOutsideAppend: an MTA appends to the spool file under
// its dotlock; the watcher wakes without any poll.
func TestWatchInotifyOutsideAppend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openNoPoll(t, dir)
	if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: one\n\nbody\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	ch := mb.Watch()
	spool := filepath.Join(dir, "spool", "user")
	if err := os.WriteFile(spool+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mtaAppend(t, spool, "From mta@vm Wed Nov 25 22:00:00 2026\nSubject: two\n\nbody\n\n")
	os.Remove(spool + ".lock")
	waitWatch(t, ch, "an outside append to the spool file")
	// The signal may come before the dotlock went; look until the new
	// message is merged, each look after a new signal.
	for {
		msgs, err := mb.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 2 {
			break
		}
		waitWatch(t, ch, "the dotlock removed")
	}
}

// TestWatchInotifyRenameOver: another MUA rewrites a mailbox and renames
// the new file over the old; the watch follows the name.
func TestWatchInotifyRenameOver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openNoPoll(t, dir)
	if err := s.Create(ctx, "saved", ""); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Open(ctx, "saved")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	ch := mb.Watch()
	path := filepath.Join(dir, "home", "saved")
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("From mua@vm Wed Nov 25 22:00:00 2026\nSubject: s\n\nbody\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitWatch(t, ch, "a rename over the mailbox file")
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages after the signal = %d, %v; want 1", len(msgs), err)
	}
}

// TestWatchOtherProcessFlagsHelper is the child of TestWatchOtherProcessFlags.
func TestWatchOtherProcessFlagsHelper(t *testing.T) {
	dir := os.Getenv("MBOX_WATCH_DIR")
	if dir == "" {
		t.Skip("helper process for TestWatchOtherProcessFlags")
	}
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// Not closed: Close would write the flags into the file, and the
	// point is a change that only the index shows.
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
}

// TestWatchOtherProcessFlags: a flag set by another process (inetd mode)
// reaches this one through inotify on the index's -wal file, with no poll.
func TestWatchOtherProcessFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := openNoPoll(t, dir)
	if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: x\n\nbody\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	st0, _ := mb.State(ctx)
	ch := mb.Watch()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchOtherProcessFlagsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MBOX_WATCH_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("other process: %v\n%s", err, out)
	}
	waitWatch(t, ch, "another process's STORE")
	changed, _, _, err := mb.Changes(ctx, st0.HighestModSeq)
	if err != nil || len(changed) != 1 || changed[0].UID != 1 {
		t.Fatalf("Changes after the signal = %+v, %v; want UID 1", changed, err)
	}
}
