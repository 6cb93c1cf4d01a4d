package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/demo"
)

// crashSetup is a daemon configuration for the crash and full-disk tests:
// a Maildir for a virtual user, or UW's mbox layout for a system account
// (which Postern serves only to system accounts, each session in a child
// process running as the user).
type crashSetup struct {
	conf       string // the configuration file
	store      string // the user's store, as postern fsck spells it
	root       string // the directory holding the user's mail
	user, pass string
}

// newCrashSetup writes the configuration for kind "maildir" or "mbox"
// under dir; mailRoot, when set, is where the mail goes (a small tmpfs).
// The mbox kind creates a system account (root needed), its INBOX in
// its home (mbox_inbox = %h/INBOX) so all its mail is under mailRoot.
func newCrashSetup(t *testing.T, dir, kind, mailRoot string) crashSetup {
	t.Helper()
	cfg, err := demo.Setup(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if mailRoot == "" {
		mailRoot = filepath.Join(dir, "mail")
	}
	if err := os.MkdirAll(mailRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	var cs crashSetup
	switch kind {
	case "maildir":
		hash, err := virtual.HashPassword("demo")
		if err != nil {
			t.Fatal(err)
		}
		home := filepath.Join(mailRoot, "demo")
		if err := os.WriteFile(cfg.PasswdFile, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := virtual.WriteUser(cfg.PasswdFile, "demo", hash, home); err != nil {
			t.Fatal(err)
		}
		cs.root = filepath.Join(home, "Maildir")
		cs.store = "maildir:" + cs.root
		cs.user, cs.pass = "demo", "demo"
	case "mbox":
		u := newSysUser(t, fmt.Sprintf("pcrash%d", os.Getpid()%100000))
		home := filepath.Join(mailRoot, u.name)
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(home, u.uid, u.gid); err != nil {
			t.Fatal(err)
		}
		mustRun(t, nil, "usermod", "--home", home, u.name)
		cfg.Auth = config.AuthSystem
		cfg.PasswdFile = ""
		cfg.MailStore = config.StoreMbox
		cfg.MboxDir = "%h"
		cfg.MboxInbox = "%h/INBOX"
		cs.root = home
		cs.store = "mbox:" + home + ",inbox=" + filepath.Join(home, "INBOX")
		cs.user, cs.pass = u.name, u.password
	}
	cfg.DefaultMailboxes = nil
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cs.conf = filepath.Join(dir, "crash.conf")
	if err := os.WriteFile(cs.conf, []byte(cfg.Format()), 0o644); err != nil {
		t.Fatal(err)
	}
	return cs
}

// daemon is one `postern serve -c FILE` process.
type daemon struct {
	addr   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// startDaemon starts the daemon on an ephemeral loopback IMAP port.
func startDaemon(t testing.TB, conf string) *daemon {
	t.Helper()
	d := &daemon{stderr: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(posternBin, "serve", "-c", conf, "--listen", "imap=127.0.0.1:0")
	d.cmd.Stderr = d.stderr
	// Its own process group: a kill takes the per-connection children
	// (system accounts) with the daemon, as a crash of the machine would.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); close(d.done) }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "listening:" && f[1] == "imap" {
				addr <- f[2]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case d.addr = <-addr:
	case <-d.done:
		t.Fatalf("postern serve exited before listening\n%s", d.stderr)
	case <-time.After(startTimeout):
		d.kill()
		t.Fatalf("postern serve printed no listener within %v\n%s", startTimeout, d.stderr)
	}
	t.Cleanup(d.kill)
	return d
}

// kill sends SIGKILL and waits for the process to be gone.
func (d *daemon) kill() {
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}

// stop sends SIGTERM and waits (SIGKILL after stopTimeout).
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(stopTimeout):
		d.kill()
	}
}

// runFsck runs `postern fsck` and returns its output and exit status.
func runFsck(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(posternBin, append([]string{"fsck"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return string(out), 0
	}
	if exitCode(err) < 0 {
		t.Fatalf("postern fsck: %v\n%s", err, out)
	}
	return string(out), exitCode(err)
}

// imapConn is a minimal IMAP client that reports a dead server as an
// error instead of failing the test: the crash test expects it.
type imapConn struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialConn(addr, user, pass string) (*imapConn, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	ic := &imapConn{c: c, r: bufio.NewReader(c)}
	if l, err := ic.line(); err != nil || !strings.HasPrefix(l, "* OK") {
		c.Close()
		return nil, fmt.Errorf("greeting %q: %v", l, err)
	}
	if _, st, err := ic.do("LOGIN " + user + " " + pass); err != nil || !strings.HasPrefix(st, "OK") {
		c.Close()
		return nil, fmt.Errorf("LOGIN: %q %v", st, err)
	}
	return ic, nil
}

func (ic *imapConn) line() (string, error) {
	ic.c.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := ic.r.ReadString('\n')
	return strings.TrimSuffix(l, "\r\n"), err
}

// do sends a command (which may hold LITERAL+ literals) and returns the
// untagged lines and the tagged status without its tag. Responses must
// not hold literals.
func (ic *imapConn) do(cmd string) ([]string, string, error) {
	ic.tag++
	tag := fmt.Sprintf("c%d", ic.tag)
	ic.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(ic.c, tag+" "+cmd+"\r\n"); err != nil {
		return nil, "", err
	}
	var untagged []string
	for {
		l, err := ic.line()
		if err != nil {
			return untagged, "", err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			return untagged, rest, nil
		}
		untagged = append(untagged, l)
	}
}

func (ic *imapConn) close() { ic.c.Close() }

var (
	fetchUIDRe   = regexp.MustCompile(`\bUID (\d+)`)
	fetchFlagsRe = regexp.MustCompile(`\bFLAGS \(([^)]*)\)`)
	crashIDRe    = regexp.MustCompile(`<crash-[0-9a-z.-]+@test>`)
	uidValRe     = regexp.MustCompile(`\[UIDVALIDITY (\d+)\]`)
	uidNextRe    = regexp.MustCompile(`\[UIDNEXT (\d+)\]`)
)

// fetched is one message as a FETCH reported it.
type fetched struct {
	uid     uint32
	id      string
	flagged bool
}

// listMailbox selects a mailbox and fetches every message's UID, flags and
// Message-ID (from ENVELOPE, so no literal comes back).
func (ic *imapConn) listMailbox(name string) (uidValidity, uidNext uint32, msgs []fetched, err error) {
	u, st, err := ic.do("SELECT " + name)
	if err != nil || !strings.HasPrefix(st, "OK") {
		return 0, 0, nil, fmt.Errorf("SELECT %s: %q %v", name, st, err)
	}
	for _, l := range u {
		if m := uidValRe.FindStringSubmatch(l); m != nil {
			fmt.Sscan(m[1], &uidValidity)
		}
		if m := uidNextRe.FindStringSubmatch(l); m != nil {
			fmt.Sscan(m[1], &uidNext)
		}
	}
	u, st, err = ic.do("UID FETCH 1:* (UID FLAGS ENVELOPE)")
	if err != nil || !strings.HasPrefix(st, "OK") {
		return 0, 0, nil, fmt.Errorf("FETCH %s: %q %v", name, st, err)
	}
	for _, l := range u {
		if !strings.Contains(l, " FETCH ") {
			continue
		}
		m := fetchUIDRe.FindStringSubmatch(l)
		fl := fetchFlagsRe.FindStringSubmatch(l)
		id := crashIDRe.FindString(l)
		if m == nil || fl == nil {
			return 0, 0, nil, fmt.Errorf("FETCH line without UID or FLAGS: %q", l)
		}
		var f fetched
		fmt.Sscan(m[1], &f.uid)
		f.id = id
		f.flagged = strings.Contains(fl[1], `\Flagged`)
		msgs = append(msgs, f)
	}
	return uidValidity, uidNext, msgs, nil
}
