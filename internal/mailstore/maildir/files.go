package maildir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// trashPrefix names a deleted mailbox's directory while it is being removed;
// without a leading dot it is never taken for a Maildir++ folder.
const trashPrefix = "postern-deleted-"

var (
	hostname = func() string {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		// The Maildir convention: "/" and ":" cannot appear in a name.
		return strings.NewReplacer("/", `\057`, ":", `\072`).Replace(h)
	}()
	deliveries atomic.Uint64
)

// newBase returns a unique Maildir file name (cr.yp.to/proto/maildir.html):
// seconds, microseconds, pid, a per-process counter and random bits, host.
func (s *Store) newBase() string {
	now := s.opts.Now()
	var r [4]byte
	rand.Read(r[:])
	return fmt.Sprintf("%d.M%dP%dQ%dR%s.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(),
		deliveries.Add(1), hex.EncodeToString(r[:]), hostname)
}

// syncDir makes a rename or unlink in dir durable.
func (s *Store) syncDir(dir string) error {
	if s.opts.NoFsync {
		return nil
	}
	d, err := openRaw(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("maildir: fsync %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic replaces path with data by writing a temporary file beside
// it and renaming it over, so readers see the old or the new content.
func (s *Store) writeFileAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+s.newBase())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && !s.opts.NoFsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("maildir: write %s: %w", path, err)
	}
	return s.syncDir(filepath.Dir(path))
}

// isFolder reports whether dir is a Maildir folder: a real directory (not a
// symbolic link that could lead outside the root; allowLink admits one for
// the root itself) holding cur/, and new/ and tmp/ if any, all real
// directories.
func isFolder(dir string, allowLink bool) bool {
	fi, err := os.Lstat(dir)
	if err != nil {
		return false
	}
	if !fi.IsDir() && !(allowLink && fi.Mode()&os.ModeSymlink != 0) {
		return false
	}
	// cur/, new/ and tmp/ are the folder's own directories, never links: a
	// folder whose new/ led out of the root would have its files read, and
	// moved into cur/, from wherever the link points (issue 8 item 7).
	ci, err := os.Lstat(filepath.Join(dir, "cur"))
	if err != nil || !ci.IsDir() {
		return false
	}
	for _, sub := range []string{"new", "tmp"} {
		if si, err := os.Lstat(filepath.Join(dir, sub)); err == nil && !si.IsDir() {
			return false
		}
	}
	return true
}

// mtimeOf returns a directory's modification time in nanoseconds, or -2 when
// it cannot be read (never equal to a stored value, so it forces a scan).
func mtimeOf(dir string) int64 {
	fi, err := os.Stat(dir)
	if err != nil {
		return -2
	}
	return fi.ModTime().UnixNano()
}

// renameNoReplace renames from to to unless to exists: link, then unlink,
// so a message file is never overwritten. Where hard links are not
// supported it falls back to a plain rename after a check.
func renameNoReplace(from, to string) error {
	err := os.Link(from, to)
	if err == nil {
		return os.Remove(from)
	}
	if errors.Is(err, os.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(to); serr == nil {
		return fmt.Errorf("maildir: %s: %w", to, os.ErrExist)
	}
	return os.Rename(from, to)
}
