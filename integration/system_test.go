package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/netns"
)

// A UW site's set-up (issue 4): real system accounts with yescrypt
// passwords in /etc/shadow, mail in /var/mail/USER delivered the way an MTA
// does it (under NAME.lock, as USER:mail 0660), folders in the home
// directory, and every session running as its user.

// sysUser is a system account made for one test.
type sysUser struct {
	name, password string
	uid, gid       int
	home, spool    string
}

// needRoot fails (or skips with POSTERN_SKIP_PROGRAMS=1) a test that must
// create system accounts.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() == 0 {
		return
	}
	if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
		t.Skip("needs root to create system accounts, and POSTERN_SKIP_PROGRAMS=1")
	}
	t.Fatal("this test creates system accounts and needs root (or set POSTERN_SKIP_PROGRAMS=1 to skip it)")
}

// newSysUser creates the account with useradd and chpasswd (which writes a
// yescrypt hash on Debian 12) and removes it, its spool file and home when
// the test ends.
func newSysUser(t *testing.T, name string) *sysUser {
	t.Helper()
	needRoot(t)
	for _, p := range []string{"useradd", "userdel", "chpasswd", "dotlockfile"} {
		needProgram(t, p)
	}
	// The home's parents must be searchable by the user, as /home is.
	base := t.TempDir()
	for _, p := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(base, "home-"+name)
	exec.Command("userdel", name).Run() // a leftover of an interrupted run
	mustRun(t, nil, "useradd", "--home-dir", home, "--create-home", "--shell", "/bin/sh", "--user-group", name)
	u := &sysUser{name: name, password: "Pw-" + name + "-9!", home: home, spool: filepath.Join("/var/mail", name)}
	t.Cleanup(func() {
		exec.Command("userdel", name).Run()
		os.Remove(u.spool)
		os.Remove(u.spool + ".lock")
	})
	mustRun(t, []byte(name+":"+u.password+"\n"), "chpasswd")
	pw, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	u.uid, _ = strconv.Atoi(pw.Uid)
	u.gid, _ = strconv.Atoi(pw.Gid)
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(shadow, []byte("\n"+name+":$y$")) {
		t.Fatalf("chpasswd did not write a yescrypt hash for %s", name)
	}
	return u
}

func mustRun(t *testing.T, stdin []byte, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// deliver appends messages to the user's spool file as an MTA does on
// Debian: under NAME.lock taken with dotlockfile, the file USER:mail 0660.
func (u *sysUser) deliver(t *testing.T, msgs ...string) {
	t.Helper()
	mustRun(t, nil, "dotlockfile", "-l", "-r", "3", u.spool+".lock")
	defer mustRun(t, nil, "dotlockfile", "-u", u.spool+".lock")
	f, err := os.OpenFile(u.spool, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o660)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		fmt.Fprintf(f, "From sender%d@example.org Wed Nov 25 1%d:00:00 2026\n%s\n", i, i, m)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mail, err := user.LookupGroup("mail")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(mail.Gid)
	if err := os.Chown(u.spool, u.uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(u.spool, 0o660); err != nil {
		t.Fatal(err)
	}
}

// procIDs returns the real, effective, saved and filesystem uids and gids
// of process pid, from /proc.
func procIDs(t *testing.T, pid int) (uids, gids string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading the serving process's status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			uids = strings.Join(strings.Fields(v), " ")
		}
		if v, ok := strings.CutPrefix(l, "Gid:"); ok {
			gids = strings.Join(strings.Fields(v), " ")
		}
	}
	return uids, gids
}

// fileOwner returns the owner, group and permission bits of path.
func fileOwner(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d %o", sys.Uid, sys.Gid, st.Mode().Perm())
}

const (
	sysMsg1 = "From: Alice <alice@example.org>\nTo: you\nSubject: first\n\nThe first message.\n"
	sysMsg2 = "From: Bob <bob@example.org>\nTo: you\nSubject: second\n\nThe second message.\n>From here on, quoted as delivered.\n"
)

