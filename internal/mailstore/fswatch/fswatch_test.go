package fswatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitTimeout is how long a test waits for a signal that must come: a
// generous bound for a loaded machine, never a measure of speed.
const waitTimeout = 20 * time.Second

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("no signal after %s", what)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPollFallback(t *testing.T) {
	w := New(Options{ForcePoll: true, PollInterval: 5 * time.Millisecond})
	defer w.Close()
	dir := t.TempDir()
	ch := make(chan struct{}, 1)
	s, err := w.Watch([]Target{{Dir: dir}}, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Polling() {
		t.Errorf("Polling() = false with ForcePoll, want true")
	}
	write(t, filepath.Join(dir, "a"), "x")
	wait(t, ch, "a file created in a polled directory")

	// A named file: its appearance, growth and removal are changes.
	named := make(chan struct{}, 1)
	ns, err := w.Watch([]Target{{Dir: dir, Names: []string{"box"}}}, named)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	write(t, filepath.Join(dir, "box"), "From x\n")
	wait(t, named, "a named file created")
	f, err := os.OpenFile(filepath.Join(dir, "box"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("more\n")
	f.Close()
	wait(t, named, "a named file appended to")
	os.Remove(filepath.Join(dir, "box"))
	wait(t, named, "a named file removed")
}

func TestPollMissingDirectory(t *testing.T) {
	// A directory that does not exist yet cannot take an inotify watch:
	// it is polled, and its creation is a change.
	w := New(Options{PollInterval: 5 * time.Millisecond})
	defer w.Close()
	dir := filepath.Join(t.TempDir(), "later")
	ch := make(chan struct{}, 1)
	s, err := w.Watch([]Target{{Dir: dir}}, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Polling() {
		t.Errorf("Polling() = false for a missing directory, want true")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	wait(t, ch, "the directory was created")
}

func TestClose(t *testing.T) {
	w := New(Options{PollInterval: 5 * time.Millisecond})
	dir := t.TempDir()
	ch := make(chan struct{}, 1)
	s, err := w.Watch([]Target{{Dir: dir}, {Dir: filepath.Join(dir, "missing")}}, ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	s.Close() // after the watcher: harmless
	s.Close()
	if _, err := w.Watch([]Target{{Dir: dir}}, ch); err != ErrClosed {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}
	w.mu.Lock()
	in := w.in
	w.mu.Unlock()
	if in != nil {
		t.Errorf("inotify instance kept after Close")
	}
	w.poll.mu.Lock()
	running := w.poll.stop != nil
	w.poll.mu.Unlock()
	if running {
		t.Errorf("poller still running after Close")
	}
}

func TestSubCloseStopsPoller(t *testing.T) {
	w := New(Options{ForcePoll: true, PollInterval: time.Hour})
	defer w.Close()
	ch := make(chan struct{}, 1)
	s, err := w.Watch([]Target{{Dir: t.TempDir()}}, ch)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	w.poll.mu.Lock()
	defer w.poll.mu.Unlock()
	if w.poll.stop != nil || len(w.poll.targets) != 0 {
		t.Errorf("poller running with %d targets after the last Sub closed", len(w.poll.targets))
	}
}

// TestAnyPolling: a store waits its long safety period only when the index
// and every mailbox are watched by inotify.
func TestAnyPolling(t *testing.T) {
	in := New(Options{})
	defer in.Close()
	poll := New(Options{ForcePoll: true})
	defer poll.Close()
	sub := func(w *Watcher) *Sub {
		s, err := w.Watch([]Target{{Dir: t.TempDir()}}, make(chan struct{}, 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	idx, watched, polled := sub(in), sub(in), sub(poll)
	if idx.Polling() {
		t.Skip("inotify unavailable here; TestPollFallback covers polling")
	}
	for _, tc := range []struct {
		name string
		idx  *Sub
		subs map[int]*Sub
		want bool
	}{
		{"all inotify", idx, map[int]*Sub{1: watched}, false},
		{"no mailboxes", idx, nil, false},
		{"index not watched", nil, map[int]*Sub{1: watched}, true},
		{"index polled", polled, nil, true},
		{"a mailbox not watched", idx, map[int]*Sub{1: watched, 2: nil}, true},
		{"a mailbox polled", idx, map[int]*Sub{1: watched, 2: polled}, true},
	} {
		if got := AnyPolling(tc.idx, tc.subs); got != tc.want {
			t.Errorf("%s: AnyPolling = %v, want %v", tc.name, got, tc.want)
		}
	}
}
