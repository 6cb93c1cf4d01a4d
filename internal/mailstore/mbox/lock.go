package mbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// Locking as Debian's mail programs do it (uw-imap-docs/locking.txt; exim
// and postfix take a dotlock and fcntl, mutt all three):
//
//   - NAME.lock, created with O_EXCL (NFS-safe enough on Linux), holding
//     our PID; through the setgid-mail dotlockfile helper when the
//     directory is not writable by the user;
//   - a POSIX fcntl lock on the whole file, taken as an open file
//     description lock (F_OFD_SETLK), which conflicts with the classic
//     F_SETLK locks of MTAs but is not dropped when another descriptor of
//     the same file is closed in this process (a reader finishing);
//   - flock(2) on the same descriptor.
//
// Locks are taken only around a read of a changed region or a write and
// never held between calls.

// fOFDSetLk is F_OFD_SETLK (Linux 3.15+); syscall does not name it.
const fOFDSetLk = 37

// fileLock is a held set of locks on one mailbox file.
type fileLock struct {
	f        *os.File
	dotlock  string // path of NAME.lock we created, or ""
	viaHelp  bool   // dotlock taken by the helper
	helper   string
	exclusiv bool
}

// lockRetry is the pause between attempts to take a lock held by another
// program.
const lockRetry = 50 * time.Millisecond

// lockFile takes the locks for writing (exclusive: dotlock, fcntl write
// lock, LOCK_EX) or for reading an unchanged region (shared: fcntl read
// lock and LOCK_SH, no dotlock) on f, whose path is path.
func (s *Store) lockFile(ctx context.Context, f *os.File, path string, exclusive bool) (*fileLock, error) {
	l := &fileLock{f: f, helper: s.opts.DotlockHelper, exclusiv: exclusive}
	if exclusive {
		if err := s.dotlock(ctx, path, l); err != nil {
			return nil, err
		}
	}
	typ, how := int16(syscall.F_RDLCK), syscall.LOCK_SH
	if exclusive {
		typ, how = syscall.F_WRLCK, syscall.LOCK_EX
	}
	deadline := time.Now().Add(s.opts.LockTimeout)
	for {
		flk := syscall.Flock_t{Type: typ, Whence: 0}
		err := syscall.FcntlFlock(f.Fd(), fOFDSetLk, &flk)
		if errors.Is(err, syscall.EINVAL) {
			// No OFD locks (old kernel, some file systems): classic fcntl.
			err = syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &flk)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
			l.unlockDot()
			return nil, fmt.Errorf("mbox: fcntl lock %s: %w", path, err)
		}
		if err := s.lockWait(ctx, deadline); err != nil {
			l.unlockDot()
			return nil, fmt.Errorf("mbox: %s: fcntl lock held by another program: %w", path, err)
		}
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			l.unlockFcntl()
			l.unlockDot()
			return nil, fmt.Errorf("mbox: flock %s: %w", path, err)
		}
		if err := s.lockWait(ctx, deadline); err != nil {
			l.unlockFcntl()
			l.unlockDot()
			return nil, fmt.Errorf("mbox: %s: flock held by another program: %w", path, err)
		}
	}
	return l, nil
}

func (s *Store) lockWait(ctx context.Context, deadline time.Time) error {
	if time.Now().After(deadline) {
		return mailstore.ErrLocked
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", mailstore.ErrLocked, ctx.Err())
	case <-time.After(lockRetry):
		return nil
	}
}

// unlock releases every lock, the dotlock last (as it was taken first).
func (l *fileLock) unlock() {
	if l == nil {
		return
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.unlockFcntl()
	l.unlockDot()
}

func (l *fileLock) unlockFcntl() {
	flk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: 0}
	if err := syscall.FcntlFlock(l.f.Fd(), fOFDSetLk, &flk); errors.Is(err, syscall.EINVAL) {
		syscall.FcntlFlock(l.f.Fd(), syscall.F_SETLK, &flk)
	}
}

