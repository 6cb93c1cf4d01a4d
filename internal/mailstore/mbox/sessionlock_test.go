package mbox_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// holdUWSession takes c-client's session lock on file, as UW's imapd,
// mailutil or pine hold it while they have the file open read-write.
func holdUWSession(t *testing.T, file string) (release func()) {
	t.Helper()
	path, err := mbox.UWSessionLockPath(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("flock %s: %v", path, err)
	}
	return func() {
		os.Remove(path)
		f.Close()
	}
}

// TestUWSessionLock: while a c-client program has the mailbox open
// read-write (its session lock on /tmp/.DEV.INO held), no byte already
// in the file changes: a flag change waits in the index, an APPEND only
// appends (no X-UID, as UW's append), an EXPUNGE waits for the session
// to end or fails with ErrLocked ([INUSE]). UW rewrites the file from what
// it read at open, and aborted ("header size inconsistent") when we had
// rewritten it under it. Once the session ends, what waited is written.
func TestUWSessionLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.SessionLockWait = 300 * time.Millisecond
	s := openTestWith(t, dir, opts)
	defer s.Close()
	for _, subj := range []string{"one", "two"} {
		if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: "+subj+"\r\n\r\n"+subj+"\r\n"), mailstore.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	file := opts.Inbox
	read := func() []byte {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := read()
	release := holdUWSession(t, file)
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()

	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatalf("STORE during a UW session: %v", err)
	}
	_, uid, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: three\r\n\r\nthree\r\n"), mailstore.AppendOptions{})
	if err != nil || uid != 3 {
		t.Fatalf("APPEND during a UW session = UID %d, %v; want 3", uid, err)
	}
	during := read()
	if !bytes.HasPrefix(during, before) {
		t.Fatalf("the file changed under the UW session:\nbefore:\n%s\nafter:\n%s", before, during)
	}
	if added := during[len(before):]; bytes.Contains(added, []byte("X-UID")) || !bytes.Contains(added, []byte("Subject: three")) {
		t.Errorf("appended during the session:\n%s\nwant the message without X-UID", added)
	}
	start := time.Now()
	_, err = mb.Expunge(ctx, []uint32{2})
	if !errors.Is(err, mailstore.ErrLocked) {
		t.Fatalf("EXPUNGE during a UW session = %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < opts.SessionLockWait {
		t.Errorf("EXPUNGE gave up after %v, before SessionLockWait %v", waited, opts.SessionLockWait)
	}
	if got := read(); !bytes.Equal(got, during) {
		t.Fatalf("a refused EXPUNGE changed the file:\n%s", got)
	}
	// A MOVE out of the held file is refused before it writes the
	// destination: a retry must not copy twice.
	if err := s.Create(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(opts.Root, "Archive")
	archived, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := mb.MoveTo(ctx, []uint32{1}, "Archive"); !errors.Is(err, mailstore.ErrLocked) {
		t.Fatalf("MOVE during a UW session = %v, want ErrLocked", err)
	}
	if got, _ := os.ReadFile(archive); !bytes.Equal(got, archived) {
		t.Errorf("a refused MOVE wrote its destination:\n%s", got)
	}
	if got := read(); !bytes.Equal(got, during) {
		t.Fatalf("a refused MOVE changed its source:\n%s", got)
	}
	// Index state is what the clients asked for all along.
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 3 || msgs[0].UID != 1 || strings.Join(msgs[0].Flags, " ") != `\Flagged` || msgs[2].UID != 3 {
		t.Fatalf("Messages during the session = %+v, %v", msgs, err)
	}

	// An EXPUNGE waiting while the session ends goes through.
	go func() {
		time.Sleep(100 * time.Millisecond)
		release()
	}()
	if gone, err := mb.Expunge(ctx, []uint32{2}); err != nil || len(gone) != 1 || gone[0] != 2 {
		t.Fatalf("EXPUNGE as the session ends = %v, %v; want [2]", gone, err)
	}
	last, uids := fileUIDs(t, file)
	if want := []uint32{1, 3}; len(uids) != 2 || uids[0] != want[0] || uids[1] != want[1] || last != 3 {
		t.Errorf("after the session: X-UIDs %v, UIDLAST %d; want [1 3], 3", uids, last)
	}
	after := read()
	if !bytes.Contains(after, []byte("X-Status: F")) {
		t.Errorf("the \\Flagged kept in the index was not written after the session:\n%s", after)
	}
	if path, _ := mbox.UWSessionLockPath(file); path != "" {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("session lock file %s left behind: %v", path, err)
		}
	}
}
