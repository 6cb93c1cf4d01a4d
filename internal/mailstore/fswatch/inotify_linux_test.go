package fswatch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// inotifyWatcher returns a Watcher that must use inotify; the long poll
// interval means only inotify can satisfy a wait.
func inotifyWatcher(t *testing.T) *Watcher {
	t.Helper()
	w := New(Options{PollInterval: 1 << 62})
	t.Cleanup(func() { w.Close() })
	return w
}

func watch(t *testing.T, w *Watcher, targets ...Target) (chan struct{}, *Sub) {
	t.Helper()
	ch := make(chan struct{}, 1)
	s, err := w.Watch(targets, ch)
	if err != nil {
		t.Fatal(err)
	}
	if s.Polling() {
		t.Fatalf("Polling() = true, want inotify for %v", targets)
	}
	t.Cleanup(s.Close)
	return ch, s
}

func TestInotifyMaildirEvents(t *testing.T) {
	w := inotifyWatcher(t)
	root := t.TempDir()
	for _, d := range []string{"tmp", "new", "cur"} {
		os.Mkdir(filepath.Join(root, d), 0o700)
	}
	ch, _ := watch(t, w, Target{Dir: filepath.Join(root, "new")}, Target{Dir: filepath.Join(root, "cur")})

	// A delivery: written in tmp/ (not watched), renamed into new/.
	write(t, filepath.Join(root, "tmp", "1.host"), "Subject: x\r\n\r\n")
	os.Rename(filepath.Join(root, "tmp", "1.host"), filepath.Join(root, "new", "1.host"))
	wait(t, ch, "IN_MOVED_TO into new/")
	// Picked up: moved from new/ to cur/.
	os.Rename(filepath.Join(root, "new", "1.host"), filepath.Join(root, "cur", "1.host:2,"))
	wait(t, ch, "IN_MOVED_FROM/IN_MOVED_TO new/ -> cur/")
	// A flag change by another MUA: a rename within cur/.
	os.Rename(filepath.Join(root, "cur", "1.host:2,"), filepath.Join(root, "cur", "1.host:2,S"))
	wait(t, ch, "a rename within cur/")
	os.Remove(filepath.Join(root, "cur", "1.host:2,S"))
	wait(t, ch, "IN_DELETE in cur/")
	// A careless MDA writing straight into new/.
	write(t, filepath.Join(root, "new", "2.host"), "Subject: y\r\n\r\n")
	wait(t, ch, "IN_CREATE in new/")
}

