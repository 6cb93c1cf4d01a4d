package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// uwSamples are UW imapd's own files (internal/mailstore/migrate/testdata).
const uwSamples = "../../internal/mailstore/migrate/testdata/uw-mbox"

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestImportUWThenConvert runs the commands as a sysadmin would: import a
// UW user's files into a Maildir, convert that back to mbox, and check
// the report lines; a second import into the same Maildir is refused.
func TestImportUWThenConvert(t *testing.T) {
	dir := t.TempDir()
	home, spool := filepath.Join(dir, "home"), filepath.Join(dir, "spool", "uwtest")
	copyTo(t, filepath.Join(uwSamples, "inbox-keywords.mbox"), spool)
	copyTo(t, filepath.Join(uwSamples, "saved-created-by-uw.mbox"), filepath.Join(home, "saved"))
	md := filepath.Join(dir, "Maildir")

	var out bytes.Buffer
	err := importCmd([]string{"--from", "uw-mbox:" + home + ",inbox=" + spool, "--to", "maildir:" + md}, &out)
	if err != nil {
		t.Fatalf("import = %v\n%s", err, out.String())
	}
	want := "INBOX: 4 messages, UIDVALIDITY 1795630326, UIDs kept\n" +
		"saved: 3 messages, UIDVALIDITY 1795630345, UIDs kept\n" +
		"total: 2 mailboxes, 7 messages, 0 subscriptions\n"
	if out.String() != want {
		t.Errorf("import printed\n%s\nwant\n%s", out.String(), want)
	}
	if _, err := os.Stat(filepath.Join(home, ".postern-index.sqlite")); err == nil {
		t.Errorf("import left an index in the source tree")
	}

	out.Reset()
	err = importCmd([]string{"--from", "uw-mbox:" + home + ",inbox=" + spool, "--to", "maildir:" + md}, &out)
	if err == nil || !strings.Contains(err.Error(), "INBOX (4 messages)") || !strings.Contains(err.Error(), "saved (3 messages)") {
		t.Errorf("second import = %v, want a refusal naming INBOX and saved", err)
	}
	out.Reset()
	err = importCmd([]string{"--skip-existing", "--from", "uw-mbox:" + home + ",inbox=" + spool, "--to", "maildir:" + md}, &out)
	if err != nil || !strings.Contains(out.String(), "saved: skipped") || !strings.Contains(out.String(), "total: 0 mailboxes, 0 messages, 0 subscriptions, 2 mailboxes skipped") {
		t.Errorf("import --skip-existing = %v, printed\n%s", err, out.String())
	}

	out.Reset()
	back, backInbox := filepath.Join(dir, "back"), filepath.Join(dir, "spool2", "uwtest")
	os.MkdirAll(filepath.Dir(backInbox), 0o700)
	err = convert([]string{"--from", "maildir:" + md, "--to", "mbox:" + back + ",inbox=" + backInbox}, &out)
	if err != nil {
		t.Fatalf("convert = %v\n%s", err, out.String())
	}
	if out.String() != want {
		t.Errorf("convert printed\n%s\nwant\n%s", out.String(), want)
	}
	b, err := os.ReadFile(backInbox)
	if err != nil || !bytes.Contains(b, []byte("\nX-IMAPbase: 1795630326 5 ")) || bytes.Count(b, []byte("\nX-UID: ")) != 4 {
		t.Errorf("converted INBOX lacks UW's headers (%v):\n%s", err, b)
	}
}

func TestMigrateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cmd  func([]string, *bytes.Buffer) error
		args []string
		want string
	}{
		{"no flags", cv, nil, "--from and --to are required"},
		{"unknown kind", cv, []string{"--from", "uw-mbox:" + dir, "--to", "maildir:" + dir + "/x"}, `unknown kind "uw-mbox"`},
		{"import kind", im, []string{"--from", "mbox:" + dir, "--to", "maildir:" + dir + "/x"}, `unknown kind "mbox"`},
		{"inbox on maildir", cv, []string{"--from", "mbox:" + dir, "--to", "maildir:" + dir + "/x,inbox=/y"}, "inbox= applies to mbox stores only"},
		{"same path", cv, []string{"--from", "mbox:" + dir, "--to", "maildir:" + dir}, "source and destination are both"},
		{"missing source", im, []string{"--from", "dovecot-maildir:" + dir + "/none", "--to", "maildir:" + dir + "/x"}, "no such file"},
		{"not a maildir", cv, []string{"--from", "maildir:" + dir, "--to", "mbox:" + dir + "/x"}, "is not a Maildir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tc.cmd(tc.args, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func cv(args []string, out *bytes.Buffer) error { return convert(args, out) }
func im(args []string, out *bytes.Buffer) error { return importCmd(args, out) }

// TestImportGivesFilesToOwner: run as root, everything the import creates
// belongs to the owner of the source tree (here nobody).
func TestImportGivesFilesToOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chown to another user")
	}
	const nobody = 65534
	dir := t.TempDir()
	home, spool := filepath.Join(dir, "home"), filepath.Join(dir, "spool", "uwtest")
	copyTo(t, filepath.Join(uwSamples, "inbox-keywords.mbox"), spool)
	copyTo(t, filepath.Join(uwSamples, "saved-created-by-uw.mbox"), filepath.Join(home, "saved"))
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "Maildir")
	var out bytes.Buffer
	if err := importCmd([]string{"--from", "uw-mbox:" + home + ",inbox=" + spool, "--to", "maildir:" + md}, &out); err != nil {
		t.Fatalf("import = %v", err)
	}
	n := 0
	filepath.Walk(md, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n++
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody || st.Gid != nobody {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, nobody, nobody)
		}
		return nil
	})
	if n < 10 {
		t.Errorf("walked %d paths in the Maildir, want the folders and messages", n)
	}
}
