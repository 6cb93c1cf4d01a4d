package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The link part of the isolation tests: symbolic links A plants in its own
// mail root, hard links to other users' files, and ~/mbox (UW's INBOX
// rule) pointing elsewhere.

// link is a symbolic link A plants in its root.
type link struct{ name, target string }

// links returns the symbolic links of this store: names as the store sees
// them (a Maildir folder ".x" is mailbox "x").
func (w *isoWorld) links() []link {
	if w.maildir {
		return []link{
			{"l-bmaildir", filepath.Join(w.b.home, "Maildir")},
			{"l-bpubmd", filepath.Join(w.b.home, "pubmaildir")},
			{"l-rootmd", filepath.Join(w.rootDir, "Maildir")},
			{"l-pubmd", filepath.Join(w.pub, "md")},
			{"l-etc", "/etc"},
			{"l-dangling", filepath.Join(w.pub, "made-by-link")},
		}
	}
	return []link{
		{"l-bprivate", w.bPrivate}, {"l-bshared", w.bShared}, {"l-shadow", "/etc/shadow"}, {"l-passwd", "/etc/passwd"},
		{"l-rootbox", w.rootBox}, {"l-bspool", w.b.spool}, {"l-amine", filepath.Join(w.pub, "amine")},
		{"l-bhome", w.b.home}, {"l-etc", "/etc"}, {"l-rootdir", w.rootDir}, {"l-pub", w.pub},
		{"l-dangling", filepath.Join(w.pub, "made-by-link")},
	}
}

// plantLinks makes, as A, the links of links() and, in a Maildir, folders
// whose cur/ or new/ is a link out of the root and INBOX messages that are
// links to files outside.
func (w *isoWorld) plantLinks() {
	t := w.t
	for _, l := range w.links() {
		p := filepath.Join(w.aRoot, l.name)
		if w.maildir {
			p = filepath.Join(w.aRoot, "."+l.name)
		}
		mustAsUser(t, w.a, "ln", "-s", l.target, p)
	}
	if !w.maildir {
		return
	}
	for _, f := range []struct{ folder, linked, target string }{
		{".l-curlink", "cur", filepath.Join(w.rootDir, "Maildir", "cur")},
		{".l-newlink", "new", filepath.Join(w.pub, "md", "new")},
	} {
		d := filepath.Join(w.aRoot, f.folder)
		mustAsUser(t, w.a, "mkdir", d)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if sub == f.linked {
				mustAsUser(t, w.a, "ln", "-s", f.target, filepath.Join(d, sub))
			} else {
				mustAsUser(t, w.a, "mkdir", filepath.Join(d, sub))
			}
		}
	}
	mustAsUser(t, w.a, "ln", "-s", "/etc/passwd", filepath.Join(w.aRoot, "cur", "1700000100.M9P9.host:2,"))
	mustAsUser(t, w.a, "ln", "-s", w.rootBox, filepath.Join(w.aRoot, "cur", "1700000101.M9P9.host:2,S"))
	mustAsUser(t, w.a, "ln", "-s", filepath.Join(w.pub, "amine"), filepath.Join(w.aRoot, "new", "1700000102.M9P9.host"))
}

