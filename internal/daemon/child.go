package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
)

// Per-connection processes (DESIGN.md §2). With system accounts, a daemon
// running as root serves each connection in a child process: it
// re-executes its own binary, the connection on fd 0 and 1, so that after
// login the child drops to the user (beforeOpen) and one user's session
// can never read another's mail. The parent keeps what spans connections:
// the connection caps (checked before the child starts) and the login
// delay per client address, which the child reports to it.
//
// The child's inheritance:
//
//	fd 0, 1   the client's TCP connection
//	fd 2      the daemon's standard error (its log, unless log_file is set)
//	fd 3      the daemon's configuration, in the file format, read to EOF
//	fd 4      a pipe for login results: a line "F" per failure, "S" per success
//	$POSTERN_CHILD_SERVICE         imap or imaps (implicit TLS)
//	$POSTERN_CHILD_LOGIN_FAILURES  the client address's recent failures
const (
	envChildService  = "POSTERN_CHILD_SERVICE"
	envChildFailures = "POSTERN_CHILD_LOGIN_FAILURES"
	// envChildGlobal is "1" when the daemon's global failed-login bucket
	// (login_failure_rate) was empty as the child started.
	envChildGlobal = "POSTERN_CHILD_LOGIN_GLOBAL_EXCEEDED"
)

// RunChildIfRequested serves the connection and exits when this process is
// a daemon's per-connection child; otherwise it returns at once. Programs
// that run a Daemon (postern, imapd) call it first thing in main.
func RunChildIfRequested() {
	svc := os.Getenv(envChildService)
	if svc == "" {
		return
	}
	os.Exit(runChild(svc))
}

// runChild is the child's whole life; it returns the exit status.
func runChild(svc string) int {
	failures, _ := strconv.Atoi(os.Getenv(envChildFailures))
	globalExceeded := os.Getenv(envChildGlobal) == "1"
	os.Unsetenv(envChildService)
	os.Unsetenv(envChildFailures)
	os.Unsetenv(envChildGlobal)
	cfgFile, reports := os.NewFile(3, "configuration"), os.NewFile(4, "login results")
	cfg, err := config.Parse(cfgFile, "the daemon's configuration")
	cfgFile.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postern child:", err)
		return 1
	}
	var log *slog.Logger
	if cfg.LogFile != "" {
		log, err = NewFileLogger(cfg.LogFile, cfg.LogLevel)
	} else {
		log, err = NewLogger(os.Stderr, cfg.LogLevel)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "postern child:", err)
		return 1
	}
	log = log.With("pid", os.Getpid())
	peer := netip.Addr{}
	if c, ok := stdinSocket(); ok {
		peer = PeerAddrOf(c)
		c.Close()
	}
	// The failures the daemon knows of are replayed into this process's
	// throttle first, so the delay goes on rising across connections;
	// only this connection's own results are reported back.
	var mu sync.Mutex
	seeding := true
	// The global bucket is the daemon's: this process only knows whether
	// it was empty at start (then Drain below). Its own bucket is made
	// big enough that replaying the address's failures cannot empty it.
	seeded := min(failures, 64)
	th := auth.NewThrottle(auth.ThrottleOptions{Min: cfg.LoginDelay, Max: cfg.LoginDelayMax, GlobalRate: cfg.LoginFailureRate, GlobalBurst: cfg.LoginFailureBurst + seeded, Report: func(_ netip.Addr, failed bool) {
		mu.Lock()
		defer mu.Unlock()
		if seeding {
			return
		}
		line := "S\n"
		if failed {
			line = "F\n"
		}
		io.WriteString(reports, line)
	}})
	for range seeded {
		th.Failed(peer)
	}
	if globalExceeded {
		th.Drain()
	}
	mu.Lock()
	seeding = false
	mu.Unlock()

	cfg.Listeners = nil // the connection is handed over; nothing to bind
	d, err := newWith(cfg, log, th)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	service, err := config.ParseService(svc)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	implicit := service.ImplicitTLS()
	plain := config.ServiceIMAP
	if service.POP3() {
		plain = config.ServicePOP3
	}
	if err := d.ServeInetd(context.Background(), InetdOptions{Service: plain, TLS: &implicit}); err != nil {
		log.Error("serving connection", "err", err)
		return 1
	}
	return 0
}

// PeerAddrOf is the unmapped client address of c (DESIGN.md §2), or the
// zero address for a connection that is not IP.
func PeerAddrOf(c net.Conn) netip.Addr { return peerAddr(c) }

