package maildir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

var _ mailstore.SessionAppender = (*Store)(nil)

// ioErr wraps a file-system error, giving ENOSPC and EDQUOT their
// mailstore kinds so adapters answer with the right response code.
func ioErr(what string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("maildir: %s: %w: %w", what, mailstore.ErrNoSpace, err)
	case errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("maildir: %s: %w: %w", what, mailstore.ErrQuota, err)
	}
	return fmt.Errorf("maildir: %s: %w", what, err)
}

// Append implements mailstore.Store. The message is written to tmp/ and
// fsync'd outside any lock; the transaction then gives it its UID, renames
// it into cur/ with its flags in the name, notes it in the uidlist and
// commits lazily (writeLazy: the index's WAL is not fsynced); cur/ and
// the uidlist are fsynced after the commit, outside the write lock, and
// before Append returns. Its file mtime is the internal date, so a file
// left in cur/ by a crash before the commit is picked up with the right
// date and flags.
//
// Three device flushes, as Dovecot's (file, its directory, uidlist), in
// two rounds: the file, then cur/ and the uidlist at once, while the next
// APPEND of the user takes the lock (issue 7). The WAL's flush, a fourth,
// is left out: what the OK promises is durable without it, the file and
// its directory entry and the UID in the uidlist, and a power loss that
// takes the commit from the index is undone from them (recoverUIDs). A
// power loss between the commit and the two fsyncs may lose the rename,
// and the next sync then takes the index row without its file for an
// expunge: a message whose APPEND was never answered OK is gone, and its
// UID is never given again.
func (s *Store) Append(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions) (uint32, uint32, error) {
	res, err := s.AppendSession(ctx, name, r, opts, mailstore.SessionAppend{})
	return res.UIDValidity, res.UID, err
}