// linkAttempts runs every mailbox command through each link; all must be
// refused, whether or not the kernel would let A at the target.
func (w *isoWorld) linkAttempts(c *rawConn) {
	var names []string
	for _, l := range w.links() {
		names = append(names, l.name)
	}
	if w.maildir {
		names = append(names, "l-curlink", "l-newlink", "l-rootmd/x", "l-etc/x")
	} else {
		names = append(names, "l-bhome/shared", "l-bhome/private", "l-bhome/Maildir", "l-etc/passwd", "l-rootdir/rootbox",
			"l-pub/amine", "l-pub/new", "l-dangling/x")
	}
	msg := "Subject: from A\r\n\r\nthrough a link\r\n"
	for _, n := range names {
		a := astring(n)
		w.try(c, "link SELECT", "SELECT "+a)
		w.try(c, "link EXAMINE", "EXAMINE "+a)
		w.try(c, "link STATUS", "STATUS "+a+" (MESSAGES)")
		w.try(c, "link APPEND", "APPEND "+a+fmt.Sprintf(" {%d+}\r\n%s", len(msg), msg))
		w.try(c, "link CREATE", "CREATE "+astring(n+"/new"))
		w.try(c, "link RENAME-from", "RENAME "+a+" moved")
		w.try(c, "link RENAME-to", "RENAME own "+astring(n+"/x"))
		w.try(c, "link DELETE", "DELETE "+a)
	}
	c.mustOK("SELECT INBOX")
	for _, n := range names {
		w.try(c, "link COPY", "COPY 1 "+astring(n))
		w.try(c, "link MOVE", "MOVE 1 "+astring(n))
	}
	// The links are still there: DELETE and RENAME refused them.
	for _, l := range w.links() {
		p := filepath.Join(w.aRoot, l.name)
		if w.maildir {
			p = filepath.Join(w.aRoot, "."+l.name)
		}
		if got, err := os.Readlink(p); err != nil || got != l.target {
			w.t.Errorf("link %s = %q, %v; want it left pointing at %s", p, got, err, l.target)
		}
	}
	if w.maildir {
		// INBOX: the planted message links are not messages.
		u := c.mustOK("SELECT INBOX")
		w.maybe(c, "link FETCH", "FETCH 1:* (BODY.PEEK[])")
		if !containsLine(u, "* 2 EXISTS") {
			w.t.Errorf("SELECT INBOX with message links planted = %q, want 2 EXISTS (the delivered messages only)", u)
		}
	}
	c.mustOK("UNSELECT")
	w.pop3NoLeak(2)
}

// pop3NoLeak logs A in over POP3 and reads every message: none may come
// from a file outside A's mail.
func (w *isoWorld) pop3NoLeak(want int) {
	t := w.t
	p := dialPOP3(t, w.pop3)
	p.ok("USER " + w.a.name)
	p.ok("PASS " + w.a.password)
	st := p.ok("STAT")
	w.attempts["POP3"]++
	if !strings.HasPrefix(st, fmt.Sprintf("+OK %d ", want)) {
		t.Errorf("POP3 STAT = %q, want %d messages", st, want)
	}
	var n int
	fmt.Sscanf(st, "+OK %d", &n)
	for i := 1; i <= n; i++ {
		body := p.multi(fmt.Sprintf("RETR %d", i))
		w.attempts["POP3"]++
		w.noLeak(fmt.Sprintf("POP3 RETR %d", i), body, "")
	}
	p.ok("QUIT")
}

