package maildir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/postern/postern/internal/mailstore"
)

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
// it into cur/ with its flags in the name, fsyncs cur/, notes it in the
// uidlist and commits. Its file mtime is the internal date, so a file left
// in cur/ by a crash before the commit is picked up with the right date
// and flags.
func (s *Store) Append(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions) (uint32, uint32, error) {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return 0, 0, err
	}
	flags, err := mailstore.NormalizeFlags(opts.Flags)
	if err != nil {
		return 0, 0, err
	}
	dir, err := s.dirOf(cn)
	if err != nil {
		return 0, 0, err
	}
	if !isFolder(dir, cn == "INBOX") {
		return 0, 0, notExist(name)
	}
	date := opts.InternalDate
	if date.IsZero() {
		date = s.opts.Now()
	}
	base := s.newBase()
	tmp := filepath.Join(dir, "tmp", base)
	size, err := s.writeTmp(tmp, r)
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp) // a no-op once renamed into cur/
	if err := os.Chtimes(tmp, date, date); err != nil {
		return 0, 0, ioErr("append", err)
	}
	sys, kws := splitFlags(flags)
	_, off := date.Zone()
	var uv, uid uint32
	err = s.write(ctx, func(w *wtx) error {
		row, err := w.ensureRow(0, cn)
		if err != nil {
			return err
		}
		if err := w.sync(&row); err != nil {
			return err
		}
		km, err := w.keywords(row.id)
		if err != nil {
			return err
		}
		info := infoFor(sys, kws, km.index)
		if err := w.saveKeywords(row, km); err != nil {
			return err
		}
		curDir := filepath.Join(row.dir, "cur")
		dst := filepath.Join(curDir, base+info)
		if err := os.Rename(tmp, dst); err != nil {
			return ioErr("append", err)
		}
		w.undo = append(w.undo, func() { os.Remove(dst) })
		if err := s.syncDir(curDir); err != nil {
			return err
		}
		uid = row.uidNext
		row.uidNext++
		row.modSeq++
		err = w.exec(`INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row.id, uid, row.modSeq, sys, kws, size, date.Unix(), off, base, info)
		if err != nil {
			return err
		}
		if err := w.setSaveDate(row.id, uid, true); err != nil {
			return err
		}
		if err := s.appendUIDList(row.dir, []uidLine{{uid, base}}); err != nil {
			return err
		}
		row.uidlistLines++
		w.stamp(&row)
		w.touched[row.id] = true
		uv = row.uidValidity
		return w.saveRow(&row)
	})
	if err != nil {
		return 0, 0, err
	}
	return uv, uid, nil
}

// writeTmp writes a new file and makes it durable.
func (s *Store) writeTmp(path string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
	if err != nil {
		return 0, ioErr("append", err)
	}
	n, err := io.Copy(f, r)
	if err == nil && !s.opts.NoFsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, ioErr("append", err)
	}
	return n, nil
}