// AppendSession implements mailstore.SessionAppender: Append, with the
// cache entry made from the file in tmp/ (through the descriptor that
// wrote it, from the page cache) and the \Recent claim in Append's
// transaction.
func (s *Store) AppendSession(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions, sa mailstore.SessionAppend) (mailstore.AppendResult, error) {
	var res mailstore.AppendResult
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return res, err
	}
	flags, err := mailstore.NormalizeFlags(opts.Flags)
	if err != nil {
		return res, err
	}
	dir, err := s.dirOf(cn)
	if err != nil {
		return res, err
	}
	if !isFolder(dir, cn == "INBOX") {
		return res, notExist(name)
	}
	date := opts.InternalDate
	if date.IsZero() {
		date = s.opts.Now()
	}
	base := s.newBase()
	tmp := filepath.Join(dir, "tmp", base)
	size, cached, err := s.writeTmp(tmp, r, date, sa.Cache)
	if err != nil {
		return res, err
	}
	renamed := false
	var uidlistDone func(sync bool) error
	defer func() {
		if !renamed {
			os.Remove(tmp)
		}
		if uidlistDone != nil {
			uidlistDone(false)
		}
	}()
	sys, kws := splitFlags(flags)
	_, off := date.Zone()
	var syncCur string
	err = s.writeLazy(ctx, func(w *wtx) error {
		row, err := w.ensureRow(0, cn)
		if err != nil {
			return err
		}
		if err := w.sync(&row); err != nil {
			return err
		}
		info := infoFor(sys, "", nil)
		if kws != "" { // the keyword letters: most APPENDs have none
			km, err := w.keywords(row.id)
			if err != nil {
				return err
			}
			info = infoFor(sys, kws, km.index)
			if err := w.saveKeywords(row, km); err != nil {
				return err
			}
		}
		curDir := filepath.Join(row.dir, "cur")
		dst := filepath.Join(curDir, base+info)
		if err := os.Rename(tmp, dst); err != nil {
			return ioErr("append", err)
		}
		renamed = true
		w.undo = append(w.undo, func() { os.Remove(dst) })
		syncCur = curDir
		uid := row.uidNext
		row.uidNext++
		res.Recent = sa.ClaimRecent && row.recentUID+1 == uid
		if res.Recent {
			row.recentUID = uid
		}
		row.modSeq++
		err = w.exec(`INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row.id, uid, row.modSeq, sys, kws, size, date.Unix(), off, base, info)
		if err != nil {
			return err
		}
		if err := w.setSaveDate(row.id, uid, true); err != nil {
			return err
		}
		if cached != nil {
			if err := w.exec(`INSERT OR REPLACE INTO cache(mailbox_id, uid, data) VALUES (?, ?, ?)`, row.id, uid, cached); err != nil {
				return err
			}
		}
		if uidlistDone, err = s.appendUIDListUnsynced(row.dir, []uidLine{{uid, base}}); err != nil {
			return err
		}
		row.uidlistLines++
		w.stamp(&row)
		w.touched[row.id] = true
		res.UIDValidity, res.UID = row.uidValidity, uid
		return w.saveRow(&row)
	})
	if err != nil {
		return mailstore.AppendResult{}, err
	}
	done := uidlistDone
	uidlistDone = nil // closed here, not by the deferred cleanup
	if err := s.syncAfterCommit(syncCur, done); err != nil {
		return mailstore.AppendResult{}, fmt.Errorf("%w (the message is in the mailbox as UID %d, but may not survive a crash)", err, res.UID)
	}
	return res, nil
}

// syncAfterCommit fsyncs a directory a committed transaction renamed into
// and closes the uidlist it appended to, fsyncing it; the two flushes run
// at once.
func (s *Store) syncAfterCommit(dir string, uidlistDone func(sync bool) error) error {
	dirErr := make(chan error, 1)
	go func() { dirErr <- s.syncDir(dir) }()
	err := uidlistDone(true)
	return errors.Join(<-dirErr, err)
}

// writeTmp writes a new file with modification time mtime (a message's
// internal date) and makes it durable, the time with it: a message taken
// back from the file after a power loss has its date (lostcommits.go).
// cache, when not nil, reads it back through the same descriptor
// (AppendSession); its failure only leaves cached nil.
func (s *Store) writeTmp(path string, r io.Reader, mtime time.Time, cache func(io.ReaderAt, int64) ([]byte, error)) (n int64, cached []byte, err error) {
	f, err := s.createTmp(path)
	if err != nil {
		return 0, nil, ioErr("append", err)
	}
	buf := copyBuffers.Get().(*[]byte)
	n, err = io.CopyBuffer(f, r, *buf)
	copyBuffers.Put(buf)
	if err == nil {
		err = os.Chtimes(path, mtime, mtime)
	}
	if err == nil && !s.opts.NoFsync {
		err = f.Sync()
	}
	if err == nil && cache != nil {
		if data, cerr := cache(f, n); cerr == nil {
			cached = data
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, nil, ioErr("append", err)
	}
	return n, cached, nil
}

// copyBuffers holds the buffers writeTmp copies messages through: io.Copy
// made a 32 KiB one per message, garbage at every APPEND (issue 7).
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// createTmp creates the file at path for writing: when path is in a
// folder's tmp/ and the folder has a spare file (spares.go), that file
// renamed there and emptied, a new file otherwise.
func (s *Store) createTmp(path string) (rawFile, error) {
	if dir := filepath.Dir(path); filepath.Base(dir) == "tmp" && s.claimSpare(dir, path) {
		// Emptied only once checked: a file linked from elsewhere (put
		// there under a spare's name) is never truncated.
		f, err := openRaw(path, os.O_RDWR|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err == nil {
			var st syscall.Stat_t
			if syscall.Fstat(f.fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Nlink == 1 &&
				(os.FileMode(st.Mode).Perm() == s.opts.FileMode.Perm() || syscall.Fchmod(f.fd, uint32(s.opts.FileMode.Perm())) == nil) &&
				syscall.Ftruncate(f.fd, 0) == nil {
				return f, nil
			}
			f.Close()
		}
		os.Remove(path) // not a file this store may write into: made anew
	}
	return openRaw(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, s.opts.FileMode)
}
