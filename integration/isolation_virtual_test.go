package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIsolationVirtual: virtual users share one service account, so the
// kernel stops nothing between them; Postern must. Links in the demo
// user's Maildir lead to another user's Maildir in the same data
// directory and out of it: folder links, folders whose cur/ or new/ is a
// link, message files that are links. None is listed, opened, served or
// changed, and no ".." name leaves the user's root.
func TestIsolationVirtual(t *testing.T) {
	s := startServer(t)
	root := filepath.Join(s.Data, "users", "demo", "Maildir")
	other := filepath.Join(s.Data, "users", "other", "Maildir")
	if err := os.MkdirAll(filepath.Dir(other), 0o700); err != nil {
		t.Fatal(err)
	}
	secretMaildir(t, other, "B-SECRET-VIRTUAL", os.Getuid(), os.Getgid(), 0o700, 0o600)
	outside := filepath.Join(t.TempDir(), "Maildir")
	secretMaildir(t, outside, "ROOT-SECRET-OUTSIDE", os.Getuid(), os.Getgid(), 0o700, 0o600)
	ln := func(target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	ln(other, filepath.Join(root, ".l-other"))
	ln(outside, filepath.Join(root, ".l-outside"))
	ln(filepath.Join(other, "cur"), filepath.Join(root, ".l-othercur"))
	ln("/etc", filepath.Join(root, ".l-etc"))
	for _, f := range []struct{ folder, linked, target string }{
		{".l-curlink", "cur", filepath.Join(other, "cur")},
		{".l-newlink", "new", filepath.Join(other, "new")},
		{".l-tmplink", "tmp", filepath.Join(outside, "tmp")},
	} {
		d := filepath.Join(root, f.folder)
		for _, sub := range []string{"", "cur", "new", "tmp"} {
			if sub == f.linked {
				ln(f.target, filepath.Join(d, sub))
			} else if err := os.Mkdir(filepath.Join(d, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	ln("/etc/passwd", filepath.Join(root, "cur", "1700000100.M9P9.host:2,"))
	ln(filepath.Join(other, "cur", "1700000000.M1P1.host:2,S"), filepath.Join(root, "cur", "1700000101.M9P9.host:2,S"))
	ln(filepath.Join(other, "new", "1700000001.M2P2.host"), filepath.Join(root, "new", "1700000102.M9P9.host"))
	guarded := []string{other, outside}
	before := snapshot(t, guarded...)

	w := &isoWorld{t: t, attempts: map[string]int{}}
	c := dialRaw(t, s.IMAP, true)
	msg := "Subject: from demo\r\n\r\nthrough a link\r\n"
	names := []string{"l-other", "l-outside", "l-othercur", "l-etc", "l-curlink", "l-newlink", "l-tmplink", "l-etc/passwd",
		"../../other/Maildir", "../other", "..", "INBOX/../../other/Maildir", other, "/etc/passwd", "&AC4ALg-/other",
		"x\x00/../other", strings.Repeat("../", 500) + "etc"}
	c.mustOK("CREATE own")
	for _, n := range names {
		a := astring(n)
		for _, l := range []string{"SELECT " + a, "EXAMINE " + a, "STATUS " + a + " (MESSAGES)", "CREATE " + astring(n+"/new"),
			"APPEND " + a + fmt.Sprintf(" {%d+}\r\n%s", len(msg), msg), "RENAME " + a + " moved", "RENAME own " + astring(n+"/x"),
			"DELETE " + a} {
			w.try(c, "virtual "+strings.Fields(l)[0], l)
		}
	}
	u := c.mustOK("SELECT INBOX")
	if want := fmt.Sprintf("* %d EXISTS", len(demoMessages)); !containsLine(u, want) {
		t.Errorf("SELECT INBOX with message links planted = %q, want %q (the demo's messages only)", u, want)
	}
	for _, n := range names {
		w.try(c, "virtual COPY", "COPY 1 "+astring(n))
		w.try(c, "virtual MOVE", "MOVE 1 "+astring(n))
	}
	w.maybe(c, "virtual FETCH", "FETCH 1:* (BODY.PEEK[])")
	for _, l := range []string{`LIST "" "*"`, `LIST "" "l-*"`, `LIST "" "../*"`, `LIST "../" "*"`, `LIST "" "l-other/*"`} {
		u, st := c.cmd(l)
		w.attempts["virtual LIST"]++
		w.noLeak(l, u, st)
		for _, line := range u {
			if strings.Contains(line, "l-") || strings.Contains(line, "..") || strings.Contains(line, "other") {
				t.Errorf("%s lists %q", l, line)
			}
		}
	}
	c.mustOK("LOGOUT")

	p := dialPOP3(t, s.POP3)
	p.ok("USER demo")
	p.ok("PASS demo")
	if st := p.ok("STAT"); !strings.HasPrefix(st, fmt.Sprintf("+OK %d ", len(demoMessages))) {
		t.Errorf("POP3 STAT = %q, want the demo's %d messages", st, len(demoMessages))
	}
	for i := 1; i <= len(demoMessages); i++ {
		w.noLeak(fmt.Sprintf("POP3 RETR %d", i), p.multi(fmt.Sprintf("RETR %d", i)), "")
		w.attempts["virtual POP3"]++
	}
	p.ok("QUIT")

	sameFiles(t, "outside the demo user's root", before, snapshot(t, guarded...))
	t.Logf("attempts by class: %v", w.attempts)
}
