package mbox

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Confinement (DESIGN.md §1: a user's mailboxes never escape the mail
// root). Names are checked first (canonical: no "..", no absolute path,
// no "~user"), but a name inside Root can still lead out of it through a
// symbolic link the user planted: ~/evil -> /etc/passwd, ~/dir -> /home/B.
// The kernel stops a system user at other users' private files, not at
// world-readable ones (root's, or B's 0644 files), and in a store shared
// by virtual users it stops nothing. So a symbolic link is followed only
// when its real path stays under the real Root; any other, like a
// dangling link or a loop, is treated as a file that is not there (LIST
// skips every link already). INBOX is the configured file and exempt, and
// so is everything under Options.AllowOutsideRoot (UW's behaviour).
//
// The check and the open are two system calls, so a user racing their own
// session can swap a link in between; that gains them only files their
// own uid can read, the same as `cat`, since the session runs as them.

// within reports whether p is dir or below it; both are clean absolute
// paths.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// escapes reports whether path p (below Root by construction) leads out
// of the real Root through a symbolic link in any component that exists.
// Components that do not exist yet lead nowhere.
func (s *Store) escapes(p string) bool {
	if p == s.inbox || s.opts.AllowOutsideRoot {
		return false
	}
	rel, err := filepath.Rel(s.opts.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return true
	}
	if rel == "." {
		return false
	}
	cur := s.opts.Root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return false
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		real, err := filepath.EvalSymlinks(cur)
		if err != nil || !within(real, s.realRoot) {
			return true
		}
	}
	return false
}

// realRootOf returns the real path of root (itself possibly a link, as
// ~/mail often is), or root when it cannot be resolved.
func realRootOf(root string) string {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		return r
	}
	return root
}