// childSet tracks the running children of a daemon, to stop them on
// shutdown.
type childSet struct {
	exe string // this program, re-executed for each connection

	mu    sync.Mutex
	procs map[*os.Process]struct{} // guarded by mu
	wg    sync.WaitGroup
}

// useChildren reports whether connections are served in child processes:
// system accounts, and the daemon running as root (so a child can become
// the user). With virtual users every session runs in the daemon.
func (d *Daemon) useChildren() bool {
	return d.cfg.SystemAccounts() && os.Geteuid() == 0
}

// startChildren prepares per-connection processes.
func (d *Daemon) startChildren() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("daemon: finding this program to serve connections in child processes: %w", err)
	}
	d.children = &childSet{exe: exe, procs: map[*os.Process]struct{}{}}
	d.log.Info("system accounts: each connection is served by its own process, running as the user after login")
	return nil
}

// serveChildren accepts on l (already under the connection caps) and hands
// each connection to a child process.
func (d *Daemon) serveChildren(l net.Listener, svc config.Service) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		d.children.wg.Add(1)
		go func() {
			defer d.children.wg.Done()
			d.spawn(c, svc)
		}()
	}
}

// spawn runs one child for c and waits for it. c is closed (and its slot
// under the caps released) only when the child is done.
func (d *Daemon) spawn(c net.Conn, svc config.Service) {
	defer c.Close()
	addr := peerAddr(c)
	log := d.log.With("remote", addr.String(), "service", string(svc))
	fail := func(what string, err error) {
		log.Error("cannot start the process for a connection: "+what, "err", err)
		refuse(c, svc, "Service unavailable; the administrator has been told")
	}
	tcp, ok := unwrapTCP(c)
	if !ok {
		fail("not a TCP connection", fmt.Errorf("%T", c))
		return
	}
	conn, err := tcp.File()
	if err != nil {
		fail("duplicating the socket", err)
		return
	}
	defer conn.Close()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		fail("configuration pipe", err)
		return
	}
	defer cfgR.Close()
	repR, repW, err := os.Pipe()
	if err != nil {
		cfgW.Close()
		fail("results pipe", err)
		return
	}
	defer repR.Close()
	cmd := exec.Command(d.children.exe)
	cmd.Env = append(childEnviron(), envChildService+"="+string(svc), envChildFailures+"="+strconv.Itoa(d.throttle.Failures(addr)))
	if d.throttle.GlobalExceeded() {
		cmd.Env = append(cmd.Env, envChildGlobal+"=1")
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = conn, conn, os.Stderr
	cmd.ExtraFiles = []*os.File{cfgR, repW}
	err = cmd.Start()
	repW.Close()
	if err != nil {
		cfgW.Close()
		fail("exec "+d.children.exe, err)
		return
	}
	conn.Close()
	cfgR.Close()
	d.children.add(cmd.Process)
	defer d.children.remove(cmd.Process)
	go func() {
		io.WriteString(cfgW, d.cfg.Format())
		cfgW.Close()
	}()
	log.Debug("connection handed to a child process", "pid", cmd.Process.Pid)
	// Login results, until the child exits and the pipe closes. The
	// address is the parent's view of the peer, not anything the child says.
	sc := bufio.NewScanner(repR)
	for sc.Scan() {
		switch sc.Text() {
		case "F":
			d.throttle.Failed(addr)
		case "S":
			d.throttle.Succeeded(addr)
		}
	}
	if err := cmd.Wait(); err != nil {
		log.Warn("connection process ended with an error", "pid", cmd.Process.Pid, "err", err)
	}
}

// unwrapTCP finds the *net.TCPConn under the daemon's wrappers.
func unwrapTCP(c net.Conn) (*net.TCPConn, bool) {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			return v, true
		case *limitedConn:
			c = v.Conn
		default:
			return nil, false
		}
	}
}

// childEnviron is this process's environment without what belongs to it
// alone: systemd's socket-activation and notification variables.
func childEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", envChildService, envChildFailures, envChildGlobal:
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (s *childSet) add(p *os.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[p] = struct{}{}
}

func (s *childSet) remove(p *os.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.procs, p)
}

// stop asks every child to end (SIGTERM: each says BYE to its client, as
// the daemon does to its own), waits up to grace, then kills the rest.
func (s *childSet) stop(grace time.Duration) {
	s.signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		s.signal(syscall.SIGKILL)
		<-done
	}
}

func (s *childSet) signal(sig os.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.procs {
		p.Signal(sig)
	}
}
