package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Isolation between system accounts (issue 8 item 7): user A, logged in
// over IMAP and POP3, tries every way we know to reach user B's files,
// root's files, or files of its own outside its mail root: mailbox names
// (.., absolute paths, ~user, #namespaces, encodings, NUL, backslashes,
// very long names) in every command that takes one, symbolic links and
// hard links planted in its own mail directory. Each attempt must be
// refused, no answer may carry another file's contents, and afterwards
// every file outside A's root is as it was.

// isoWorld is the set-up of one system-account isolation test.
type isoWorld struct {
	t        *testing.T
	a, b     *sysUser
	maildir  bool
	aRoot    string // A's mail root: the home (mbox) or ~/Maildir
	pub      string // a 1777 directory beside A's home: A may write there, but it is outside A's root
	rootDir  string // root-owned 0755, world-readable files
	rootBox  string // rootDir/rootbox: root's world-readable mbox
	bShared  string // B's world-readable mbox in B's home
	bPrivate string // B's 0600 mbox
	addr     string
	pop3     string
	log      *lockedBuffer
	// attempts counts the refused attempts by class, for the report.
	attempts map[string]int
}

// markers are strings found only in files A must never read.
var isoMarkers = []string{"B-SECRET", "ROOT-SECRET", "A-OUTSIDE", "root:x:0:0", "daemon:x:1:1", "daemon:*:"}

