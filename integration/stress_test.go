package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/auth/virtual"
)

// The stress test's virtual user (the Maildir run). When the test runs
// as root, the Maildir run's servers and files belong to nobody.
const (
	stressUser     = "stress"
	stressPassword = "stress-secret"
	stressNobody   = 65534
)

// Workers of each kind. Each imapd worker runs one imapd process after
// another, one session each, so processes come and go during the run.
const (
	stressDaemonWorkers = 4
	stressImapdWorkers  = 3
)

// stressDuration is how long the writers run per store: 10 s in CI (with
// the servers' start and the final checks the test stays near a minute),
// POSTERN_STRESS_DURATION (a Go duration) for long runs (scripts/stress.sh).
func stressDuration(t *testing.T) time.Duration {
	v := os.Getenv("POSTERN_STRESS_DURATION")
	if v == "" {
		return 10 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("POSTERN_STRESS_DURATION=%q: %v", v, err)
	}
	return d
}

// raceBinaries builds postern and imapd with the race detector, once,
// beside the binaries TestMain built (removed with them).
var raceBinaries = sync.OnceValues(func() ([2]string, error) {
	dir := filepath.Join(filepath.Dir(posternBin), "race")
	out := [2]string{filepath.Join(dir, "postern"), filepath.Join(dir, "imapd")}
	build := exec.Command("go", "build", "-race", "-o", dir+"/", "./cmd/postern", "./cmd/imapd")
	build.Dir = moduleRoot
	if b, err := build.CombinedOutput(); err != nil {
		return out, fmt.Errorf("go build -race: %v\n%s", err, b)
	}
	return out, os.Chmod(dir, 0o755)
})

// stressEnv is one store's run: its files, programs and ledger.
type stressEnv struct {
	t       *testing.T
	kind    string // "mbox" or "maildir"
	dir     string
	home    string // the user's home: mbox_dir, or the Maildir's parent
	spool   string // mbox: the INBOX spool file
	maildir string // maildir: the user's Maildir
	conf    string
	user    string // the login
	pass    string
	uid     int                 // the mail files' owner
	gid     int                 // and group
	cred    *syscall.Credential // the mail's owner for mailutil, or nil
	srvCred *syscall.Credential // what the servers start as, or nil

	postern, imapd, mailutilBin string
	ledger                      *stressLedger
}

// TestStress runs, for each store in turn, a `postern serve` daemon with
// several IMAP sessions, several imapd processes in inetd mode, an
// outside MDA and (mbox) UW's mailutil on one user's mail at once, the
// servers built with the race detector; then checks that every delivered
// message is there exactly as often as the acknowledged operations say,
// that UIDs were never reused and ascend, that no command got NO or BAD,
// and that UW's tools still read the mbox files (issue 8, item 5).
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers under the race detector for tens of seconds")
	}
	bins, err := raceBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"mbox", "maildir"} {
		t.Run(kind, func(t *testing.T) {
			e := newStressEnv(t, kind, bins)
			e.run(stressDuration(t))
		})
	}
}

func newStressEnv(t *testing.T, kind string, bins [2]string) *stressEnv {
	e := &stressEnv{t: t, kind: kind, dir: t.TempDir(), postern: bins[0], imapd: bins[1],
		ledger: newStressLedger(stressDaemonWorkers + stressImapdWorkers)}
	if kind == "mbox" {
		e.setupSystemAccount()
	} else {
		e.setupVirtualUser()
	}
	for _, d := range []string{e.home, filepath.Join(e.home, "uw")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.chownAll(e.home)
	return e
}

// setupSystemAccount is UW's setting: a system account, INBOX its spool
// file /var/mail/USER (USER:mail 0660), folders in its home; servers
// started as root (the daemon serving each connection in a child process
// that becomes the user, imapd as inetd starts it), and UW's mailutil
// run as the user.
func (e *stressEnv) setupSystemAccount() {
	t := e.t
	e.mailutilBin = needProgram(t, "mailutil")
	u := newSysUser(t, "postern-t-stress")
	u.deliver(t) // an empty spool file, owned as an MTA leaves it
	// yescrypt under the race detector costs seconds per login, most of
	// the run: a cheap SHA512-crypt hash instead (still read from shadow).
	mustRun(t, []byte(u.name+":"+u.password+"\n"), "chpasswd", "-c", "SHA512", "-s", "1000")
	e.user, e.pass, e.uid, e.gid = u.name, u.password, u.uid, u.gid
	e.home, e.spool = u.home, u.spool
	e.cred = &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid)}
	e.writeConf("auth = system\nmail_store = mbox\nmbox_home_inbox = no\n")
}