// multi sends a POP3 command with a multi-line answer and returns its
// lines (the status line first).
func (c *pop3Conn) multi(cmd string) []string {
	c.t.Helper()
	st := c.ok(cmd)
	out := []string{st}
	for {
		l := c.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

// hardLinks: A cannot hard-link another's file into its root
// (fs.protected_hardlinks); when root has made such a link, A's changes
// to that mailbox never change the other file (checked by the final
// snapshot).
func (w *isoWorld) hardLinks(c *rawConn) {
	t := w.t
	try := filepath.Join(w.aRoot, "hl-try")
	if b, _ := os.ReadFile("/proc/sys/fs/protected_hardlinks"); strings.TrimSpace(string(b)) == "1" {
		for _, target := range []string{w.bShared, w.rootBox} {
			w.attempts["hard link by A"]++
			if out, err := asUser(w.a, "ln", target, try); err == nil {
				t.Errorf("A could hard-link %s into its root with fs.protected_hardlinks=1: %s", target, out)
				os.Remove(try)
			}
		}
	}
	msg := "Subject: from A\r\n\r\ninto a hard link\r\n"
	if w.maildir {
		src := filepath.Join(w.rootDir, "Maildir", "cur", "1700000000.M1P1.host:2,S")
		if err := os.Link(src, filepath.Join(w.aRoot, "cur", "1700000200.M8P8.host:2,")); err != nil {
			t.Fatal(err)
		}
		c.mustOK("SELECT INBOX")
		for _, l := range []string{"STORE 1:* +FLAGS (\\Deleted \\Flagged)", "EXPUNGE",
			"APPEND INBOX " + fmt.Sprintf("{%d+}\r\n%s", len(msg), msg)} {
			_, st := c.cmd(l)
			t.Logf("hard link in INBOX: %q = %q", short(l), st)
			w.attempts["hard link"]++
		}
		c.mustOK("UNSELECT")
		return
	}
	hl := filepath.Join(w.aRoot, "hl")
	if err := os.Link(w.rootBox, hl); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"SELECT hl", "STORE 1:* +FLAGS (\\Deleted \\Flagged)", "EXPUNGE",
		"APPEND hl " + fmt.Sprintf("{%d+}\r\n%s", len(msg), msg), "UNSELECT", "DELETE hl"} {
		_, st := c.cmd(l)
		t.Logf("hard link hl: %q = %q", short(l), st)
		w.attempts["hard link"]++
	}
	os.Remove(hl)
}

// inboxLink: UW's rule makes ~/mbox INBOX when it exists; a ~/mbox that is
// a link out of A's root is not followed: INBOX stays the spool file.
func (w *isoWorld) inboxLink() {
	if w.maildir {
		return
	}
	t := w.t
	mbox := filepath.Join(w.a.home, "mbox")
	for _, target := range []string{w.rootBox, w.bShared, filepath.Join(w.pub, "amine")} {
		mustAsUser(t, w.a, "ln", "-s", target, mbox)
		c := w.login()
		u, st := c.cmd("SELECT INBOX")
		w.attempts["~/mbox link"]++
		w.noLeak("SELECT INBOX with ~/mbox -> "+target, u, st)
		w.maybe(c, "~/mbox link", "FETCH 1:* (BODY.PEEK[])")
		c.mustOK("LOGOUT")
		w.pop3NoLeak(2)
		os.Remove(mbox)
	}
}

// rootLink: in a Maildir set-up the mail root (~/Maildir) is A's to
// replace; a link from it to B's world-readable Maildir or root's must not
// make that Maildir A's INBOX.
func (w *isoWorld) rootLink() {
	if !w.maildir {
		return
	}
	t := w.t
	mustAsUser(t, w.a, "mv", w.aRoot, w.aRoot+".real")
	defer mustAsUser(t, w.a, "mv", w.aRoot+".real", w.aRoot)
	for _, target := range []string{filepath.Join(w.b.home, "pubmaildir"), filepath.Join(w.rootDir, "Maildir")} {
		mustAsUser(t, w.a, "ln", "-s", target, w.aRoot)
		c := dialRaw(t, w.addr, false)
		_, st := c.cmd(fmt.Sprintf("LOGIN %s %q", w.a.name, w.a.password))
		w.attempts["mail root link"]++
		if strings.HasPrefix(st, "OK") {
			for _, l := range []string{"SELECT INBOX", "FETCH 1:* (BODY.PEEK[])", "STATUS INBOX (MESSAGES)", "LIST \"\" \"*\""} {
				w.maybe(c, "mail root link", l)
			}
			if u, _ := c.cmd("STATUS INBOX (MESSAGES)"); !containsLine(u, "* STATUS INBOX (MESSAGES 0)") {
				t.Errorf("~/Maildir -> %s: INBOX is %q, want it refused or empty", target, u)
			}
		} else if st != "NO [UNAVAILABLE] Mail store unavailable" {
			t.Errorf("~/Maildir -> %s: LOGIN = %q, want NO [UNAVAILABLE]", target, st)
		}
		if want := "is owned by uid " + strconv.Itoa(ownerOf(t, target)) + ", not by the user"; !waitLog(w.log, want) {
			t.Errorf("~/Maildir -> %s: the log lacks %q", target, want)
		}
		c.cmd("LOGOUT")
		os.Remove(w.aRoot)
	}
}

func ownerOf(t *testing.T, p string) int {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// waitLog reports whether the daemon's log has want, waiting a bounded
// time: a session's process writes its lines through the daemon's stderr
// pipe, which the test reads on its own schedule.
func waitLog(log *lockedBuffer, want string) bool {
	for i := 0; i < 500; i++ {
		if strings.Contains(log.String(), want) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