// startSystemDaemon runs `postern serve` as root with system accounts and
// the default mail store (UW mbox) on a loopback port; it returns the
// address and the daemon's log.
func startSystemDaemon(t *testing.T, extra ...string) (addr string, log *lockedBuffer) {
	t.Helper()
	clear(sysAddrs)
	conf := filepath.Join(t.TempDir(), "postern.conf")
	body := "listen = imap 127.0.0.1:0\nlog_level = debug\n" + strings.Join(extra, "\n") + "\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(posternBin, "serve", "-c", conf)
	log = &lockedBuffer{}
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("postern after SIGTERM: %v", err)
			}
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-done
			t.Errorf("postern did not stop within %v", stopTimeout)
		}
		if t.Failed() {
			t.Logf("postern log:\n%s", log)
		}
	})
	sc := bufio.NewScanner(out)
	want := strings.Count(body, "listen = ")
	for len(sysAddrs) < want && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "listening:" {
			sysAddrs[f[1]] = f[2]
		}
	}
	addr = sysAddrs["imap"]
	if addr == "" {
		t.Fatalf("postern printed no imap listener\nlog:\n%s", log)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return addr, log
}

// sysAddrs are the listeners of the last startSystemDaemon, by service.
var sysAddrs = map[string]string{}

var childPID = regexp.MustCompile(`connection handed to a child process" remote=\S+ service=(?:imap|pop3) pid=(\d+)`)

