package mbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/postern/postern/internal/mailstore"
)

// Names (uw-imap-docs/naming.txt): INBOX is the spool file; any other
// name is a file under Root, "/" separating directories. A directory is a
// mailbox too: the mailstore contract (storetest) wants "a" selectable
// when "a/b" exists, which a flat file cannot be, so a directory's own
// messages live in DIR/.postern-mbox, created on its first message.
// UW and mutt see such a directory as a \NoSelect parent, and its
// messages only by opening "a/.postern-mbox".
//
// Components starting with "." (dotfiles, our own files) or ending in
// ".lock" (dotlocks) are refused; so are names starting with "~" unless
// Options.AllowOutsideRoot.

// selfName is the file holding a directory mailbox's own messages.
const selfName = ".postern-mbox"

// maxComponent and maxPath are Linux's NAME_MAX and PATH_MAX less room
// for the ".lock" suffix and the root: longer names are refused as
// invalid rather than failing in the file system (ENAMETOOLONG).
const (
	maxComponent = 255 - len(".lock")
	maxPath      = 4096 - 1024
)

const errNoSpace = syscall.ENOSPC
const errQuota = syscall.EDQUOT

// canonical checks name as the contract and UW naming ask and returns it
// canonical.
func (s *Store) canonical(name string) (string, error) {
	n, err := mailstore.CanonicalName(name)
	if err != nil {
		return "", err
	}
	if n == "INBOX" {
		return n, nil
	}
	if len(n) > maxPath {
		return "", fmt.Errorf("mbox: %q: name too long: %w", name, mailstore.ErrInvalidName)
	}
	for i, p := range strings.Split(n, "/") {
		if len(p) > maxComponent {
			return "", fmt.Errorf("mbox: %q: name component too long: %w", name, mailstore.ErrInvalidName)
		}
		if strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".lock") {
			return "", fmt.Errorf("mbox: %q: names starting with \".\" or ending in \".lock\" are reserved: %w", name, mailstore.ErrInvalidName)
		}
		if i == 0 && strings.HasPrefix(p, "~") && !s.opts.AllowOutsideRoot {
			return "", fmt.Errorf("mbox: %q: names outside the mail directory are not allowed: %w", name, mailstore.ErrInvalidName)
		}
	}
	p, err := s.nodePath(n)
	if err != nil {
		return "", err
	}
	if p == s.inbox || p == s.opts.IndexPath {
		return "", fmt.Errorf("mbox: %q: reserved name: %w", name, mailstore.ErrInvalidName)
	}
	return n, nil
}

// nodePath returns the file system path a (canonical) name maps to: the
// file, or the directory of a directory mailbox. INBOX maps to the spool
// file.
func (s *Store) nodePath(name string) (string, error) {
	if name == "INBOX" {
		return s.inbox, nil
	}
	parts := strings.Split(name, "/")
	base := s.opts.Root
	if strings.HasPrefix(parts[0], "~") && s.opts.AllowOutsideRoot {
		u, err := lookupHome(parts[0][1:])
		if err != nil {
			return "", fmt.Errorf("mbox: %q: %w", name, mailstore.ErrNotExist)
		}
		base, parts = u, parts[1:]
	}
	return filepath.Join(append([]string{base}, parts...)...), nil
}

func lookupHome(name string) (string, error) {
	if name == "" {
		return os.UserHomeDir()
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}

// isLink reports whether p is a symbolic link.
func isLink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// node is what a name is on disk.
type node struct {
	path string // the node: file or directory
	file string // the file holding the messages
	dir  bool
}

// lookup returns the node of a canonical name, or ErrNotExist. INBOX
// always exists (its file may not).
func (s *Store) lookup(name string) (node, error) {
	p, err := s.nodePath(name)
	if err != nil {
		return node{}, err
	}
	if name == "INBOX" {
		return node{path: p, file: p}, nil
	}
	if s.escapes(p) {
		return node{}, notExist(name)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return node{}, notExist(name)
	}
	if fi.IsDir() {
		file := filepath.Join(p, selfName)
		if s.escapes(file) {
			return node{}, notExist(name)
		}
		return node{path: p, file: file, dir: true}, nil
	}
	if !fi.Mode().IsRegular() {
		return node{}, notExist(name)
	}
	return node{path: p, file: p}, nil
}

// isMboxFile reports whether a file looks like an mbox (empty, or starting
// with "From "), so that LIST does not offer every file of a home
// directory as UW did.
func isMboxFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [5]byte
	n, _ := f.Read(b[:])
	return n == 0 || string(b[:n]) == "From "
}

// listNames returns every mailbox name under Root (not INBOX), sorted.
func (s *Store) listNames() ([]string, error) {
	var out []string
	const maxDepth = 16
	err := filepath.WalkDir(s.opts.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == s.opts.Root {
				return err
			}
			return nil
		}
		if p == s.opts.Root {
			return nil
		}
		rel, _ := filepath.Rel(s.opts.Root, p)
		base := d.Name()
		if strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".lock") || p == s.inbox {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := filepath.ToSlash(rel)
		if cn, err := mailstore.CanonicalName(name); err != nil || cn != name {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if strings.Count(name, "/") >= maxDepth {
				return filepath.SkipDir
			}
			if !strings.EqualFold(name, "INBOX") {
				out = append(out, name)
			}
			return nil
		}
		if d.Type().IsRegular() && isMboxFile(p) && !strings.EqualFold(name, "INBOX") {
			out = append(out, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mbox: list: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// hasChildren reports whether a directory mailbox holds other mailboxes.
func hasChildren(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		n := e.Name()
		if n == selfName || n == selfName+".lock" || strings.HasPrefix(n, ".") {
			continue
		}
		return true
	}
	return false
}

// makeParents creates the directories above path (a node under Root),
// turning a file mailbox in the way into a directory mailbox: the file
// moves to DIR/.postern-mbox. The file is renamed aside first, so a
// crash leaves it as ".NAME.postern-dual" beside, found again by
// recoverDual.
func (s *Store) makeParents(path string) error {
	dir := filepath.Dir(path)
	var chain []string
	for d := dir; d != s.opts.Root && strings.HasPrefix(d, s.opts.Root+string(filepath.Separator)); d = filepath.Dir(d) {
		chain = append(chain, d)
	}
	slices.Reverse(chain)
	for _, d := range chain {
		fi, err := os.Stat(d)
		switch {
		case s.escapes(d):
			return fmt.Errorf("mbox: %s leads out of the mail directory: %w", d, mailstore.ErrInvalidName)
		case err == nil && fi.IsDir():
			continue
		case err == nil && fi.Mode().IsRegular() && !isLink(d):
			aside := filepath.Join(filepath.Dir(d), "."+filepath.Base(d)+".postern-dual")
			if err := os.Rename(d, aside); err != nil {
				return ioErr("make parent", err)
			}
			if err := os.Mkdir(d, s.opts.DirMode); err != nil {
				os.Rename(aside, d)
				return ioErr("make parent", err)
			}
			if err := os.Rename(aside, filepath.Join(d, selfName)); err != nil {
				return ioErr("make parent", err)
			}
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(d, s.opts.DirMode); err != nil && !errors.Is(err, os.ErrExist) {
				return ioErr("make parent", err)
			}
		case err == nil:
			// A link to a file, a device, a socket: not made a directory.
			return fmt.Errorf("mbox: %s is not a directory: %w", d, mailstore.ErrInvalidName)
		default:
			return ioErr("make parent", err)
		}
	}
	return nil
}
