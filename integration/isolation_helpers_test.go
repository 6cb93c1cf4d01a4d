package integration

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// Helpers of the isolation tests (issue 8 item 7): what a file tree looks
// like, so that a test can show nothing of another user's was read,
// created, changed or deleted; names written as IMAP astrings whatever
// bytes they hold; commands run as a given user.

// fileState is what a test compares of one file or directory: contents
// (a directory's are its entry names), mtime, inode, owner, mode. Not the
// link count: a user may unlink its own hard link to a file.
type fileState struct {
	sum          [32]byte
	mtime        int64
	ino          uint64
	uid, gid     uint32
	mode         fs.FileMode
	symlinkValue string
}

// snapshot records every file and directory under each root (a file root
// is recorded alone), not following symbolic links.
func snapshot(t *testing.T, roots ...string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			st := fi.Sys().(*syscall.Stat_t)
			s := fileState{mtime: fi.ModTime().UnixNano(), ino: st.Ino, uid: st.Uid, gid: st.Gid, mode: fi.Mode()}
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				s.symlinkValue, _ = os.Readlink(p)
			case fi.IsDir():
				ents, err := os.ReadDir(p)
				if err != nil {
					return err
				}
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				s.sum = sha256.Sum256([]byte(strings.Join(names, "\x00")))
			default:
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				s.sum = sha256.Sum256(b)
			}
			out[p] = s
			return nil
		})
		if err != nil {
			t.Fatalf("snapshot of %s: %v", root, err)
		}
	}
	return out
}

// sameFiles fails the test for every file that appeared, disappeared or
// changed between two snapshots.
func sameFiles(t *testing.T, what string, before, after map[string]fileState) {
	t.Helper()
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			diffs = append(diffs, "deleted: "+p)
		case a != b:
			diffs = append(diffs, fmt.Sprintf("changed: %s (%+v -> %+v)", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "created: "+p)
		}
	}
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", what, d)
	}
}

// astring writes name as an IMAP astring: quoted when it can be, else a
// non-synchronizing literal (RFC 7888), so that any bytes reach the
// server as they are.
func astring(name string) string {
	if name != "" && !strings.ContainsAny(name, "\\\"\r\n\x00{}") && isASCIIPrint(name) {
		return `"` + name + `"`
	}
	return fmt.Sprintf("{%d+}\r\n%s", len(name), name)
}

func isASCIIPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// refused is the class of answer every escape attempt must get: a NO with
// one of RFC 5530's codes that say "not here" (never [SERVERBUG], which
// would mean an unexpected error reached the store), or a BAD for a name
// that is not even an astring (NUL, 8-bit without UTF8=ACCEPT, too long).
var refused = regexp.MustCompile(`^(NO \[(CANNOT|NONEXISTENT|NOPERM|TRYCREATE|ALREADYEXISTS|INUSE|TOOBIG)\] |BAD )`)

// asUser runs a program as u (the way u would at a shell: planting
// symbolic links in its own home) and returns its error and output.
func asUser(u *sysUser, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}}
	return cmd.CombinedOutput()
}

// mustAsUser is asUser that fails the test on error.
func mustAsUser(t *testing.T, u *sysUser, name string, args ...string) {
	t.Helper()
	if out, err := asUser(u, name, args...); err != nil {
		t.Fatalf("as %s: %s %s: %v\n%s", u.name, name, strings.Join(args, " "), err, out)
	}
}

// writeOwned writes a file owned by uid:gid with mode perm.
func writeOwned(t *testing.T, path, body string, uid, gid int, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// mkdirOwned makes a directory owned by uid:gid with mode perm.
func mkdirOwned(t *testing.T, path string, uid, gid int, perm fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// secretMbox is a one-message mbox whose subject is marker: a marker seen
// in any server answer means the file was read.
func secretMbox(marker string) string {
	return "From " + marker + "@example.org Wed Nov 25 10:00:00 2026\nFrom: " + marker + "@example.org\nSubject: " + marker + "\n\n" + marker + " body\n\n"
}

// secretMaildir makes a Maildir (cur, new, tmp) holding one message whose
// subject is marker, owned by uid:gid with directories in dirMode and the
// message in fileMode.
func secretMaildir(t *testing.T, dir, marker string, uid, gid int, dirMode, fileMode fs.FileMode) {
	t.Helper()
	mkdirOwned(t, dir, uid, gid, dirMode)
	for _, sub := range []string{"cur", "new", "tmp"} {
		mkdirOwned(t, filepath.Join(dir, sub), uid, gid, dirMode)
	}
	msg := "From: " + marker + "@example.org\nSubject: " + marker + "\n\n" + marker + " body\n"
	writeOwned(t, filepath.Join(dir, "cur", "1700000000.M1P1.host:2,S"), msg, uid, gid, fileMode)
	writeOwned(t, filepath.Join(dir, "new", "1700000001.M2P2.host"), msg, uid, gid, fileMode)
}