// setupVirtualUser is the Maildir setting: a virtual user, all mail owned
// by one account (nobody when the test runs as root).
func (e *stressEnv) setupVirtualUser() {
	t := e.t
	e.user, e.pass = stressUser, stressPassword
	e.uid, e.gid = os.Geteuid(), os.Getegid()
	if os.Geteuid() == 0 {
		e.uid, e.gid = stressNobody, stressNobody
		e.srvCred = &syscall.Credential{Uid: stressNobody, Gid: stressNobody}
		e.cred = e.srvCred
		// t.TempDir's directories are 0700: let the mail's owner through.
		for d := e.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
	}
	e.home = filepath.Join(e.dir, "home")
	passwd := filepath.Join(e.dir, "passwd")
	hash, err := virtual.HashPasswordCost(stressPassword, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := virtual.WriteUser(passwd, stressUser, hash, e.home); err != nil {
		t.Fatal(err)
	}
	os.Chown(passwd, e.uid, e.gid)
	e.writeConf(fmt.Sprintf("auth = virtual\npasswd_file = %s\nmail_store = maildir\n", passwd))
}

// writeConf writes the servers' configuration: the given lines, a
// loopback listener, one log file, and no alert or nologin files.
func (e *stressEnv) writeConf(lines string) {
	e.conf = filepath.Join(e.dir, "postern.conf")
	logFile := filepath.Join(e.dir, "postern.log")
	conf := lines + fmt.Sprintf("listen = imap 127.0.0.1:0\nlog_file = %s\nlog_level = info\nalert_file =\nuser_alert_file =\nnologin_file =\n", logFile)
	if err := os.WriteFile(e.conf, []byte(conf), 0o644); err != nil {
		e.t.Fatal(err)
	}
	// Written by root and, after privileges are dropped, by the user.
	if err := os.WriteFile(logFile, nil, 0o666); err != nil {
		e.t.Fatal(err)
	}
	os.Chmod(logFile, 0o666)
}

// chownAll gives the files under dir to the mail's owner.
func (e *stressEnv) chownAll(dir string) {
	if os.Geteuid() != 0 {
		return
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, e.uid, e.gid) })
}

// checkRace records a race report or a panic in a server's standard error.
func (e *stressEnv) checkRace(who, stderr string) {
	if strings.Contains(stderr, "WARNING: DATA RACE") || strings.Contains(stderr, "panic:") {
		e.ledger.problem("%s reported on standard error:\n%s", who, stderr)
	}
}

// startDaemon starts `postern serve` and returns its IMAP address and a
// function that stops it (SIGTERM) and checks its exit and standard error.
func (e *stressEnv) startDaemon() (string, func()) {
	t := e.t
	cmd := exec.Command(e.postern, "serve", "-c", e.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.srvCred}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				e.ledger.problem("postern serve after SIGTERM: %v", err)
			}
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-done
			e.ledger.problem("postern serve did not stop within %v of SIGTERM", stopTimeout)
		}
		e.checkRace("postern serve", stderr.String())
	}
	sc := bufio.NewScanner(out)
	addr := ""
	for addr == "" && sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "listening:" && f[1] == "imap" {
			addr = f[2]
		}
	}
	go io.Copy(io.Discard, out)
	if addr == "" {
		stop()
		t.Fatalf("postern serve printed no listener\nstderr:\n%s\nlog:\n%s", stderr, e.logTail())
	}
	return addr, stop
}

// logTail returns the end of the servers' shared log file.
func (e *stressEnv) logTail() string {
	b := e.log()
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	return b
}

// log returns the servers' shared log file.
func (e *stressEnv) log() string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "postern.log"))
	return string(b)
}

