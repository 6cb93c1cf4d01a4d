package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/migrate"
)

// uwTree lays the UW samples out as a user's files: the spool INBOX and
// mailboxes under the home directory, one in a subdirectory, with UW's
// subscription file. It returns the read-only source store.
func uwTree(t *testing.T) mailstore.Store {
	t.Helper()
	dir := t.TempDir()
	home, spool := filepath.Join(dir, "home"), filepath.Join(dir, "spool", "uwtest")
	for src, dst := range map[string]string{
		"inbox-keywords.mbox":      spool,
		"saved-created-by-uw.mbox": filepath.Join(home, "saved"),
		"inbox-after-uw.mbox":      filepath.Join(home, "after-uw"),
		"inbox-after-pop3.mbox":    filepath.Join(home, "after-pop3"),
		"inbox-delivered.mbox":     filepath.Join(home, "archive", "delivered"),
	} {
		copyFile(t, filepath.Join("testdata", "uw-mbox", src), dst)
	}
	if err := os.WriteFile(filepath.Join(home, ".mailboxlist"), []byte("saved\narchive/delivered\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := mbox.OpenReadOnly(mbox.Options{Root: home, Inbox: spool, IndexPath: filepath.Join(dir, "index.sqlite"), NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openMaildir(t *testing.T, dir string) *maildir.Store {
	t.Helper()
	s, err := maildir.Open(dir, maildir.Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openMbox(t *testing.T, root, inbox string) mailstore.Store {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(inbox), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := mbox.Open(mbox.Options{Root: root, Inbox: inbox, NoFsync: true, Hostname: "vm", Sender: "MAILER-DAEMON@vm"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestUWRoundTrip converts UW's own files to Maildir and back to mbox:
// every mailbox keeps its UIDVALIDITY, UIDNEXT, UIDs, flags, keywords,
// internal dates and message bytes, as read through the contract, and
// UW's mailutil reads the mbox files we wrote with the same counts.
func TestUWRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := uwTree(t)
	want := snapshot(t, src)
	delete(want, "archive") // a directory: an (empty) mailbox in both drivers
	if len(want) != 5 || len(want["INBOX"].Msgs) != 4 || want["INBOX"].UIDValidity != 1795630326 || want["saved"].UIDValidity != 1795630345 {
		t.Fatalf("UW source read as %d mailboxes, INBOX %+v", len(want), want["INBOX"])
	}

	md := openMaildir(t, t.TempDir())
	sum, err := migrate.Copy(ctx, src, md, migrate.Options{})
	if err != nil {
		t.Fatalf("Copy(uw -> maildir) = %v", err)
	}
	if sum.Messages != 4+3+4+3+4 || sum.Subscriptions != 2 {
		t.Errorf("Copy(uw -> maildir) summary = %d messages, %d subscriptions, want 18, 2", sum.Messages, sum.Subscriptions)
	}
	got := snapshot(t, md)
	// The maildir has "archive" as a real (empty) parent where the mbox
	// tree has a directory.
	delete(got, "archive")
	diffViews(t, "uw -> maildir", got, want)

	// Reopened with the index lost, the Maildir still has the UIDs.
	mdDir := t.TempDir()
	md2 := openMaildir(t, mdDir)
	if _, err := migrate.Copy(ctx, src, md2, migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	md2.Close()
	for _, f := range []string{maildir.IndexName, maildir.IndexName + "-wal", maildir.IndexName + "-shm"} {
		os.Remove(filepath.Join(mdDir, f))
	}
	got = snapshot(t, openMaildir(t, mdDir))
	delete(got, "archive")
	diffViews(t, "uw -> maildir, index rebuilt", got, want)

	dir := t.TempDir()
	root, spool := filepath.Join(dir, "home"), filepath.Join(dir, "spool", "uwtest")
	mb := openMbox(t, root, spool)
	if _, err := migrate.Copy(ctx, md, mb, migrate.Options{}); err != nil {
		t.Fatalf("Copy(maildir -> mbox) = %v", err)
	}
	got = snapshot(t, mb)
	delete(got, "archive")
	diffViews(t, "uw -> maildir -> mbox", got, want)
	subs, err := mb.Subscriptions(ctx)
	if err != nil || !slices.Equal(subs, []string{"archive/delivered", "saved"}) {
		t.Errorf("Subscriptions() = %q, %v, want [archive/delivered saved]", subs, err)
	}

	// A fresh index over the files we wrote finds the same (what another
	// server process, or postern reindex, would see).
	mb.Close()
	fresh, err := mbox.OpenReadOnly(mbox.Options{Root: root, Inbox: spool, IndexPath: filepath.Join(dir, "other.sqlite"), NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	got = snapshot(t, fresh)
	delete(got, "archive")
	diffViews(t, "mbox files reparsed", got, want)

	for _, tc := range []struct{ name, file string }{
		{"INBOX", spool},
		{"saved", filepath.Join(root, "saved")},
		{"after-uw", filepath.Join(root, "after-uw")},
		{"after-pop3", filepath.Join(root, "after-pop3")},
		{"archive/delivered", filepath.Join(root, "archive", "delivered")},
	} {
		w := want[tc.name]
		unseen := 0
		for _, m := range w.Msgs {
			if !slices.Contains(m.Flags, mailstore.FlagSeen) {
				unseen++
			}
		}
		out := uwCheck(t, tc.file)
		wantOut := "(" + strconv.Itoa(unseen) + " unseen), " + strconv.Itoa(len(w.Msgs)) + " total in box"
		if !strings.Contains(out, wantOut) {
			t.Errorf("mailutil check %s = %q, want %q", tc.name, out, wantOut)
		}
	}
}

// dovecotTree unpacks testdata/dovecot.txtar into a directory.
func dovecotTree(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "dovecot.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]*strings.Builder{}
	var order []string
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "-- "); ok && strings.HasSuffix(name, " --") {
			name = strings.TrimSuffix(name, " --")
			cur = &strings.Builder{}
			files[name] = cur
			order = append(order, name)
			continue
		}
		if cur != nil {
			cur.WriteString(line)
		}
	}
	for _, name := range order {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[name].String()), 0o600); err != nil {
			t.Fatal(err)
		}
		// Maildir names start with the delivery time: the mtime.
		if sub := filepath.Base(filepath.Dir(p)); sub == "cur" || sub == "new" {
			if sec, err := strconv.ParseInt(strings.SplitN(filepath.Base(p), ".", 2)[0], 10, 64); err == nil {
				os.Chtimes(p, time.Unix(sec, 0), time.Unix(sec, 0))
			}
		}
	}
	// Empty directories do not survive version control.
	ents, _ := os.ReadDir(dir)
	folders := []string{dir}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") {
			folders = append(folders, filepath.Join(dir, e.Name()))
		}
	}
	for _, f := range folders {
		for _, sub := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(f, sub), 0o700)
		}
	}
	return dir
}

func flags(f ...string) []string {
	out, _ := mailstore.NormalizeFlags(f)
	return out
}

// TestDovecotImport imports the hand-written Dovecot tree into both
// drivers: Dovecot's UIDVALIDITY and UIDs are kept, the unseen message in
// new/ gets the next UID, keyword letters become names.
func TestDovecotImport(t *testing.T) {
	ctx := context.Background()
	type wantMsg struct {
		uid   uint32
		flags []string
		date  int64
		start string
	}
	want := map[string]struct {
		uv, next uint32
		msgs     []wantMsg
	}{
		"INBOX": {1700000000, 10, []wantMsg{
			{1, flags(`\Seen`), 1700000001, "From: Alice"},
			{2, flags(`\Flagged`, `\Answered`, "Work"), 1700000002, "From: Carol"},
			{5, flags(`\Seen`, "Work", "Project-X"), 1700000005, "From: Dave"},
			{9, flags(), 1700000009, "From: Eve"},
		}},
		"Sent":         {1700000100, 4, []wantMsg{{3, flags(`\Answered`, `\Seen`), 1700000103, "From: Bob"}}},
		"Archive/2023": {1700000200, 11, []wantMsg{{10, flags(`\Deleted`), 1700000210, "From: Frank"}}},
		"Entwürfe":     {1700000300, 1, nil},
	}
	dests := []struct {
		name string
		open func(t *testing.T) mailstore.Store
	}{
		{"maildir", func(t *testing.T) mailstore.Store { return openMaildir(t, t.TempDir()) }},
		{"mbox", func(t *testing.T) mailstore.Store {
			d := t.TempDir()
			return openMbox(t, filepath.Join(d, "home"), filepath.Join(d, "spool"))
		}},
	}
	for _, dest := range dests {
		t.Run(dest.name, func(t *testing.T) {
			src, err := migrate.FromDovecotMaildir(dovecotTree(t))
			if err != nil {
				t.Fatal(err)
			}
			to := dest.open(t)
			var progress []string
			sum, err := migrate.Copy(ctx, src, to, migrate.Options{Progress: func(r migrate.MailboxResult) {
				progress = append(progress, r.Name)
			}})
			if err != nil {
				t.Fatalf("Copy(dovecot -> %s) = %v", dest.name, err)
			}
			if sum.Messages != 6 || !slices.Equal(progress, []string{"INBOX", "Archive/2023", "Entwürfe", "Sent"}) {
				t.Errorf("Copy summary = %d messages, progress %q; want 6, [INBOX Archive/2023 Entwürfe Sent]", sum.Messages, progress)
			}
			got := snapshot(t, to)
			for name, w := range want {
				g, ok := got[name]
				if !ok {
					t.Errorf("mailbox %q missing; have %v", name, got)
					continue
				}
				if g.UIDValidity != w.uv || g.UIDNext != w.next || len(g.Msgs) != len(w.msgs) {
					t.Errorf("%s = UIDVALIDITY %d UIDNEXT %d, %d messages; want %d, %d, %d", name, g.UIDValidity, g.UIDNext, len(g.Msgs), w.uv, w.next, len(w.msgs))
					continue
				}
				for i, wm := range w.msgs {
					gm := g.Msgs[i]
					if gm.UID != wm.uid || !slices.Equal(gm.Flags, wm.flags) || gm.Date != wm.date || !strings.HasPrefix(gm.Body, wm.start) {
						t.Errorf("%s message %d = UID %d flags %q date %d body %.20q, want UID %d flags %q date %d body %q...",
							name, i+1, gm.UID, gm.Flags, gm.Date, gm.Body, wm.uid, wm.flags, wm.date, wm.start)
					}
				}
			}
			subs, err := to.Subscriptions(ctx)
			if err != nil || !slices.Equal(subs, []string{"Archive/2023", "Sent"}) {
				t.Errorf("Subscriptions() = %q, %v, want [Archive/2023 Sent]", subs, err)
			}
		})
	}
}

// TestCopyRefusesNonEmpty: a destination mailbox holding messages stops
// the copy before anything is written, unless SkipExisting.
func TestCopyRefusesNonEmpty(t *testing.T) {
	ctx := context.Background()
	for _, dest := range []string{"maildir", "mbox"} {
		t.Run(dest, func(t *testing.T) {
			var to mailstore.Store
			if dest == "maildir" {
				to = openMaildir(t, t.TempDir())
			} else {
				d := t.TempDir()
				to = openMbox(t, filepath.Join(d, "home"), filepath.Join(d, "spool"))
			}
			if err := to.Create(ctx, "Sent", ""); err != nil {
				t.Fatal(err)
			}
			if _, _, err := to.Append(ctx, "Sent", strings.NewReader("Subject: mine\n\nkeep me\n"), mailstore.AppendOptions{InternalDate: testDate}); err != nil {
				t.Fatal(err)
			}
			src, err := migrate.FromDovecotMaildir(dovecotTree(t))
			if err != nil {
				t.Fatal(err)
			}
			_, err = migrate.Copy(ctx, src, to, migrate.Options{})
			if !errors.Is(err, migrate.ErrDestinationNotEmpty) || !errors.Is(err, mailstore.ErrExist) || !strings.Contains(err.Error(), "Sent (1 messages)") {
				t.Fatalf("Copy into a non-empty Sent = %v, want ErrDestinationNotEmpty naming Sent", err)
			}
			if st, err := to.Status(ctx, "INBOX"); err != nil || st.Messages != 0 {
				t.Errorf("after the refusal INBOX = %+v, %v, want untouched (0 messages)", st, err)
			}
			sum, err := migrate.Copy(ctx, src, to, migrate.Options{SkipExisting: true})
			if err != nil {
				t.Fatalf("Copy(SkipExisting) = %v", err)
			}
			var skipped []string
			for _, r := range sum.Mailboxes {
				if r.Skipped {
					skipped = append(skipped, r.Name)
				}
			}
			if !slices.Equal(skipped, []string{"Sent"}) || sum.Messages != 5 {
				t.Errorf("Copy(SkipExisting) skipped %q, copied %d messages, want [Sent], 5", skipped, sum.Messages)
			}
			got := snapshot(t, to)
			if s := got["Sent"]; len(s.Msgs) != 1 || !strings.Contains(s.Msgs[0].Body, "keep me") {
				t.Errorf("Sent after SkipExisting = %+v, want our one message", s)
			}
			if in := got["INBOX"]; in.UIDValidity != 1700000000 || len(in.Msgs) != 4 {
				t.Errorf("INBOX after SkipExisting = %+v, want Dovecot's 4 messages", in)
			}
		})
	}
}

// TestCopyInterrupted: an error while reading a message midway (here the
// third of INBOX, an existing empty mailbox, and the first of Archive/2023, a
// new one) leaves no half mailbox behind.
func TestCopyInterrupted(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dest   string
		failAt int
		box    string
	}{
		{"maildir", 3, "INBOX"},
		{"maildir", 5, "Archive/2023"},
		{"mbox", 3, "INBOX"},
		{"mbox", 5, "Archive/2023"},
	} {
		t.Run(tc.dest+"/"+tc.box, func(t *testing.T) {
			d := t.TempDir()
			var to mailstore.Store
			if tc.dest == "maildir" {
				to = openMaildir(t, d)
			} else {
				to = openMbox(t, filepath.Join(d, "home"), filepath.Join(d, "spool"))
				// The spool file exists, empty, as on a real system.
				if err := os.WriteFile(filepath.Join(d, "spool"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, err := to.Status(ctx, "INBOX")
			if err != nil {
				t.Fatal(err)
			}
			src, err := migrate.FromDovecotMaildir(dovecotTree(t))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			_, err = migrate.Copy(ctx, failingStore{src, tc.failAt, &n}, to, migrate.Options{})
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("Copy with a failure at message %d = %v, want the injected failure", tc.failAt, err)
			}
			st, err := to.Status(ctx, tc.box)
			switch {
			case tc.box == "INBOX" && (err != nil || st.Messages != 0 || st.UIDValidity != before.UIDValidity):
				t.Errorf("INBOX after a failed import = %+v, %v, want empty with UIDVALIDITY %d", st, err, before.UIDValidity)
			case tc.box != "INBOX" && !errors.Is(err, mailstore.ErrNotExist):
				t.Errorf("Status(%q) after a failed import = %+v, %v, want ErrNotExist", tc.box, st, err)
			}
			// Nothing of the staging is left in the destination.
			filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
				if err == nil && strings.Contains(e.Name(), "import") {
					t.Errorf("left behind: %s", p)
				}
				return nil
			})
			// A second run completes the job.
			if _, err := migrate.Copy(ctx, src, to, migrate.Options{SkipExisting: true}); err != nil {
				t.Fatalf("Copy after the failure = %v", err)
			}
			if st, err := to.Status(ctx, "INBOX"); err != nil || st.Messages != 4 || st.UIDValidity != 1700000000 {
				t.Errorf("INBOX after the second run = %+v, %v, want 4 messages, UIDVALIDITY 1700000000", st, err)
			}
		})
	}
}
