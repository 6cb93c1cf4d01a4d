package mbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// c-client's session lock (uw-imap-docs/locking.txt, "BEZERK AND MMDF",
// lock 3). A UW program that opens an mbox file read-write (imapd,
// mailutil, pine) holds an exclusive flock on /tmp/.DEV.INO (the file's
// device and inode in hex) for its whole session, and at its checkpoints
// rewrites the file from what it read at open: header sizes, flags, UIDs.
// A rewrite by another program in between breaks that session: c-client
// aborts with "header size inconsistent" in the middle of its own
// rewrite (integration/stress_test.go: mailutil copy -rw while we wrote
// pending X-UIDs). So, as UW's own append does, we take that lock
// (without waiting) before changing any byte already in the file. While
// another session holds it we only append, without X-UID (the session
// numbers new messages itself, from UIDLAST in file order, as the index
// did), keep flag and UID changes in the index (rows stay dirty, written
// at a later flush), and a rewrite (EXPUNGE, MOVE) waits for the session
// to end, up to Options.SessionLockWait, then fails with ErrLocked.

// uwLockDir is where c-client puts its session locks (its tmpdir).
var uwLockDir = "/tmp"

// errUWSession says a c-client session holds the file: the write must
// wait (Store.write retries it).
var errUWSession = fmt.Errorf("mbox: the file is open read-write by a c-client (UW) program: %w", mailstore.ErrLocked)

// uwSessionLock is c-client's session lock, held by us.
type uwSessionLock struct {
	f    *os.File
	path string
}

// takeUWSessionLock takes c-client's session lock on the mailbox file f
// without waiting. It returns busy when another process holds it. A lock
// file that cannot be used (not ours to open, a hard link, a symbolic
// link) is no lock at all, as for c-client (which then refuses to write):
// busy is false and nothing is held, so mail keeps flowing.
func takeUWSessionLock(f *os.File) (lk *uwSessionLock, busy bool) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, false
	}
	path := filepath.Join(uwLockDir, fmt.Sprintf(".%x.%x", uint64(st.Dev), st.Ino))
	for range 3 {
		lf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o666)
		if err != nil {
			return nil, false
		}
		if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lf.Close()
			return nil, errors.Is(err, syscall.EWOULDBLOCK)
		}
		// The name may have been unlinked (its holder ending) between
		// our open and our flock: the lock is good only on the file
		// the name still gives, and a single link (c-client's check).
		var held, named syscall.Stat_t
		if syscall.Fstat(int(lf.Fd()), &held) == nil && syscall.Lstat(path, &named) == nil &&
			held.Dev == named.Dev && held.Ino == named.Ino && held.Nlink == 1 {
			// No PID of ours in it: a c-client finding the lock held
			// sends its "kiss of death" (SIGUSR2) to the PID written
			// there; with none it opens the file read-only.
			lf.Truncate(0)
			os.Chmod(path, 0o666) // as c-client: every user's programs open it
			return &uwSessionLock{f: lf, path: path}, false
		}
		lf.Close()
	}
	return nil, false
}

// release drops the lock and, as c-client does, the lock file.
func (l *uwSessionLock) release() {
	if l == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
}

// prepareToRewrite is prepare for a file the transaction must rewrite
// after a change it cannot undo (MOVE: the destination holds the
// messages): while a c-client session holds the file, it tries again,
// the file unlocked in between, up to SessionLockWait. It then fails with
// ErrLocked, not errUWSession, so that Store.write does not run the MOVE
// again: the messages are in the destination file, which the next look
// reads (a COPY, then, never a loss).
func (w *wtx) prepareToRewrite(r *mboxRow, file string) (*openFile, error) {
	deadline := time.Now().Add(w.s.opts.SessionLockWait)
	for {
		of, err := w.prepare(r, file, false)
		if err != nil || of == nil || !of.uwBusy {
			return of, err
		}
		of.close()
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("mbox: %s is open read-write by a c-client (UW) program: %w", file, mailstore.ErrLocked)
		}
		select {
		case <-w.ctx.Done():
			return nil, w.ctx.Err()
		case <-time.After(sessionRetry):
		}
	}
}