func TestInotifyNamedFiles(t *testing.T) {
	w := inotifyWatcher(t)
	dir := t.TempDir()
	box := filepath.Join(dir, "alice")
	write(t, box, "From a\n")
	ch, _ := watch(t, w, Target{Dir: dir, Names: []string{"alice", "alice.lock"}})
	// A sentinel on the whole directory: once it has seen an event,
	// the filtered subscription has seen it too (one dispatch signals
	// every target of an event), so an empty channel is a filtered event.
	all, _ := watch(t, w, Target{Dir: dir})

	write(t, filepath.Join(dir, "bob"), "From b\n")
	wait(t, all, "another user's mailbox written")
	if len(ch) != 0 {
		t.Errorf("a change of bob signalled a watch of alice")
	}

	f, err := os.OpenFile(box, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("From b\n")
	f.Close()
	wait(t, ch, "the mbox appended to (IN_MODIFY)")

	write(t, box+".lock", "123\n")
	wait(t, ch, "the dotlock created")
	os.Remove(box + ".lock")
	wait(t, ch, "the dotlock removed")

	// Replaced by a rename, as some MUAs rewrite a mailbox; the watch
	// is on the directory, so it follows the name, not the inode.
	write(t, filepath.Join(dir, "alice.tmp"), "From c\n")
	os.Rename(filepath.Join(dir, "alice.tmp"), box)
	wait(t, ch, "the mbox renamed over")
	f, _ = os.OpenFile(box, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("x\n")
	f.Close()
	wait(t, ch, "the new mbox file appended to")

	os.Chmod(box, 0o640)
	wait(t, ch, "IN_ATTRIB")
}

func TestInotifyCoalesces(t *testing.T) {
	w := inotifyWatcher(t)
	a, b := t.TempDir(), t.TempDir()
	ch, _ := watch(t, w, Target{Dir: a})
	sentinel, _ := watch(t, w, Target{Dir: b})
	for i := range 100 {
		write(t, filepath.Join(a, fmt.Sprint(i)), "x")
	}
	// Events come in order from one queue: after b's, all of a's were
	// dispatched.
	write(t, filepath.Join(b, "done"), "x")
	wait(t, sentinel, "the sentinel")
	if len(ch) != 1 {
		t.Fatalf("after a burst of 300 events, %d signals pending, want 1", len(ch))
	}
	<-ch
	if len(ch) != 0 {
		t.Errorf("a second signal pending after draining the burst's")
	}
}

func TestInotifyRefCount(t *testing.T) {
	w := inotifyWatcher(t)
	dir := t.TempDir()
	ch1 := make(chan struct{}, 1)
	s1, err := w.Watch([]Target{{Dir: dir}}, ch1)
	if err != nil {
		t.Fatal(err)
	}
	ch2 := make(chan struct{}, 1)
	s2, err := w.Watch([]Target{{Dir: dir}, {Dir: dir + "/."}}, ch2)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	in := w.in
	w.mu.Unlock()
	in.mu.Lock()
	nw, users := len(in.byWD), len(in.byWD[s1.ins[0].dw.wd].subs)
	in.mu.Unlock()
	if nw != 1 || users != 3 {
		t.Errorf("three targets on one directory: %d kernel watches with %d users, want 1 with 3", nw, users)
	}

	s1.Close()
	write(t, filepath.Join(dir, "x"), "x")
	wait(t, ch2, "a change after another user of the watch left")
	if len(ch1) != 0 {
		t.Errorf("a closed Sub was signalled")
	}

	s2.Close()
	w.mu.Lock()
	left := w.in
	w.mu.Unlock()
	if left != nil {
		t.Errorf("inotify instance kept after the last Sub closed")
	}
	select {
	case <-in.done:
	default:
		t.Errorf("reader goroutine running after the instance was released")
	}

	// A new Watch opens a new instance.
	ch3, _ := watch(t, w, Target{Dir: dir})
	os.Remove(filepath.Join(dir, "x"))
	wait(t, ch3, "a change after the instance was reopened")
}

func TestInotifyDirectoryRemoved(t *testing.T) {
	w := inotifyWatcher(t)
	dir := filepath.Join(t.TempDir(), "folder")
	os.Mkdir(dir, 0o700)
	ch, s := watch(t, w, Target{Dir: dir})
	os.Remove(dir)
	wait(t, ch, "the watched directory removed")
	s.Close() // the kernel dropped the watch: no inotify_rm_watch
	os.Mkdir(dir, 0o700)
	ch2, _ := watch(t, w, Target{Dir: dir})
	write(t, filepath.Join(dir, "x"), "x")
	wait(t, ch2, "a change in the re-created directory")
}

func TestInotifyWatchLimit(t *testing.T) {
	// A watch the kernel refuses (here: a file, not a directory, so
	// IN_ONLYDIR fails it, standing in for ENOSPC at max_user_watches) is
	// polled while the other targets keep inotify.
	w := New(Options{PollInterval: 5_000_000})
	defer w.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	write(t, file, "x")
	ch := make(chan struct{}, 1)
	s, err := w.Watch([]Target{{Dir: dir}, {Dir: file}}, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Polling() || len(s.ins) != 1 || len(s.polled) != 1 {
		t.Fatalf("Polling() = %v with %d inotify and %d polled targets, want 1 and 1", s.Polling(), len(s.ins), len(s.polled))
	}
}

// FuzzDispatch feeds arbitrary bytes to the event decoder as if read from
// the inotify descriptor: it must never panic or read past the buffer.
func FuzzDispatch(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 'a', 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 'a'})
	f.Add([]byte{255, 255, 255, 255, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := &inotify{byWD: map[int]*dirWatch{}, byPath: map[string]*dirWatch{}}
		ch := make(chan struct{}, 1)
		s := &Sub{ch: ch}
		dw := &dirWatch{wd: 1, path: "/x", subs: map[*inotifyTarget]bool{}}
		dw.subs[&inotifyTarget{sub: s, dw: dw, names: newNameSet([]string{"a"})}] = true
		in.byWD[1], in.byPath["/x"] = dw, dw
		in.dispatch(b)
	})
}
