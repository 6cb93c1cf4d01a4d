package mbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// crashExpunged are the UIDs the crash test expunges; crashDirty gets a
// keyword list too long for its padded block, so the rewrite also writes
// that message afresh.
var (
	crashExpunged = []uint32{2, 9, 10, 17}
	crashDirty    = uint32(12)
)

// TestCrashHelper is the child of TestCrashExpunge: it expunges with a
// kill point set, and is SIGKILLed (by itself, as kill -9 would) when the
// rewrite reaches it.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("MBOX_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashExpunge")
	}
	n, _ := strconv.ParseInt(os.Getenv("MBOX_CRASH_AFTER"), 10, 64)
	s := openTest(t, dir)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	mbox.SetCrashAfter(s, n, func() {
		// Stopped mid-write: tell the parent, which kills us with SIGKILL.
		os.Stdout.WriteString("\nSTOPPED\n")
		os.Stdout.Sync()
		select {}
	})
	if _, _, err := mb.StoreFlags(ctx, []uint32{crashDirty}, mailstore.FlagsAdd, []string{"a-rather-long-keyword", "and-another-long-one"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, crashExpunged); err != nil {
		t.Fatal(err)
	}
	mb.Close()
	s.Close()
}

// crashFixture makes a mailbox of 20 messages of various sizes, some with
// flags and one with a "From " body line, and returns each UID's content.
func crashFixture(t *testing.T, dir string) map[uint32]string {
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close()
	want := map[uint32]string{}
	for i := 1; i <= 20; i++ {
		body := fmt.Sprintf("From: a@example.org\nSubject: crash %d\n\n%s", i, strings.Repeat(fmt.Sprintf("line %d of message %d\n", i, i), i*37))
		if i == 5 {
			body += "From here on, a quoted line.\n"
		}
		var flags []string
		if i%3 == 0 {
			flags = []string{`\Seen`}
		}
		_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(body), mailstore.AppendOptions{Flags: flags})
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := s.Open(ctx, "INBOX")
		want[uid] = readMsg(t, mb, uid)
		mb.Close()
	}
	return want
}

func readMsg(t *testing.T, mb mailstore.Mailbox, uid uint32) string {
	t.Helper()
	r, err := mb.OpenMessage(context.Background(), uid)
	if err != nil {
		t.Fatalf("OpenMessage(%d) = %v", uid, err)
	}
	defer r.Close()
	b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	return string(b)
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashExpunge kills a process (SIGKILL) at many points of an
// expunge's rewrite and checks, after each, that the mailbox reopens,
// that every message not expunged is intact byte for byte with its UID,
// and that the expunge happened wholly or not at all. It checks again
// from the file alone (index removed), so the file itself is sound.
func TestCrashExpunge(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	base := t.TempDir()
	want := crashFixture(t, base)
	fi, err := os.Stat(testOptions(base).Inbox)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	// Kill points from the first byte of the journal to past the end of
	// the rewrite (where the child finishes normally).
	points := []int64{1, 512, 4096}
	for i := int64(1); i <= 12; i++ {
		points = append(points, size*i/6)
	}
	finished, journaled := 0, 0
	for _, at := range points {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, base, dir)
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "MBOX_CRASH_DIR="+dir, fmt.Sprintf("MBOX_CRASH_AFTER=%d", at))
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the child to stop at its kill point (or to finish),
			// then kill -9 it.
			var out strings.Builder
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if sc.Text() == "STOPPED" {
					cmd.Process.Signal(syscall.SIGKILL)
					break
				}
			}
			io.Copy(io.Discard, stdout)
			err = cmd.Wait()
			killed := false
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				ws, ok := ee.Sys().(syscall.WaitStatus)
				killed = ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
				if !killed {
					t.Fatalf("helper failed: %v\n%s", err, out.String())
				}
			} else if err != nil {
				t.Fatalf("helper: %v", err)
			}
			if !killed {
				finished++
			} else if ents, _ := os.ReadDir(filepath.Join(dir, "home", mbox.IndexName+".journal")); len(ents) > 0 {
				journaled++ // killed with a journal to replay (or to drop)
			}
			checkFsck(t, dir, killed)
			checkCrashed(t, dir, want, !killed)
			// Again from the file alone.
			os.RemoveAll(filepath.Join(dir, "home"))
			checkCrashed(t, dir, want, !killed)
		})
	}
	if journaled == 0 {
		t.Errorf("no helper was killed with a journal in place; the kill points miss the rewrite")
	}
	if finished == 0 || finished == len(points) {
		t.Errorf("%d of %d helpers finished; want some killed and some not", finished, len(points))
	}
}

func checkCrashed(t *testing.T, dir string, want map[uint32]string, mustBeDone bool) {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil {
		t.Fatalf("Messages after crash: %v", err)
	}
	var uids []uint32
	for _, m := range msgs {
		uids = append(uids, m.UID)
	}
	var all, after []uint32
	for u := uint32(1); u <= 20; u++ {
		all = append(all, u)
		if !slices.Contains(crashExpunged, u) {
			after = append(after, u)
		}
	}
	switch {
	case slices.Equal(uids, after):
	case slices.Equal(uids, all) && !mustBeDone:
	default:
		t.Fatalf("UIDs after crash = %v, want %v or (not finished) %v", uids, after, all)
	}
	for _, m := range msgs {
		if got := readMsg(t, mb, m.UID); got != want[m.UID] {
			t.Errorf("UID %d after crash: %d bytes %q..., want %d bytes", m.UID, len(got), got[:min(len(got), 60)], len(want[m.UID]))
		}
		wantSeen := m.UID%3 == 0
		if slices.Contains(m.Flags, `\Seen`) != wantSeen {
			t.Errorf("UID %d flags %q, want \\Seen %v", m.UID, m.Flags, wantSeen)
		}
	}
}

// checkFsck runs the store's check (postern fsck) on a crashed store: no
// error, a journal left by the kill reported as pending; then the repair,
// which replays or drops the journal and leaves nothing to report.
func checkFsck(t *testing.T, dir string, killed bool) {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close()
	journal := false
	if ents, _ := os.ReadDir(filepath.Join(dir, "home", mbox.IndexName+".journal")); len(ents) > 0 {
		journal = true
	}
	res, err := s.Check(ctx, false)
	if err != nil {
		t.Fatalf("Check = %v", err)
	}
	if res.Errors() != 0 {
		t.Errorf("Check after the crash: %v", res.Problems)
	}
	found := false
	for _, p := range res.Problems {
		found = found || p.Kind == mailstore.CheckJournal && p.Pending
	}
	if found != journal {
		t.Errorf("Check reported a journal: %v, want %v (problems %v)", found, journal, res.Problems)
	}
	res, err = s.Check(ctx, true)
	if err != nil {
		t.Fatalf("Check(repair) = %v", err)
	}
	for _, p := range res.Problems {
		if !p.Repaired {
			t.Errorf("after repair: %v", p)
		}
	}
	if !killed && len(res.Problems) > 0 {
		t.Errorf("a finished expunge left problems: %v", res.Problems)
	}
}
