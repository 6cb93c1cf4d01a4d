package maildir

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// inodeOf returns the inode number of the file at path.
func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// curInodes maps the inode of each file in dir/cur to its name.
func curInodes(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	for _, n := range curNames(t, dir) {
		out[inodeOf(t, filepath.Join(dir, "cur", n))] = n
	}
	return out
}

// spareNames returns the spare files in dir/tmp, sorted.
func spareNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := dirNames(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, sparePrefix) })
	slices.Sort(names)
	return names
}

// TestSpareFiles: EXPUNGE keeps the files of expunged messages, emptied,
// as spares in tmp/, unless another folder links to them (COPY); APPEND
// takes them (the same inodes) and writes its message into them; spares
// an earlier process left are found in tmp/; fsck leaves them alone; a
// negative SpareFiles unlinks as before.
func TestSpareFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	if err := s.Create(ctx, "Other", ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		appendT(t, s, "INBOX", `\Deleted`)
	}
	mb := openT(t, s, "INBOX")
	if _, _, _, err := mb.CopyTo(ctx, []uint32{3}, "Other"); err != nil {
		t.Fatal(err)
	}
	before := curInodes(t, dir)
	var linked uint64 // UID 3's file, which Other's copy links to
	for ino, name := range before {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, "cur", name), &st); err == nil && st.Nlink == 2 {
			linked = ino
		}
	}
	if linked == 0 {
		t.Fatal("COPY made no hard link: the test needs one")
	}
	if got, err := mb.Expunge(ctx, []uint32{1, 2, 3}); err != nil || len(got) != 3 {
		t.Fatalf("Expunge = %v, %v", got, err)
	}
	if n := curNames(t, dir); len(n) != 0 {
		t.Fatalf("cur/ after the expunge: %v", n)
	}
	spares := spareNames(t, dir)
	if len(spares) != 2 {
		t.Fatalf("spares after expunging 3 messages, one of them linked from Other: %v; want 2", spares)
	}
	var spareInodes []uint64
	for _, n := range spares {
		p := filepath.Join(dir, "tmp", n)
		fi, err := os.Stat(p)
		if err != nil || fi.Size() != 0 {
			t.Errorf("spare %s: %v, size %d; want empty", n, err, fi.Size())
		}
		ino := inodeOf(t, p)
		if _, ok := before[ino]; !ok || ino == linked {
			t.Errorf("spare %s is inode %d: not one of the expunged unlinked files %v (linked: %d)", n, ino, before, linked)
		}
		spareInodes = append(spareInodes, ino)
	}
	// The copy in Other kept its content.
	other := openT(t, s, "Other")
	assertContent(t, other, 1, testMsg)

	// fsck: a spare 40 hours old is not a stale delivery; other files are.
	old := time.Now().Add(-40 * time.Hour)
	os.Chtimes(filepath.Join(dir, "tmp", spares[0]), old, old)
	stale := filepath.Join(dir, "tmp", "1.crashed.host")
	os.WriteFile(stale, []byte(testMsg), 0o600)
	os.Chtimes(stale, old, old)
	res, err := s.Check(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	var tmpProblems []string
	for _, p := range res.Problems {
		if p.Kind == mailstore.CheckTmp {
			tmpProblems = append(tmpProblems, filepath.Base(p.File))
		}
	}
	if !slices.Equal(tmpProblems, []string{"1.crashed.host"}) {
		t.Errorf("fsck reports in tmp/ %v; want only the stale delivery", tmpProblems)
	}
	os.Remove(stale)

	// As after a restart: the spares are found by reading tmp/.
	s.sh.spares.mu.Lock()
	s.sh.spares.names, s.sh.spares.loaded = nil, nil
	s.sh.spares.mu.Unlock()
	msgs := []string{"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\nsecond, longer\r\n"}
	var uids []uint32
	for _, m := range msgs {
		_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(m), mailstore.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, uid)
	}
	var reused []uint64
	for ino := range curInodes(t, dir) {
		reused = append(reused, ino)
	}
	slices.Sort(reused)
	slices.Sort(spareInodes)
	if !slices.Equal(reused, spareInodes) {
		t.Errorf("inodes of the new messages %v; want the spares' %v", reused, spareInodes)
	}
	if n := spareNames(t, dir); len(n) != 0 {
		t.Errorf("spares left after two APPENDs: %v", n)
	}
	for i, uid := range uids {
		assertContent(t, mb, uid, msgs[i])
	}

	// None kept: the files are unlinked.
	s.opts.SpareFiles = -1
	if _, _, err := mb.StoreFlags(ctx, uids, mailstore.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, uids); err != nil {
		t.Fatal(err)
	}
	if n := spareNames(t, dir); len(n) != 0 {
		t.Errorf("spares with SpareFiles -1: %v", n)
	}
}

// assertContent checks a message's content.
func assertContent(t *testing.T, mb mailstore.Mailbox, uid uint32, want string) {
	t.Helper()
	r, err := mb.OpenMessage(context.Background(), uid)
	if err != nil {
		t.Fatalf("OpenMessage(%d) = %v", uid, err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || string(got) != want {
		t.Errorf("UID %d = %q, %v; want %q", uid, got, err, want)
	}
}

// TestSpareLinkedNotEmptied: a file found under a spare's name that has
// another link (put there by hand) is neither emptied nor written into:
// the APPEND makes a new file, and the other name keeps its content.
func TestSpareLinkedNotEmptied(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte(testMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(keep, filepath.Join(dir, "tmp", sparePrefix+"planted")); err != nil {
		t.Fatal(err)
	}
	uid := appendT(t, s, "INBOX")
	if got, err := os.ReadFile(keep); err != nil || string(got) != testMsg {
		t.Errorf("the linked file after APPEND = %q, %v; want its content kept", got, err)
	}
	for ino := range curInodes(t, dir) {
		if ino == inodeOf(t, keep) {
			t.Errorf("UID %d was written into the linked file's inode", uid)
		}
	}
}

// TestSpareFilesCap: past Options.SpareFiles a folder's expunged files
// are unlinked, not kept.
func TestSpareFilesCap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{NoFsync: true, SpareFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		appendT(t, s, "INBOX", `\Deleted`)
	}
	mb := openT(t, s, "INBOX")
	if got, err := mb.Expunge(ctx, []uint32{1, 2, 3}); err != nil || len(got) != 3 {
		t.Fatalf("Expunge = %v, %v", got, err)
	}
	if n := spareNames(t, dir); len(n) != 1 {
		t.Errorf("spares with SpareFiles 1 after expunging 3: %v; want 1", n)
	}
	if n := curNames(t, dir); len(n) != 0 {
		t.Errorf("cur/ after the expunge: %v", n)
	}
}