func newIsoWorld(t *testing.T, maildir bool, an, bn string) *isoWorld {
	w := &isoWorld{t: t, maildir: maildir, attempts: map[string]int{}}
	w.a = newSysUser(t, an)
	w.b = newSysUser(t, bn)
	w.a.deliver(t, sysMsg1, sysMsg2)
	w.b.deliver(t, strings.Replace(sysMsg1, "first", "B-SECRET-SPOOL", 1))
	w.aRoot = w.a.home
	if maildir {
		w.aRoot = filepath.Join(w.a.home, "Maildir")
	}
	w.pub = filepath.Join(filepath.Dir(w.a.home), "pub")
	mkdirOwned(t, w.pub, 0, 0, 0o1777|os.ModeSticky)
	if err := os.Chmod(w.pub, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	writeOwned(t, filepath.Join(w.pub, "amine"), secretMbox("A-OUTSIDE"), w.a.uid, w.a.gid, 0o600)
	w.rootDir = filepath.Join(t.TempDir(), "rootdir")
	for _, p := range []string{filepath.Dir(filepath.Dir(w.rootDir)), filepath.Dir(w.rootDir)} {
		os.Chmod(p, 0o755)
	}
	mkdirOwned(t, w.rootDir, 0, 0, 0o755)
	w.rootBox = filepath.Join(w.rootDir, "rootbox")
	writeOwned(t, w.rootBox, secretMbox("ROOT-SECRET"), 0, 0, 0o644)
	w.bShared = filepath.Join(w.b.home, "shared")
	w.bPrivate = filepath.Join(w.b.home, "private")
	writeOwned(t, w.bShared, secretMbox("B-SECRET-SHARED"), w.b.uid, w.b.gid, 0o644)
	writeOwned(t, w.bPrivate, secretMbox("B-SECRET-PRIVATE"), w.b.uid, w.b.gid, 0o600)
	secretMaildir(t, filepath.Join(w.rootDir, "Maildir"), "ROOT-SECRET-MAILDIR", 0, 0, 0o755, 0o644)
	secretMaildir(t, filepath.Join(w.b.home, "Maildir"), "B-SECRET-MAILDIR", w.b.uid, w.b.gid, 0o700, 0o600)
	secretMaildir(t, filepath.Join(w.b.home, "pubmaildir"), "B-SECRET-PUBMAILDIR", w.b.uid, w.b.gid, 0o755, 0o644)
	secretMaildir(t, filepath.Join(w.pub, "md"), "A-OUTSIDE-MAILDIR", w.a.uid, w.a.gid, 0o700, 0o600)
	extra := []string{"listen = pop3 127.0.0.1:0", "login_delay = 10ms", "login_delay_max = 20ms"}
	if maildir {
		extra = append(extra, "mail_store = maildir")
	}
	w.addr, w.log = startSystemDaemon(t, extra...)
	w.pop3 = sysAddrs["pop3"]
	return w
}

// guarded are the trees A must not change: B's home and spool, root's
// directory, the writable directory beside A's home.
func (w *isoWorld) guarded() []string {
	return []string{w.b.home, w.b.spool, w.rootDir, w.pub}
}

// login opens an IMAP session as A and checks that the process serving it
// runs as A (real, effective, saved and file-system ids).
func (w *isoWorld) login() *rawConn {
	t := w.t
	t.Helper()
	before := len(childPID.FindAllStringSubmatch(w.log.String(), -1))
	c := dialRaw(t, w.addr, false)
	c.mustOK(fmt.Sprintf("LOGIN %s %q", w.a.name, w.a.password))
	m := childPID.FindAllStringSubmatch(w.log.String(), -1)
	if len(m) != before+1 {
		t.Fatalf("log names %d child processes after a login, want %d", len(m), before+1)
	}
	pid, _ := strconv.Atoi(m[before][1])
	uids, gids := procIDs(t, pid)
	want := func(id int) string { s := strconv.Itoa(id); return s + " " + s + " " + s + " " + s }
	if uids != want(w.a.uid) || gids != want(w.a.gid) {
		t.Fatalf("session process %d runs as uid %q gid %q, want %q %q", pid, uids, gids, want(w.a.uid), want(w.a.gid))
	}
	return c
}

// try runs one attempt that must be refused.
func (w *isoWorld) try(c *rawConn, class, line string) {
	w.t.Helper()
	if os.Getenv("ISO_DEBUG") != "" {
		w.t.Logf("-> %q", short(line))
	}
	u, st := c.cmd(line)
	w.attempts[class]++
	w.noLeak(line, u, st)
	if !refused.MatchString(st) {
		w.t.Errorf("%s: %q = %q, want a refusal (%s)", class, short(line), st, refused)
	}
}

// maybe runs an attempt with a name that is harmless in this store (it
// stays inside A's root, as an ordinary name): any answer is fine but a
// server error, and nothing may leak.
func (w *isoWorld) maybe(c *rawConn, class, line string) {
	w.t.Helper()
	if os.Getenv("ISO_DEBUG") != "" {
		w.t.Logf("-> %q", short(line))
	}
	u, st := c.cmd(line)
	w.attempts[class]++
	w.noLeak(line, u, st)
	if strings.Contains(st, "SERVERBUG") || strings.HasPrefix(st, "BYE") {
		w.t.Errorf("%s: %q = %q", class, short(line), st)
	}
}

func (w *isoWorld) noLeak(line string, u []string, st string) {
	w.t.Helper()
	all := strings.Join(u, "\n") + "\n" + st
	for _, m := range isoMarkers {
		if strings.Contains(all, m) {
			w.t.Errorf("%q: the answer holds %q, from a file A must not read:\n%s", short(line), m, all)
		}
	}
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// escapeNames are names that point outside A's mail root in some
// store's naming; mustRefuse says whether this store must refuse them
// (others are ordinary names there, such as "~b" in a Maildir, and may
// be created, but only inside A's root).
func (w *isoWorld) escapeNames() (names []string, mustRefuse map[string]bool) {
	relB, err := filepath.Rel(w.aRoot, w.b.home)
	if err != nil {
		w.t.Fatal(err)
	}
	relPub, _ := filepath.Rel(w.aRoot, w.pub)
	must := []string{
		relB + "/shared", relB + "/private", relB + "/Maildir", relPub + "/new", relPub + "/amine",
		"..", "../", "../..", "INBOX/../" + relB + "/shared", "a/../" + relPub + "/x", "./" + relPub, ".",
		"../" + w.b.name, "a/./b",
		w.b.home + "/shared", w.b.home + "/private", w.pub + "/new", "/etc/shadow", "/etc/passwd", w.b.spool, w.rootBox, "/",
		"//etc/passwd", "#mh/..", "#mh/../../etc/passwd", "#ftp/../etc", "#shared/../" + relPub, "#public/..",
		"&AC4ALg-/" + relPub, "&AC4ALgAv-pub", "&AC8-etc&AC8-passwd", // mUTF-7 spellings of "..", "../" and "/"
		"x\x00/../../pub", "..\x00", "INBOX\x00../x",
		strings.Repeat("../", 1000) + "etc/passwd", strings.Repeat("x/", 40000), strings.Repeat("y", 70000),
	}
	harmless := []string{
		"~" + w.b.name + "/shared", "~" + w.b.name + "/private", "~" + w.b.name, "~root/.bashrc", "~/../pub/x", "~",
		"#news.comp", "%2e%2e/pub/x", "%2E%2E%2Fpub",
		"..\\..\\pub\\x", "\\etc\\shadow", strings.Repeat("a/", 2000) + "x", strings.Repeat("z", 300),
		"&AC4ALg", "&-&AC4ALg-", "&Jjo-..&Jjo-", // malformed or mixed mUTF-7
	}
	mustRefuse = map[string]bool{}
	for _, n := range must {
		mustRefuse[n] = true
	}
	if !w.maildir {
		// UW naming: "~user/..." is the other user's home; refused
		// unless mbox AllowOutsideRoot (not settable in the daemon).
		for _, n := range harmless[:6] {
			mustRefuse[n] = true
		}
	}
	return append(must, harmless...), mustRefuse
}

// nameAttempts runs every mailbox command with each name, and COPY/MOVE
// with each as target.
func (w *isoWorld) nameAttempts(c *rawConn, names []string, mustRefuse map[string]bool) {
	t := w.t
	msg := "Subject: from A\r\n\r\nA's own message.\r\n"
	c.cmd("CREATE own")
	for _, n := range names {
		run := w.maybe
		if mustRefuse[n] {
			run = w.try
		}
		a := astring(n)
		run(c, "SELECT", "SELECT "+a)
		run(c, "EXAMINE", "EXAMINE "+a)
		run(c, "STATUS", "STATUS "+a+" (MESSAGES UIDNEXT)")
		run(c, "CREATE", "CREATE "+a)
		run(c, "APPEND", "APPEND "+a+fmt.Sprintf(" {%d+}\r\n%s", len(msg), msg))
		run(c, "RENAME-to", "RENAME own "+a)
		run(c, "RENAME-from", "RENAME "+a+" own2")
		run(c, "SUBSCRIBE", "SUBSCRIBE "+a)
		// UNSUBSCRIBE may take a name SUBSCRIBE refuses (to remove stale
		// subscriptions): it touches no file either way.
		w.maybe(c, "UNSUBSCRIBE", "UNSUBSCRIBE "+a)
		run(c, "DELETE", "DELETE "+a)
		if !mustRefuse[n] {
			// Whatever an ordinary name made, inside A's root, goes.
			c.cmd("DELETE " + a)
			c.cmd("UNSUBSCRIBE " + a)
			c.cmd("RENAME own2 own")
			c.cmd("CREATE own")
		}
	}
	u := c.mustOK("SELECT INBOX")
	if !containsLine(u, "* 2 EXISTS") {
		t.Fatalf("SELECT INBOX = %q, want 2 EXISTS", u)
	}
	for _, n := range names {
		run := w.maybe
		if mustRefuse[n] {
			run = w.try
		}
		run(c, "COPY", "COPY 1 "+astring(n))
		run(c, "MOVE", "MOVE 1 "+astring(n))
		if !mustRefuse[n] {
			c.cmd("DELETE " + astring(n))
		}
		if u, _ := c.cmd("NOOP"); containsLine(u, "* 1 EXPUNGE") {
			t.Fatalf("MOVE 1 %q expunged the message", short(n))
		}
	}
	c.mustOK("UNSELECT")
}

// listAttempts runs LIST and LSUB with references and patterns that
// point outside A's root: each answer is OK or refused, and no listed
// name may lead outside (nor name a planted link).
func (w *isoWorld) listAttempts(c *rawConn) {
	bn := w.b.name
	for _, l := range []string{
		`LIST "" "../*"`, `LIST "" "../%"`, `LIST "" "/*"`, `LIST "" "/%"`, `LIST "" "~` + bn + `/*"`, `LIST "" "~/*"`,
		`LIST "../" "*"`, `LIST "/" "*"`, `LIST "/etc/" "%"`, `LIST "~` + bn + `/" "*"`, `LIST "" "#mh/*"`, `LIST "" "*/../*"`,
		`LIST "" "l-etc/*"`, `LIST "" "l-bhome/*"`, `LIST "" "l-pub/*"`, `LIST "" "l-*"`, `LIST "" "*"`, `LIST "" "%"`,
		`LIST "" "&AC4ALg-/*"`, `LIST (SUBSCRIBED) "" "*"`, `LSUB "" "*"`, `LIST "" "*" RETURN (STATUS (MESSAGES))`,
	} {
		u, st := c.cmd(l)
		w.attempts["LIST"]++
		w.noLeak(l, u, st)
		if !strings.HasPrefix(st, "OK") && !refused.MatchString(st) {
			w.t.Errorf("%s = %q", l, st)
		}
		for _, line := range u {
			i := strings.LastIndex(line, `"/" `)
			if i < 0 {
				continue
			}
			name := strings.Trim(line[i+4:], `"`)
			if strings.Contains(name, "..") || strings.HasPrefix(name, "/") || (!w.maildir && strings.HasPrefix(name, "~")) || strings.HasPrefix(name, "l-") ||
				strings.Contains(name, "passwd") || strings.Contains(name, "shared") || strings.Contains(name, "pub") {
				w.t.Errorf("%s lists %q, outside A's root", l, line)
			}
		}
	}
}

// TestIsolationSystemMbox: system accounts with UW mbox.
func TestIsolationSystemMbox(t *testing.T) {
	w := newIsoWorld(t, false, "postern-t-isa", "postern-t-isb")
	w.run()
}

// TestIsolationSystemMaildir: system accounts with mail_store = maildir.
func TestIsolationSystemMaildir(t *testing.T) {
	w := newIsoWorld(t, true, "postern-t-ima", "postern-t-imb")
	w.run()
}

func (w *isoWorld) run() {
	t := w.t
	if w.maildir {
		// A's Maildir exists once A has logged in; it gets the two
		// messages the spool has in mbox mode.
		c := w.login()
		for _, m := range []string{sysMsg1, sysMsg2} {
			m = strings.ReplaceAll(m, "\n", "\r\n")
			c.mustOK(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(m), m))
		}
		c.mustOK("LOGOUT")
	}
	w.plantLinks()
	before := snapshot(t, w.guarded()...)

	c := w.login()
	names, must := w.escapeNames()
	w.nameAttempts(c, names, must)
	w.linkAttempts(c)
	w.listAttempts(c)
	c.mustOK("LOGOUT")
	w.utf8Attempts()
	w.pop3Logins()
	// Last: the Maildir case expunges INBOX.
	c = w.login()
	w.hardLinks(c)
	c.mustOK("LOGOUT")
	w.inboxLink()
	w.rootLink()

	sameFiles(t, "outside A's root", before, snapshot(t, w.guarded()...))
	for _, l := range strings.Split(w.log.String(), "\n") {
		if strings.Contains(l, "SERVERBUG") || strings.Contains(l, "panic") {
			t.Errorf("daemon log: %s", l)
		}
	}
	t.Logf("attempts by class: %v", w.attempts)
}

// utf8Attempts: with UTF8=ACCEPT (RFC 6855) names travel as UTF-8; none
// that looks like or decodes (by a lax decoder) to ".." or "/" leads out:
// fullwidth and leader dots, an overlong encoding of ".", a UTF-8 "../".
func (w *isoWorld) utf8Attempts() {
	c := w.login()
	c.mustOK("ENABLE UTF8=ACCEPT")
	relPub, _ := filepath.Rel(w.aRoot, w.pub)
	must := []string{relPub + "/new", "../" + w.b.name + "/é", "é/../../pub", "\xc0\xae\xc0\xae/pub", "\xc0\xaf" + "etc" + "\xc0\xaf" + "passwd",
		"\xe0\x80\xae\xe0\x80\xae/pub", "\xff\xfe/..", "INBOX/\xed\xa0\x80/../.."}
	harmless := []string{"\uff0e\uff0e/pub", "\u2024\u2024/pub", "\u2025/pub", "..\u200b/pub", "\u202e..\u202c/pub", "\uff0fetc\uff0fpasswd"}
	mustRefuse := map[string]bool{}
	var names []string
	for _, n := range must {
		n = unescapeBytes(n)
		mustRefuse[n] = true
		names = append(names, n)
	}
	w.nameAttempts(c, append(names, harmless...), mustRefuse)
	c.mustOK("LOGOUT")
}

// unescapeBytes turns \xNN in s into the byte NN, for invalid UTF-8.
func unescapeBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pop3Logins: POP3 has no mailbox names, only the login name: paths and
// other users' names in USER never log A in elsewhere.
func (w *isoWorld) pop3Logins() {
	for _, u := range []string{"../" + w.b.name, w.b.home, "/etc/passwd", "~" + w.b.name, w.b.name + "/../" + w.a.name,
		w.a.name + "/../" + w.b.name, w.a.name + "/.", "./" + w.a.name, w.a.name + " " + w.b.name} {
		p := dialPOP3(w.t, w.pop3)
		p.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
		fmt.Fprintf(p.conn, "USER %s\r\nPASS %s\r\n", u, w.a.password)
		r1, r2 := p.line(), p.line()
		w.attempts["POP3 login name"]++
		if !strings.HasPrefix(r2, "-ERR") && !strings.HasPrefix(r1, "-ERR") {
			w.t.Errorf("POP3 USER %q with A's password = %q, %q; want -ERR", u, r1, r2)
		}
	}
}

// TestIsolationSpoolLink: with mbox_inbox under the home, the session
// (still root before the privilege drop) used to create a missing INBOX
// file through whatever link the user planted on the way: ~/mail -> a
// root-owned directory got a user-owned file made in it. Root now creates
// the file only where root alone controls the path.
func TestIsolationSpoolLink(t *testing.T) {
	a := newSysUser(t, "postern-t-isl")
	rootDir := filepath.Join(t.TempDir(), "rootdir")
	os.Chmod(filepath.Dir(rootDir), 0o755)
	mkdirOwned(t, rootDir, 0, 0, 0o755)
	mustAsUser(t, a, "ln", "-s", rootDir, filepath.Join(a.home, "mail"))
	before := snapshot(t, rootDir)
	addr, _ := startSystemDaemon(t, "mbox_inbox = %h/mail/inbox")
	c := dialRaw(t, addr, false)
	c.mustOK(fmt.Sprintf("LOGIN %s %q", a.name, a.password))
	_, st := c.cmd("APPEND INBOX {18+}\r\nSubject: hello\r\n\r\n")
	if !refused.MatchString(st) {
		t.Errorf("APPEND INBOX with the INBOX file's directory a link to root's = %q, want a refusal", st)
	}
	c.mustOK("LOGOUT")
	sameFiles(t, "root's directory behind ~/mail", before, snapshot(t, rootDir))
}
