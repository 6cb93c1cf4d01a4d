package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// fillStore makes an INBOX and a "Work" mailbox with a few messages.
func fillStore(t *testing.T, st mailstore.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.Create(ctx, "Work", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for _, mb := range []string{"INBOX", "Work"} {
			msg := fmt.Sprintf("Message-ID: <%d@%s>\r\nSubject: m%d\r\n\r\nbody %d\r\n", i, mb, i, i)
			if _, _, err := st.Append(ctx, mb, strings.NewReader(msg), mailstore.AppendOptions{Flags: []string{`\Seen`}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// runFsck runs `postern fsck` and returns its output and exit status.
func runFsck(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	err := fsck(args, &out)
	code := 0
	var es exitStatus
	if errors.As(err, &es) {
		code = es.code
	} else if err != nil {
		t.Fatalf("fsck %v = %v", args, err)
	}
	return out.String(), code
}

// TestFsckMaildir: a clean Maildir is clean; a lost message file, a
// changed size and a lost uidlist line are found (exit status 1) and
// --repair leaves a clean store; a delivery to new/ is pending, status 0.
func TestFsckMaildir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Maildir")
	st, err := maildir.Open(root, maildir.Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, st)
	spec := "maildir:" + root
	if out, code := runFsck(t, spec); code != 0 || !strings.Contains(out, "2 mailboxes, 6 messages, 0 problems") {
		t.Fatalf("clean store: status %d\n%s", code, out)
	}
	// Deliver into new/: pending only.
	if err := os.WriteFile(filepath.Join(root, "new", "1.M1P1.host"), []byte("Subject: new\r\n\r\nx\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runFsck(t, spec)
	if code != 0 || !strings.Contains(out, "INBOX file=1.M1P1.host: unindexed: in new/, not yet seen (pending)") {
		t.Fatalf("delivery: status %d\n%s", code, out)
	}
	// Damage: remove one file of Work, grow one of INBOX.
	work, _ := filepath.Glob(filepath.Join(root, ".Work", "cur", "*"))
	inbox, _ := filepath.Glob(filepath.Join(root, "cur", "*"))
	if len(work) != 3 || len(inbox) != 3 {
		t.Fatalf("files: %v %v", work, inbox)
	}
	os.Remove(work[0])
	f, _ := os.OpenFile(inbox[0], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("more\r\n")
	f.Close()
	out, code = runFsck(t, spec)
	if code != 1 || !strings.Contains(out, "Work uid=") || !strings.Contains(out, ": missing: indexed, file gone from cur/ (an interrupted or outside expunge): the next sync expunges it (pending)") ||
		!strings.Contains(out, ": size: index says") {
		t.Fatalf("damaged: status %d\n%s", code, out)
	}
	out, code = runFsck(t, "--repair", spec)
	if code != 0 || !strings.Contains(out, "(repaired)") {
		t.Fatalf("repair: status %d\n%s", code, out)
	}
	if out, code := runFsck(t, spec); code != 0 || !strings.Contains(out, "2 mailboxes, 6 messages, 0 problems (0 pending") {
		t.Fatalf("after repair: status %d\n%s", code, out)
	}
}

// TestFsckMbox: a clean mbox store is clean; a message appended by
// another program is pending; bytes changed inside a message are a size
// problem that --repair clears; a journal is reported.
func TestFsckMbox(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mail")
	st, err := mbox.Open(mbox.Options{Root: root, NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, st)
	spec := "mbox:" + root
	if out, code := runFsck(t, spec); code != 0 || !strings.Contains(out, "2 mailboxes, 6 messages, 0 problems") {
		t.Fatalf("clean store: status %d\n%s", code, out)
	}
	f, _ := os.OpenFile(filepath.Join(root, "Work"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("From someone@example.org Thu Nov 26 01:00:00 2026\nSubject: delivered\n\nhi\n\n")
	f.Close()
	out, code := runFsck(t, spec)
	if code != 0 || !strings.Contains(out, "Work file=@") || !strings.Contains(out, "appended by another program, not yet read (pending)") {
		t.Fatalf("delivery: status %d\n%s", code, out)
	}
	if out, code = runFsck(t, "--repair", spec); code != 0 {
		t.Fatalf("repair: status %d\n%s", code, out)
	}
	if out, code := runFsck(t, "--json", spec); code != 0 || !strings.Contains(out, `"messages": 7`) || !strings.Contains(out, `"problems": []`) {
		t.Fatalf("after repair: status %d\n%s", code, out)
	}
	// A message's body cut short in place (the same file, other offsets).
	data, _ := os.ReadFile(filepath.Join(root, "mbox"))
	cut := bytes.Replace(data, []byte("body 1\r\n"), []byte("b1\r\n"), 1)
	g, _ := os.OpenFile(filepath.Join(root, "mbox"), os.O_WRONLY|os.O_TRUNC, 0)
	g.Write(cut)
	g.Close()
	out, code = runFsck(t, spec)
	if code != 0 || !strings.Contains(out, "changed by another program") {
		t.Fatalf("rewritten by another program: status %d\n%s", code, out)
	}
	if out, code = runFsck(t, "--repair", spec); code != 0 {
		t.Fatalf("repair: status %d\n%s", code, out)
	}
	if out, code := runFsck(t, spec); code != 0 || !strings.Contains(out, "0 problems (0 pending") {
		t.Fatalf("after repair: status %d\n%s", code, out)
	}
}

// TestFsckUsage: usage errors are status 2.
func TestFsckUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--bogus", "maildir:/x"}, {"nope:/x"}, {"maildir:" + t.TempDir()}} {
		if out, code := runFsck(t, args...); code != 2 {
			t.Errorf("fsck %q = status %d, want 2\n%s", args, code, out)
		}
	}
}

// TestFsckMaildirTmpAndUIDList: a tmp/ file older than 36 hours is
// reported and removed by --repair, a young one is left alone; a uidlist
// line giving a message another UID is an error that --repair (a reindex
// is reported.
func TestFsckMaildirTmpAndUIDList(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Maildir")
	st, err := maildir.Open(root, maildir.Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, st)
	spec := "maildir:" + root
	old, young := filepath.Join(root, "tmp", "1.M1P1.crashed"), filepath.Join(root, "tmp", "2.M2P2.writing")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-40 * time.Hour)
	os.Chtimes(old, long, long)
	out, code := runFsck(t, spec)
	if code != 1 || !strings.Contains(out, "INBOX file="+old+": tmp: left in tmp/ for 40h0m0s") || strings.Contains(out, young) {
		t.Fatalf("stale tmp: status %d\n%s", code, out)
	}
	out, code = runFsck(t, "--repair", spec)
	if code != 0 || !strings.Contains(out, "tmp: left in tmp/ for 40h0m0s (repaired)") {
		t.Fatalf("repair: status %d\n%s", code, out)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("stale tmp file still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young tmp file removed: %v", err)
	}
	// The uidlist claims UID 2's file is UID 3: an error.
	ul := filepath.Join(root, ".Work", maildir.UIDListName)
	data, _ := os.ReadFile(ul)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	f := strings.Fields(lines[2]) // header, UID 1, UID 2
	os.WriteFile(ul, []byte(string(data)+"3 "+f[1]+"\n"), 0o600)
	out, code = runFsck(t, spec)
	if code != 1 || !strings.Contains(out, "Work uid=2 file="+f[1]+": uidlist: postern-uidlist gives it UID 3") {
		t.Fatalf("uidlist: status %d\n%s", code, out)
	}
}