// startImapd starts imapd in inetd mode, as inetd would: an accepted
// loopback TCP socket on its standard input and output. It returns the
// client's end.
func (e *stressEnv) startImapd() (net.Conn, *exec.Cmd, *lockedBuffer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return nil, nil, nil, err
	}
	served, err := l.Accept()
	if err != nil {
		client.Close()
		return nil, nil, nil, err
	}
	f, err := served.(*net.TCPConn).File()
	served.Close()
	if err != nil {
		client.Close()
		return nil, nil, nil, err
	}
	defer f.Close()
	cmd := exec.Command(e.imapd, "-c", e.conf)
	cmd.Stdin, cmd.Stdout = f, f
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.srvCred}
	if err := cmd.Start(); err != nil {
		client.Close()
		return nil, nil, nil, err
	}
	return client, cmd, stderr, nil
}

// imapdSession runs one imapd process through one session of ops
// operations (0: until ctx ends) with worker w.
func (e *stressEnv) imapdSession(ctx context.Context, w *stressWorker, ops int) error {
	conn, cmd, stderr, err := e.startImapd()
	if err != nil {
		return err
	}
	err = w.connect(conn)
	if err == nil {
		err = w.session(ctx, ops)
	}
	conn.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case werr := <-exited:
		if werr != nil && err == nil {
			err = fmt.Errorf("imapd exit: %w", werr)
		}
	case <-time.After(progTimeout): // closing the store may wait for mbox locks
		cmd.Process.Kill()
		<-exited
		if err == nil {
			err = fmt.Errorf("imapd still running %v after LOGOUT", progTimeout)
		}
	}
	e.checkRace(fmt.Sprintf("imapd (%s, pid %d)", w.name, cmd.Process.Pid), stderr.String())
	e.ledger.count("imapd-processes", 1)
	return err
}

// run is one store's stress run and its checks.
func (e *stressEnv) run(d time.Duration) {
	t := e.t
	addr, stop := e.startDaemon()
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	e.prepareMailboxes(addr)

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range stressDaemonWorkers {
		wg.Go(func() {
			w := e.newWorker(i, fmt.Sprintf("daemon-%d", i))
			conn, err := net.DialTimeout("tcp", addr, ioTimeout)
			if err == nil {
				if err = w.connect(conn); err == nil {
					err = w.session(ctx, 0)
				}
			}
			if err != nil {
				e.ledger.problem("%s: %v", w.name, err)
			}
		})
	}
	for i := range stressImapdWorkers {
		wg.Go(func() {
			owner := stressDaemonWorkers + i
			w := e.newWorker(owner, fmt.Sprintf("imapd-%d", i))
			for ctx.Err() == nil {
				if err := e.imapdSession(ctx, w, 4+w.rng.IntN(9)); err != nil {
					e.ledger.problem("%s: %v", w.name, err)
					return
				}
			}
		})
	}
	wg.Go(func() { e.runDeliveries(ctx) })
	if e.kind == "mbox" {
		wg.Go(func() { e.runMailutil(ctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	stopped = true

	// Nothing crashed: a journal replayed or thrown away means one process
	// took another's live rewrite for a crashed one.
	for _, l := range strings.Split(e.log(), "\n") {
		if strings.Contains(l, "interrupted by a crash") || strings.Contains(l, "incomplete journal") {
			e.ledger.problem("no process crashed, yet: %s", l)
		}
	}
	e.finalCheck()
	t.Logf("%s: %v of concurrent work (%v after writers stopped); operations: %s",
		e.kind, d, elapsed.Round(time.Millisecond), e.ledger.report())
	if ps := e.ledger.allProblems(); len(ps) > 0 {
		if len(ps) > 40 {
			ps = append(ps[:40], fmt.Sprintf("... and %d more", len(ps)-40))
		}
		t.Errorf("%d problems:\n%s\nlog tail:\n%s", len(ps), strings.Join(ps, "\n"), e.logTail())
	}
}

// prepareMailboxes creates Archive (a new Maildir account may have it
// already, as a default mailbox).
func (e *stressEnv) prepareMailboxes(addr string) {
	t := e.t
	c := dialIMAP(t, addr, nil)
	if err := c.Login(e.user, e.pass).Wait(); err != nil {
		t.Fatalf("LOGIN: %v\nlog:\n%s", err, e.logTail())
	}
	if err := c.Create("Archive", nil).Wait(); err != nil {
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
			t.Fatalf("CREATE Archive: %v", err)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
	if e.kind == "maildir" {
		e.maildir = filepath.Join(e.home, "Maildir")
		if _, err := os.Stat(filepath.Join(e.maildir, ".Archive")); err != nil {
			t.Fatalf("the user's Maildir is not where expected: %v", err)
		}
	}
}
