package mbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// appendCtx appends one message with the given context.
func appendCtx(ctx context.Context, s mailstore.Store) error {
	_, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: x\n\nbody\n"), mailstore.AppendOptions{})
	return err
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	return cmd.Process.Pid
}

func TestDotlock(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	inbox := testOptions(dir).Inbox
	lock := inbox + ".lock"
	if err := appendCtx(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Append, %s exists (%v); locks must not outlive a call", lock, err)
	}

	// A fresh lock of a live process (ours) is waited for: the call gives
	// up with ErrLocked when its context ends.
	os.WriteFile(lock, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	err := appendCtx(ctx, s)
	cancel()
	if !errors.Is(err, mailstore.ErrLocked) {
		t.Errorf("Append under a live dotlock = %v, want ErrLocked", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("the other program's lock was removed: %v", err)
	}

	// The lock of a process that is gone is broken at once.
	os.WriteFile(lock, fmt.Appendf(nil, "%d\n", deadPID(t)), 0o644)
	if err := appendCtx(context.Background(), s); err != nil {
		t.Errorf("Append under a dead process's dotlock = %v, want nil", err)
	}

	// A lock older than LockTimeout (5 minutes) is stale, whoever holds it.
	os.WriteFile(lock, []byte("junk\n"), 0o644)
	old := time.Now().Add(-6 * time.Minute)
	os.Chtimes(lock, old, old)
	if err := appendCtx(context.Background(), s); err != nil {
		t.Errorf("Append under a stale dotlock = %v, want nil", err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale lock left behind: %v", err)
	}
}

// TestFcntlAndFlock holds a classic fcntl lock (as exim and postfix take)
// and then a flock (as procmail and mutt may) on the spool file, and
// checks that a write waits for each.
func TestFcntlAndFlock(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	if err := appendCtx(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	inbox := testOptions(dir).Inbox
	for _, tc := range []struct {
		name string
		lock func(f *os.File) error
	}{
		{"fcntl", func(f *os.File) error {
			return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &syscall.Flock_t{Type: syscall.F_WRLCK})
		}},
		{"flock", func(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }},
	} {
		f, err := os.OpenFile(inbox, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.lock(f); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		err = appendCtx(ctx, s)
		cancel()
		if !errors.Is(err, mailstore.ErrLocked) {
			t.Errorf("Append under another's %s lock = %v, want ErrLocked", tc.name, err)
		}
		f.Close() // releases both kinds
		if err := appendCtx(context.Background(), s); err != nil {
			t.Errorf("Append after the %s lock went = %v", tc.name, err)
		}
	}
}

// TestDotlockHelper takes the dotlock through a helper, as when the spool
// directory is root:mail 2775: first a fake that records its arguments,
// then Debian's real dotlockfile when installed.
func TestDotlockHelper(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "helper.log")
	fake := filepath.Join(dir, "fake-dotlockfile")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s\ncase \"$1\" in -l) : > \"$4\";; -u) rm -f \"$2\";; esac\n", logf)
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	opts.DotlockHelper = fake
	os.MkdirAll(filepath.Dir(opts.Inbox), 0o755)
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mbox.SetForceHelper(s, true)
	if err := appendCtx(context.Background(), s); err != nil {
		t.Fatalf("Append with the helper = %v", err)
	}
	got, _ := os.ReadFile(logf)
	lock := opts.Inbox + ".lock"
	want := fmt.Sprintf("-l -r 0 %s\n-u %s\n", lock, lock)
	if string(got) != want {
		t.Errorf("helper calls = %q, want %q", got, want)
	}

	real := "/usr/bin/dotlockfile"
	if _, err := os.Stat(real); err != nil {
		needProgram(t, "dotlockfile")
		return
	}
	opts.DotlockHelper = real
	opts.IndexPath = filepath.Join(dir, "index2.sqlite")
	s2, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	mbox.SetForceHelper(s2, true)
	if err := appendCtx(context.Background(), s2); err != nil {
		t.Fatalf("Append with %s = %v", real, err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left %s: %v", real, lock, err)
	}
}

// TestDotlockHelperBusy: while another program holds the spool's dotlock,
// the helper (run with "-r 0", one attempt) exits 4 and is run again
// after lockRetry, not after dotlockfile's own back-off of 5 s and more,
// which was spent holding the index's write lock (other sessions then
// failed with SQLITE_BUSY). Any other exit status is a refusal.
func TestDotlockHelperBusy(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "helper.log")
	fake := filepath.Join(dir, "fake-dotlockfile")
	// Busy for the first three attempts, then the lock is free.
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %[1]s
case "$1" in
-l) [ $(grep -c '^-l' %[1]s) -le 3 ] && exit 4; : > "$4";;
-u) rm -f "$2";;
esac
`, logf)
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	opts.DotlockHelper = fake
	os.MkdirAll(filepath.Dir(opts.Inbox), 0o755)
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mbox.SetForceHelper(s, true)
	if err := appendCtx(context.Background(), s); err != nil {
		t.Fatalf("Append with a busy helper = %v", err)
	}
	got, _ := os.ReadFile(logf)
	lock := opts.Inbox + ".lock"
	l := "-l -r 0 " + lock + "\n"
	if want := l + l + l + l + "-u " + lock + "\n"; string(got) != want {
		t.Errorf("helper calls = %q, want %q", got, want)
	}

	// An error other than "busy" (5: L_ERROR) is not retried.
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"cannot create\" >&2\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := appendCtx(context.Background(), s); !errors.Is(err, mailstore.ErrLocked) {
		t.Errorf("Append with a failing helper = %v, want ErrLocked", err)
	}
}

// needProgram fails the test for a missing program unless
// POSTERN_SKIP_PROGRAMS=1, in which case it skips.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
		t.Skipf("%s not installed (POSTERN_SKIP_PROGRAMS=1)", name)
	}
	t.Fatalf("%s not installed (apt-get install uw-mailutils liblockfile-bin, or set POSTERN_SKIP_PROGRAMS=1)", name)
	return ""
}

// logStore opens a test store whose log goes to buf.
func logStore(t *testing.T, dir string, buf *bytes.Buffer) mailstore.Store {
	t.Helper()
	opts := testOptions(dir)
	opts.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	os.MkdirAll(filepath.Dir(opts.Inbox), 0o755)
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIndexFastPath checks what the index saves: an unchanged file is
// not read again by a new Store; mail an MTA appends is read from the old
// end only; any other change is read in full, keeping UIDs.
func TestIndexFastPath(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var log bytes.Buffer
	b, _ := os.ReadFile("testdata/inbox-delivered.mbox")
	inbox := testOptions(dir).Inbox
	os.MkdirAll(filepath.Dir(inbox), 0o755)
	os.WriteFile(inbox, b, 0o600)
	s := logStore(t, dir, &log)
	st1, err := s.Status(ctx, "INBOX")
	if err != nil || st1.Messages != 4 {
		t.Fatalf("Status = %+v, %v, want 4 messages", st1, err)
	}
	s.Close()
	const full = "reading it again"

	// Unchanged: a new Store (a new process) does not reread the file.
	log.Reset()
	s = logStore(t, dir, &log)
	defer s.Close()
	if st, _ := s.Status(ctx, "INBOX"); st != st1 {
		t.Errorf("Status after reopen = %+v, want %+v", st, st1)
	}

	// An MTA appends: parsed from the old end.
	mtaAppend(t, inbox, "From mta@example.org Wed Nov 25 13:00:00 2026\nSubject: delivered\n\nnew mail\n\n")
	st2, _ := s.Status(ctx, "INBOX")
	if st2.Messages != 5 || st2.UIDNext != 6 {
		t.Errorf("Status after delivery = %+v, want 5 messages, UIDNEXT 6", st2)
	}
	if strings.Contains(log.String(), full) {
		t.Errorf("an append was read in full:\n%s", log.String())
	}

	// Another MUA rewrites the file (here: changes a body byte in place):
	// read in full; the UIDs, recognized by fingerprint, stay.
	b, _ = os.ReadFile(inbox)
	i := bytes.Index(b, []byte("Hello,"))
	b[i] = 'J'
	os.WriteFile(inbox, b, 0o600)
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	msgs, _ := mb.Messages(ctx)
	var uids []uint32
	for _, m := range msgs {
		uids = append(uids, m.UID)
	}
	if want := []uint32{1, 2, 3, 4, 5}; fmt.Sprint(uids) != fmt.Sprint(want) {
		t.Errorf("UIDs after a rewrite by another program = %v, want %v", uids, want)
	}
	if !strings.Contains(log.String(), full) {
		t.Errorf("a rewrite was not read in full:\n%s", log.String())
	}
	if got := readMsg(t, mb, 1); !strings.Contains(got, "Jello,") {
		t.Errorf("UID 1 after the rewrite = %q", got)
	}
}

// TestDotlockHelperMissing: without a helper to run, writes go on under
// fcntl and flock (and say so in the log).
func TestDotlockHelperMissing(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	opts := testOptions(dir)
	opts.DotlockHelper = filepath.Join(dir, "no-such-helper")
	opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
	os.MkdirAll(filepath.Dir(opts.Inbox), 0o755)
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mbox.SetForceHelper(s, true)
	if err := appendCtx(context.Background(), s); err != nil {
		t.Fatalf("Append without a helper = %v, want nil", err)
	}
	if !strings.Contains(log.String(), "fcntl and flock only") {
		t.Errorf("no warning logged: %q", log.String())
	}
}
