package maildir

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/fswatch"
)

// noPoll are options under which only inotify can wake a watcher in the
// time a test waits: both poll periods are far longer.
var noPoll = Options{NoFsync: true, PollInterval: time.Hour, SafetyPoll: time.Hour}

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

func TestWatchInotifyDelivery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, noPoll)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Create(ctx, "Lists", ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"INBOX", "Lists"} {
		mb := openT(t, s, name)
		ch := mb.Watch()
		s.pollMu.Lock()
		polling := s.subs[mb.(*mailbox).id] == nil || s.subs[mb.(*mailbox).id].Polling()
		s.pollMu.Unlock()
		if polling {
			t.Fatalf("%s: watched by polling, want inotify", name)
		}
		if got := s.pollPeriod(); got != noPoll.SafetyPoll {
			t.Errorf("pollPeriod() = %v with inotify, want SafetyPoll", got)
		}
		d, _ := s.dirOf(name)
		// An MTA's delivery: tmp/ then a rename into new/.
		tmp := filepath.Join(d, "tmp", "1.M1P1.mta")
		if err := os.WriteFile(tmp, []byte(testMsg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(d, "new", "1.M1P1.mta")); err != nil {
			t.Fatal(err)
		}
		waitWatch(t, ch, name+": a delivery into new/")
		msgs, err := mb.Messages(ctx)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%s: Messages after the signal = %d, %v; want 1", name, len(msgs), err)
		}
		// Another MUA sets \Seen by renaming the file in cur/.
		ents, _ := os.ReadDir(filepath.Join(d, "cur"))
		if len(ents) != 1 {
			t.Fatalf("%s: cur/ holds %d files, want 1", name, len(ents))
		}
		old := filepath.Join(d, "cur", ents[0].Name())
		if err := os.Rename(old, old+"S"); err != nil {
			t.Fatal(err)
		}
		waitWatch(t, ch, name+": a flag rename in cur/")
	}
}

// TestWatchOtherProcessHelper is the child of TestWatchOtherProcess.
func TestWatchOtherProcessHelper(t *testing.T) {
	dir := os.Getenv("MAILDIR_WATCH_DIR")
	if dir == "" {
		t.Skip("helper process for TestWatchOtherProcess")
	}
	ctx := context.Background()
	s, err := Open(dir, Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb := openT(t, s, "INBOX")
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
}

// TestWatchOtherProcess: a flag set by another process (inetd mode: one
// imapd per connection) changes only the index and a file name; inotify on
// the index's -wal file wakes this process's watcher, with no poll.
func TestWatchOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, noPoll)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendT(t, s, "INBOX")
	mb := openT(t, s, "INBOX")
	st0, _ := mb.State(ctx)
	ch := mb.Watch()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchOtherProcessHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MAILDIR_WATCH_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("other process: %v\n%s", err, out)
	}
	waitWatch(t, ch, "another process's STORE")
	changed, _, _, err := mb.Changes(ctx, st0.HighestModSeq)
	if err != nil || len(changed) != 1 || changed[0].UID != 1 {
		t.Fatalf("Changes after the signal = %+v, %v; want UID 1", changed, err)
	}
}

func TestWatchReleasesSubscriptions(t *testing.T) {
	s, err := Open(t.TempDir(), noPoll)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb, err := s.Open(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	mb.Watch()
	mb.Watch()
	mb.Close()
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if len(s.subs) != 0 || s.idxSub != nil || s.pollStop != nil {
		t.Errorf("after the only watching handle closed: %d subscriptions, poller running %v", len(s.subs), s.pollStop != nil)
	}
}

// TestWatchPollingFallback: where inotify cannot watch (here forced), an
// outside delivery is still seen, by polling.
func TestWatchPollingFallback(t *testing.T) {
	w := fswatch.New(fswatch.Options{ForcePoll: true, PollInterval: 5 * time.Millisecond})
	defer w.Close()
	dir := t.TempDir()
	s, err := Open(dir, Options{NoFsync: true, Watcher: w, PollInterval: 2 * time.Hour, SafetyPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb := openT(t, s, "INBOX")
	ch := mb.Watch()
	if got := s.pollPeriod(); got != 2*time.Hour {
		t.Errorf("pollPeriod() = %v while polling, want PollInterval (2h)", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "new", "1.M1P1.mta"), []byte(testMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	waitWatch(t, ch, "a delivery into a polled new/")
}
