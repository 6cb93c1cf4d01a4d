package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Spare files. An expunged message's file, when nothing else links to it,
// is emptied and moved to its folder's tmp/ as tmp/postern-spare.BASE
// instead of being unlinked, and the next APPEND to the folder takes it
// (a rename within tmp/) instead of creating a file: the inode is used
// again instead of being freed and another allocated.
//
// Why (issue 7): creating a file was a quarter of the server's CPU under
// an APPEND load. ext4 without a journal (the benchmark machines' root
// file system) will not hand out an inode freed in the last minute (six
// while its inode table block is not yet written back: RECENTCY_MIN and
// RECENTCY_DIRTY in fs/ext4/ialloc.c), and looks up the table block of
// every free inode it passes to know; after an expunge of thousands of
// messages each new file paid for all of them. Dovecot pays the same (a
// third of its CPU in that comparison). With a journal the check is not
// made, and a spare still saves an inode's freeing and allocation.
//
// Safety: a file with other links (COPY and MOVE link across folders) is
// unlinked as before, never emptied. The file is renamed out of cur/
// before it is emptied, so a crash in between leaves the message in tmp/,
// never an empty message in cur/; taking a spare truncates it again.
// Taking one is a rename, which only one process can win; a spare that is
// gone (taken by another process, or removed by another Maildir program's
// tmp/ cleanup, which the convention allows after 36 hours) is skipped.
// At most Options.SpareFiles are kept per folder; spares left by an
// earlier process are found by reading tmp/ once.

// sparePrefix starts the name of a spare file in tmp/.
const sparePrefix = "postern-spare."

// spareFiles lists the spare files of each folder's tmp/.
type spareFiles struct {
	mu     sync.Mutex
	names  map[string][]string // tmp/ directory -> spare names; guarded by mu
	loaded map[string]bool     // tmp/ directories read for earlier spares; guarded by mu
}

// count returns how many spares tmp/ has, reading it the first time.
func (sp *spareFiles) count(tmpDir string) int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.load(tmpDir)
	return len(sp.names[tmpDir])
}

// load reads the spares an earlier process left in tmp/, once. Caller
// holds mu.
func (sp *spareFiles) load(tmpDir string) {
	if sp.loaded[tmpDir] {
		return
	}
	if sp.loaded == nil {
		sp.loaded, sp.names = map[string]bool{}, map[string][]string{}
	}
	sp.loaded[tmpDir] = true
	names, err := dirNames(tmpDir)
	if err != nil {
		return
	}
	for _, n := range names {
		if strings.HasPrefix(n, sparePrefix) {
			sp.names[tmpDir] = append(sp.names[tmpDir], n)
		}
	}
}

func (sp *spareFiles) put(tmpDir, name string) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.load(tmpDir)
	sp.names[tmpDir] = append(sp.names[tmpDir], name)
}

func (sp *spareFiles) take(tmpDir string) (string, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.load(tmpDir)
	names := sp.names[tmpDir]
	if len(names) == 0 {
		return "", false
	}
	name := names[len(names)-1]
	sp.names[tmpDir] = names[:len(names)-1]
	return name, true
}

// removeMessageFile takes an expunged message's file out of cur/: kept as
// an emptied spare when the folder has room for one, unlinked otherwise.
func (s *Store) removeMessageFile(curDir, base, info string) error {
	path := filepath.Join(curDir, base+info)
	tmpDir := filepath.Join(filepath.Dir(curDir), "tmp")
	if s.opts.SpareFiles > 0 && s.sh.spares.count(tmpDir) < s.opts.SpareFiles {
		if s.makeSpare(path, tmpDir, sparePrefix+base) {
			return nil
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// makeSpare moves the file at path to tmpDir/name and empties it, when it
// is a regular file with no other link. False leaves it where it was.
func (s *Store) makeSpare(path, tmpDir, name string) bool {
	f, err := openRaw(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	var st syscall.Stat_t
	if syscall.Fstat(f.fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Nlink != 1 {
		return false
	}
	dst := filepath.Join(tmpDir, name)
	if os.Rename(path, dst) != nil {
		return false
	}
	// Emptied through the descriptor: the inode checked above, whatever
	// the names did meanwhile. A failure leaves content in tmp/ (taking
	// the spare truncates it), not in cur/.
	if err := syscall.Ftruncate(f.fd, 0); err != nil {
		s.log.Warn("maildir: cannot empty a spare file", "file", dst, "err", err)
	}
	s.sh.spares.put(tmpDir, name)
	return true
}

// claimSpare renames a spare file of tmpDir to path, reporting whether
// one was there to take.
func (s *Store) claimSpare(tmpDir, path string) bool {
	if s.opts.SpareFiles <= 0 {
		return false
	}
	for range 3 {
		name, ok := s.sh.spares.take(tmpDir)
		if !ok {
			return false
		}
		if os.Rename(filepath.Join(tmpDir, name), path) == nil {
			return true
		}
		// Gone: taken by another process or cleaned up. The next one.
	}
	return false
}