func (l *fileLock) unlockDot() {
	switch {
	case l.dotlock == "":
	case l.viaHelp:
		exec.Command(l.helper, "-u", l.dotlock).Run()
	default:
		os.Remove(l.dotlock)
	}
	l.dotlock = ""
}

// dotlock creates path.lock, waiting for another holder up to
// LockTimeout, and breaking a stale lock: one older than LockTimeout, or
// one whose PID (on this host) no longer runs. A directory we may not
// write to is left to the helper.
func (s *Store) dotlock(ctx context.Context, path string, l *fileLock) error {
	lp := path + ".lock"
	if !s.dirWritable(filepath.Dir(path)) {
		return s.dotlockHelper(ctx, lp, l)
	}
	start := time.Now()
	for {
		f, err := os.OpenFile(lp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			// The PID lets a crashed holder's lock be broken at once; write
			// it as liblockfile does ("%d\n").
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			l.dotlock = lp
			return nil
		}
		if errors.Is(err, os.ErrPermission) {
			return s.dotlockHelper(ctx, lp, l)
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mbox: dotlock %s: %w", lp, err)
		}
		if s.staleLock(lp, start) {
			s.log.Warn("mbox: breaking stale lock", "lock", lp)
			os.Remove(lp)
			continue
		}
		if err := s.lockWait(ctx, start.Add(2*s.opts.LockTimeout)); err != nil {
			return fmt.Errorf("mbox: %s: %w", lp, err)
		}
	}
}

// staleLock reports whether the lock file at lp may be broken.
func (s *Store) staleLock(lp string, waitStart time.Time) bool {
	fi, err := os.Stat(lp)
	if err != nil {
		return false // gone: the next create succeeds
	}
	if time.Since(fi.ModTime()) >= s.opts.LockTimeout || time.Since(waitStart) >= s.opts.LockTimeout {
		return true
	}
	b, err := os.ReadFile(lp)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	// ESRCH: no such process. EPERM means it exists (another user's).
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// dotlockBusy is dotlockfile's exit status when the lock is held by
// someone else and its retries ran out (liblockfile's L_MAXTRYS).
const dotlockBusy = 4

// dotlockHelper takes lp with liblockfile's dotlockfile, which breaks
// stale locks itself (a dead holder's PID, or older than five minutes).
// It is run with "-r 0", one attempt, and retried here every lockRetry up
// to LockTimeout: its own retries sleep 5 s, then 10 s, and so on, and
// every wait is spent holding the index's write lock, so with an MTA
// delivering often a write took tens of seconds and other sessions' index
// writes failed with SQLITE_BUSY (found by integration/stress_test.go).
func (s *Store) dotlockHelper(ctx context.Context, lp string, l *fileLock) error {
	deadline := time.Now().Add(s.opts.LockTimeout)
	for {
		cmd := exec.CommandContext(ctx, s.opts.DotlockHelper, "-l", "-r", "0", lp)
		out, err := cmd.CombinedOutput()
		if err == nil {
			l.dotlock, l.viaHelp = lp, true
			return nil
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			// No helper to run: go on with fcntl and flock, which Debian's
			// MTAs take too, rather than refuse all writes (UW went on with
			// a "Mailbox vulnerable" warning).
			s.log.Warn("mbox: cannot run the dotlock helper; locking with fcntl and flock only", "helper", s.opts.DotlockHelper, "lock", lp, "err", err)
			return nil
		}
		if ee.ExitCode() != dotlockBusy {
			return fmt.Errorf("mbox: %s via %s: %s: %w", lp, s.opts.DotlockHelper, strings.TrimSpace(string(out)), mailstore.ErrLocked)
		}
		if err := s.lockWait(ctx, deadline); err != nil {
			return fmt.Errorf("mbox: %s via %s: held by another program: %w", lp, s.opts.DotlockHelper, err)
		}
	}
}

// dirWritable reports whether we may create files in dir.
func (s *Store) dirWritable(dir string) bool {
	if s.forceHelper {
		return false
	}
	return syscall.Access(dir, 2 /* W_OK */) == nil
}