// TestSystemAccountsDaemon: `postern serve` as root with system accounts
// serves each connection in its own process, which runs as the user after
// login; the user's mail is the UW mbox in /var/mail and files in the home.
func TestSystemAccountsDaemon(t *testing.T) {
	u := newSysUser(t, "postern-t-dmn")
	u.deliver(t, sysMsg1, sysMsg2)
	addr, log := startSystemDaemon(t)

	c := dialIMAP(t, addr, nil)
	if err := c.Login(u.name, u.password).Wait(); err != nil {
		t.Fatalf("LOGIN as %s with the password chpasswd set: %v", u.name, err)
	}
	// The process serving this session is a child running as the user;
	// the daemon stays root.
	m := childPID.FindAllStringSubmatch(log.String(), -1)
	if len(m) != 1 {
		t.Fatalf("log names %d child processes, want 1:\n%s", len(m), log)
	}
	pid, _ := strconv.Atoi(m[0][1])
	uids, gids := procIDs(t, pid)
	want := func(id int) string { s := strconv.Itoa(id); return s + " " + s + " " + s + " " + s }
	if uids != want(u.uid) || gids != want(u.gid) {
		t.Errorf("serving process %d runs as uid %q gid %q, want %q %q", pid, uids, gids, want(u.uid), want(u.gid))
	}
	if uids, _ := procIDs(t, os.Getpid()); uids != "0 0 0 0" {
		t.Errorf("test process uid %q", uids)
	}

	sel := selectMailbox(t, c, "INBOX", false)
	if sel.NumMessages != 2 {
		t.Fatalf("SELECT INBOX: %d messages, want 2", sel.NumMessages)
	}
	msgs := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	for i, want := range []string{sysMsg1, sysMsg2} {
		got := string(msgs[i].FindBodySection(&imap.FetchItemBodySection{Peek: true}))
		if got != strings.ReplaceAll(want, "\n", "\r\n") {
			t.Errorf("message %d = %q, want %q", i+1, got, want)
		}
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("saved", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The session's process writes the mailbox as it closes, then logs
	// Logout: wait for that line (bounded) before looking at the files.
	logout := "Logout user=" + u.name + " host=127.0.0.1 [127.0.0.1]"
	for i := 0; i < 500 && !strings.Contains(log.String(), logout); i++ {
		time.Sleep(10 * time.Millisecond)
	}

	// On disk: UW's format, the expunged message gone, the flags in
	// Status/X-Status, the spool still USER:mail 0660, the new folder the
	// user's own.
	spool, err := os.ReadFile(u.spool)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Subject: second\n", "X-UID: 2\n", "Status: RO\n", "X-Status: F", ">From here on, quoted as delivered.\n"} {
		if !strings.Contains(string(spool), want) {
			t.Errorf("spool file lacks %q:\n%s", want, spool)
		}
	}
	if strings.Contains(string(spool), "Subject: first") {
		t.Errorf("the expunged message is still in the spool file:\n%s", spool)
	}
	mail, _ := user.LookupGroup("mail")
	if got, want := fileOwner(t, u.spool), fmt.Sprintf("%d:%s 660", u.uid, mail.Gid); got != want {
		t.Errorf("spool file owner and mode = %s, want %s", got, want)
	}
	if got, want := fileOwner(t, filepath.Join(u.home, "saved")), fmt.Sprintf("%d:%d 600", u.uid, u.gid); got != want {
		t.Errorf("created folder owner and mode = %s, want %s", got, want)
	}
	for _, want := range []string{
		"Login user=" + u.name + " host=127.0.0.1 [127.0.0.1]",
		"Logout user=" + u.name + " host=127.0.0.1 [127.0.0.1]",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// TestSystemAccountsNoSpool: a user who never got mail has no
// /var/mail/USER, and cannot create it (the directory is root:mail 2775);
// the session makes it while still root, as useradd and MTAs do, so
// APPEND to INBOX works.
func TestSystemAccountsNoSpool(t *testing.T) {
	u := newSysUser(t, "postern-t-nsp")
	os.Remove(u.spool)
	addr, _ := startSystemDaemon(t)
	c := dialRaw(t, addr, false)
	c.mustOK(fmt.Sprintf("LOGIN %s %q", u.name, u.password))
	if got := c.mustOK("SELECT INBOX"); !containsLine(got, "* 0 EXISTS") {
		t.Errorf("SELECT of a missing spool file = %q, want 0 EXISTS", got)
	}
	c.mustOK("APPEND INBOX (\\Seen) {18+}\r\nSubject: hello\r\n\r\n")
	c.mustOK("LOGOUT")
	mail, _ := user.LookupGroup("mail")
	if got, want := fileOwner(t, u.spool), fmt.Sprintf("%d:%s 660", u.uid, mail.Gid); got != want {
		t.Errorf("spool file made at login: owner and mode %s, want %s", got, want)
	}
}

// TestSystemAccountsDaemonPOP3: the daemon's pop3 service for a system
// account: the child serving it runs as the user, and QUIT removes the
// DELE'd message from /var/mail.
func TestSystemAccountsDaemonPOP3(t *testing.T) {
	u := newSysUser(t, "postern-t-dp3")
	u.deliver(t, sysMsg1, sysMsg2)
	_, log := startSystemDaemon(t, "listen = pop3 127.0.0.1:0")
	p := dialPOP3(t, sysAddrs["pop3"])
	p.ok("USER " + u.name)
	p.ok("PASS " + u.password)
	m := childPID.FindAllStringSubmatch(log.String(), -1)
	if len(m) != 1 {
		t.Fatalf("log names %d child processes, want 1:\n%s", len(m), log)
	}
	pid, _ := strconv.Atoi(m[0][1])
	if uids, _ := procIDs(t, pid); uids != strings.TrimSpace(strings.Repeat(strconv.Itoa(u.uid)+" ", 4)) {
		t.Errorf("POP3 child %d runs as uid %q, want %d", pid, uids, u.uid)
	}
	p.ok("DELE 1")
	p.ok("QUIT")
	spool, _ := os.ReadFile(u.spool)
	if strings.Contains(string(spool), "Subject: first") || !strings.Contains(string(spool), "Subject: second") {
		t.Errorf("spool after POP3 DELE 1 and QUIT:\n%s", spool)
	}
}

// TestSystemAccountsRefused: root, a wrong password and a locked account
// get the same answer; the reasons are in the log only.
func TestSystemAccountsRefused(t *testing.T) {
	u := newSysUser(t, "postern-t-ref")
	addr, log := startSystemDaemon(t, "login_delay = 10ms", "login_delay_max = 20ms")
	locked := newSysUser(t, "postern-t-lck")
	mustRun(t, nil, "usermod", "-L", locked.name)
	for _, tt := range []struct{ user, pass, logged string }{
		{"root", "whatever", `reason="uid 0 never logs in"`},
		{u.name, "wrong", "Login failed user=" + u.name + " auth=" + u.name + " host=127.0.0.1 [127.0.0.1]"},
		{locked.name, locked.password, `reason="account locked"`},
	} {
		c := dialRaw(t, addr, false)
		_, st := c.cmd(fmt.Sprintf("LOGIN %s %q", tt.user, tt.pass))
		if st != "NO [AUTHENTICATIONFAILED] Authentication failed" {
			t.Errorf("LOGIN %s: %q, want NO [AUTHENTICATIONFAILED]", tt.user, st)
		}
		if !strings.Contains(log.String(), tt.logged) {
			t.Errorf("LOGIN %s: log lacks %q", tt.user, tt.logged)
		}
	}
}

// TestSystemAccountsXinetd: imapd under Debian's xinetd, started as root
// for each connection, logs the user in with the password from
// /etc/shadow, drops to the user before opening /var/mail/USER, and serves
// it over IPv4 and IPv6. It runs in a private network namespace.
func TestSystemAccountsXinetd(t *testing.T) {
	if !netns.Inside() {
		needRoot(t)
		netns.Run(t, t.Name(), nil)
		return
	}
	xinetd := needProgram(t, "xinetd")
	u := newSysUser(t, "postern-t-xin")
	u.deliver(t, sysMsg1, sysMsg2)
	dir := t.TempDir()
	imapdLog := filepath.Join(dir, "imapd.log")
	conf := filepath.Join(dir, "postern.conf")
	if err := os.WriteFile(conf, []byte("log_file = "+imapdLog+"\nlog_level = debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	xconf := filepath.Join(dir, "xinetd.conf")
	// The contrib entry for Linux, on a high port.
	if err := os.WriteFile(xconf, []byte(`service imap
{
	type        = UNLISTED
	port        = 10143
	flags       = IPv6
	socket_type = stream
	wait        = no
	user        = root
	server      = `+imapdBin+`
	server_args = -c `+conf+`
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xinetd, "-dontfork", "-f", xconf, "-pidfile", filepath.Join(dir, "xinetd.pid"), "-filelog", filepath.Join(dir, "xinetd.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(imapdLog)
			x, _ := os.ReadFile(filepath.Join(dir, "xinetd.log"))
			t.Logf("imapd log:\n%s\nxinetd log:\n%s", b, x)
		}
	}()
	// xinetd has bound the port once a connection is accepted.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:10143")
		if err == nil {
			c.Close()
			break
		}
		if i == 200 {
			t.Fatalf("xinetd is not listening: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	pidRe := regexp.MustCompile(`msg="privileges dropped" pid=(\d+) user=` + u.name)
	for i, addr := range []string{"127.0.0.1:10143", "[::1]:10143"} {
		c := dialRaw(t, addr, false)
		c.mustOK(fmt.Sprintf("LOGIN %s %q", u.name, u.password))
		b, _ := os.ReadFile(imapdLog)
		m := pidRe.FindAllStringSubmatch(string(b), -1)
		if len(m) != i+1 {
			t.Fatalf("imapd log has %d privilege drops after %d logins:\n%s", len(m), i+1, b)
		}
		pid, _ := strconv.Atoi(m[i][1])
		uids, gids := procIDs(t, pid)
		want := func(id int) string { s := strconv.Itoa(id); return s + " " + s + " " + s + " " + s }
		if uids != want(u.uid) || gids != want(u.gid) {
			t.Errorf("%s: imapd %d runs as uid %q gid %q after login, want %q %q", addr, pid, uids, gids, want(u.uid), want(u.gid))
		}
		u2 := c.mustOK("SELECT INBOX")
		if !containsLine(u2, "* 2 EXISTS") {
			t.Errorf("%s: SELECT INBOX = %q, want 2 EXISTS", addr, u2)
		}
		if i == 0 {
			c.mustOK("STORE 1 +FLAGS (\\Answered)")
		} else {
			f := c.mustOK("FETCH 1:2 (UID FLAGS)")
			if len(f) != 2 || f[0] != `* 1 FETCH (UID 1 FLAGS (\Answered))` || f[1] != `* 2 FETCH (UID 2 FLAGS ())` {
				t.Errorf("%s: FETCH after the first session's STORE = %q", addr, f)
			}
		}
		c.mustOK("LOGOUT")
	}
	b, _ := os.ReadFile(imapdLog)
	for _, want := range []string{"service init from 127.0.0.1", "service init from ::1", "Login user=" + u.name + " host=::1 [::1]"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("imapd log lacks %q", want)
		}
	}
	if strings.Contains(string(b), "::ffff:") {
		t.Errorf("imapd log shows a mapped address:\n%s", b)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
