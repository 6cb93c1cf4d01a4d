package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests pass sockets the way systemd does (sd_listen_fds(3)):
// descriptors from fd 3 on, LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID set
// to the child's own pid by a shell that then execs the server; readiness
// comes back as datagrams on NOTIFY_SOCKET (sd_notify(3)). Then they run
// Debian's systemd-socket-activate, which does the same for real.

// activateShell sets LISTEN_PID to the pid the server will have: exec keeps
// the shell's pid. $0 and $@ are the server's argv.
const activateShell = `LISTEN_PID=$$ exec "$0" "$@"`

// sdEnv is our environment without activation variables someone may
// have run the tests with.
func sdEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET":
		default:
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// notifySocket is the service manager's end of NOTIFY_SOCKET: name is a
// path or an @abstract name.
type notifySocket struct {
	t    *testing.T
	name string
	conn *net.UnixConn
}

func newNotifySocket(t *testing.T, name string) *notifySocket {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifySocket{t: t, name: name, conn: c}
}

// next returns the next notification. The deadline only turns a hang into
// a failure.
func (n *notifySocket) next() string {
	n.t.Helper()
	n.conn.SetReadDeadline(time.Now().Add(startTimeout))
	buf := make([]byte, 4096)
	k, _, err := n.conn.ReadFromUnix(buf)
	if err != nil {
		n.t.Fatalf("no notification on NOTIFY_SOCKET: %v", err)
	}
	return string(buf[:k])
}

// activatedServer is a server process started with systemd's protocol.
type activatedServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout chan string // lines
	stderr *lockedBuffer
	errors chan string // lines of stderr, also kept in stderr
	exited chan error
}

// startActivated starts argv with env and the extra files as fds 3...;
// the test's copies of the files are closed once the child has them. The
// process is killed if the test ends with it still running.
func startActivated(t *testing.T, argv, env []string, files []*os.File) *activatedServer {
	t.Helper()
	s := &activatedServer{t: t, stdout: make(chan string, 100), stderr: &lockedBuffer{}, errors: make(chan string, 100), exited: make(chan error, 1)}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Env = env
	s.cmd.ExtraFiles = files
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	// pump passes lines on without ever blocking the server.
	pump := func(r io.Reader, lines chan string, keep io.Writer, done chan struct{}) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if keep != nil {
				fmt.Fprintln(keep, sc.Text())
			}
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, r)
		close(done)
	}
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go pump(out, s.stdout, nil, outDone)
	go pump(errOut, s.errors, s.stderr, errDone)
	go func() {
		<-outDone
		<-errDone
		s.exited <- s.cmd.Wait()
	}()
	name := argv[0]
	if i := slices.Index(argv, activateShell); i >= 0 && i+1 < len(argv) {
		name = argv[i+1] // the server, not the shell that execs it
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(name), s.stderr)
		}
	})
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *activatedServer) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("no exit within %v of SIGTERM", stopTimeout)
	}
}

// listening collects postern's "listening: SERVICE ADDR" lines up to the
// demo help that follows them.
func (s *activatedServer) listening() []string {
	s.t.Helper()
	var got []string
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		select {
		case line := <-s.stdout:
			if rest, ok := strings.CutPrefix(line, "listening: "); ok {
				got = append(got, rest)
			}
			if strings.HasPrefix(line, "Log in as user") {
				return got
			}
		case <-deadline.C:
			s.t.Fatalf("postern printed no demo help within %v (listening: %q)", startTimeout, got)
		}
	}
}

// sdListenerFile opens a listening TCP socket on addr ("127.0.0.1:0",
// "[::1]:0") and returns its address and a descriptor to pass on.
func sdListenerFile(t *testing.T, network, addr string) (string, *os.File) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // the child gets its own descriptor of the socket
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr().String(), f
}

// sdFetchSubject logs in on an established IMAP connection (greeting not
// yet read), selects INBOX and returns message 1's Subject line.
func sdFetchSubject(t *testing.T, conn net.Conn) string {
	t.Helper()
	c := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	if g := c.readLine(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting = %q, want * OK ...", g)
	}
	c.mustOK("LOGIN demo demo")
	c.mustOK("SELECT INBOX")
	_ = conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(conn, "f FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])\r\n"); err != nil {
		t.Fatal(err)
	}
	var subject string
	for {
		l := c.readLine()
		if strings.HasPrefix(l, "Subject:") {
			subject = l
		}
		if strings.HasPrefix(l, "f ") {
			if !strings.HasPrefix(l, "f OK") {
				t.Fatalf("FETCH = %q, want OK", l)
			}
			return subject
		}
	}
}

func sdDialTLS(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the demo's self-signed certificate
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sdDialPlain(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

const wantSubject = "Subject: Welcome to Postern"

// TestSystemdListenFDs is Accept=no (postern.socket + postern.service):
// three listening sockets, named imap, imaps and (missing) unknown; the
// unnamed one is imap by its port. --listen is given and must be ignored.
func TestSystemdListenFDs(t *testing.T) {
	imapAddr, imapFile := sdListenerFile(t, "tcp4", "127.0.0.1:0")
	imapsAddr, imapsFile := sdListenerFile(t, "tcp6", "[::1]:0")
	otherAddr, otherFile := sdListenerFile(t, "tcp4", "127.0.0.1:0")
	notify := newNotifySocket(t, filepath.Join(t.TempDir(), "notify"))

	s := startActivated(t,
		[]string{"/bin/sh", "-c", activateShell, posternBin, "serve", "--demo", "--data", t.TempDir(), "--listen", "imap=127.0.0.1:0"},
		sdEnv("LISTEN_FDS=3", "LISTEN_FDNAMES=imap:imaps", "NOTIFY_SOCKET="+notify.name),
		[]*os.File{imapFile, imapsFile, otherFile})

	wantStatus := fmt.Sprintf("READY=1\nSTATUS=serving imap %s, imaps %s, imap %s", imapAddr, imapsAddr, otherAddr)
	if got := notify.next(); got != wantStatus {
		t.Fatalf("first notification = %q, want %q", got, wantStatus)
	}
	want := []string{"imap " + imapAddr, "imaps " + imapsAddr, "imap " + otherAddr}
	if got := s.listening(); !slices.Equal(got, want) {
		t.Errorf("listening lines = %q, want %q (the passed sockets, not --listen)", got, want)
	}
	for _, logged := range []string{
		`msg=listening service=imap addr=` + imapAddr + ` systemd="fd 3 (imap)"`,
		`msg=listening service=imaps addr=` + imapsAddr + ` systemd="fd 4 (imaps)"`,
		`msg=listening service=imap addr=` + otherAddr + ` systemd="fd 5 (unknown)"`,
		`configured listeners ignored" ignored="imap=127.0.0.1:0"`,
	} {
		if !strings.Contains(s.stderr.String(), logged) {
			t.Errorf("log lacks %q", logged)
		}
	}

	if got := sdFetchSubject(t, sdDialPlain(t, imapAddr)); got != wantSubject {
		t.Errorf("imap %s: FETCH subject = %q, want %q", imapAddr, got, wantSubject)
	}
	if got := sdFetchSubject(t, sdDialTLS(t, imapsAddr)); got != wantSubject {
		t.Errorf("imaps %s: FETCH subject = %q, want %q", imapsAddr, got, wantSubject)
	}
	if got := sdFetchSubject(t, sdDialPlain(t, otherAddr)); got != wantSubject {
		t.Errorf("imap %s: FETCH subject = %q, want %q", otherAddr, got, wantSubject)
	}

	// SIGHUP: RELOADING=1 with the monotonic clock, then READY=1.
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got := notify.next()
	us, ok := strings.CutPrefix(got, "RELOADING=1\nMONOTONIC_USEC=")
	if _, err := strconv.ParseUint(us, 10, 64); !ok || err != nil {
		t.Errorf("notification after SIGHUP = %q, want RELOADING=1\\nMONOTONIC_USEC=N", got)
	}
	if got, want := notify.next(), "READY=1\nSTATUS=certificates reloaded"; got != want {
		t.Errorf("notification after reload = %q, want %q", got, want)
	}

	s.stop()
	if got := notify.next(); got != "STOPPING=1" {
		t.Errorf("notification after SIGTERM = %q, want %q", got, "STOPPING=1")
	}
}

// TestSystemdListenFDsErrors: a socket postern cannot serve is refused
// with its fd named, and nothing is served.
func TestSystemdListenFDsErrors(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	_, imapFile := sdListenerFile(t, "tcp4", "127.0.0.1:0")
	s := startActivated(t,
		[]string{"/bin/sh", "-c", activateShell, posternBin, "serve", "--demo", "--data", t.TempDir()},
		sdEnv("LISTEN_FDS=2", "LISTEN_FDNAMES=imap:imaps"),
		[]*os.File{imapFile, pr})
	select {
	case err := <-s.exited:
		if exitCode(err) != 1 {
			t.Errorf("exit = %v, want status 1", err)
		}
	case <-time.After(startTimeout):
		t.Fatal("postern kept running with a pipe as a listening socket")
	}
	if want := "fd 4 (imaps): not a socket"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("error output lacks %q:\n%s", want, s.stderr)
	}
}

// sdAcceptedFile accepts one connection on a fresh listener and returns the
// client end and the server end's descriptor, to pass as fd 3 the way
// systemd does for Accept=yes.
func sdAcceptedFile(t *testing.T, network, addr string) (net.Conn, *os.File) {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.DialTimeout("tcp", l.Addr().String(), ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	served, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	f, err := served.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	return client, f
}

// TestSystemdAcceptYes is imapd.socket with Accept=yes: one connected
// socket on fd 3, LISTEN_FDS=1, standard input /dev/null. With -tls the
// connection is implicit TLS, as imaps@.service runs it.
func TestSystemdAcceptYes(t *testing.T) {
	conf := demoConfig(t)
	for _, tt := range []struct {
		name, network, addr string
		tls                 bool
	}{
		{"127.0.0.1", "tcp4", "127.0.0.1:0", false},
		{"::1", "tcp6", "[::1]:0", false},
		{"::1 -tls", "tcp6", "[::1]:0", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client, f := sdAcceptedFile(t, tt.network, tt.addr)
			argv := []string{"/bin/sh", "-c", activateShell, imapdBin, "-c", conf}
			if tt.tls {
				argv = append(argv, "-tls")
			}
			s := startActivated(t, argv, sdEnv("LISTEN_FDS=1", "LISTEN_FDNAMES=connection"), []*os.File{f})
			if tt.tls {
				tc := tls.Client(client, &tls.Config{InsecureSkipVerify: true}) // the demo's self-signed certificate
				client = tc
			}
			client.SetDeadline(time.Now().Add(ioTimeout))
			if _, err := io.WriteString(client, imapdSession); err != nil {
				t.Fatal(err)
			}
			checkImapdTranscript(t, sdReadUntil(client, "d OK"))
			select {
			case err := <-s.exited:
				if err != nil {
					t.Errorf("imapd exit: %v", err)
				}
			case <-time.After(stopTimeout):
				t.Errorf("imapd still running %v after LOGOUT", stopTimeout)
			}
		})
	}
}

// sdReadUntil reads lines until one starts with prefix, or the connection
// ends or times out, and returns all it read.
func sdReadUntil(c net.Conn, prefix string) string {
	var b strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil || strings.HasPrefix(line, prefix) {
			return b.String()
		}
	}
}

// freePort returns a loopback port nobody listened on a moment ago, for
// programs that cannot bind port 0 and report it (systemd-socket-activate
// refuses port 0). Callers retry when another process took it meanwhile.
func freePort(t *testing.T, network, addr string) int {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// bindAttempts bounds the retries when a port from freePort was taken
// between our probe and systemd-socket-activate's bind.
const bindAttempts = 5

// errPortTaken is what systemd-socket-activate prints when its bind fails.
const errPortTaken = "Address already in use"

// TestSystemdSocketActivate runs postern under Debian's
// systemd-socket-activate (systemd's own implementation of the protocol):
// Accept=no with two named sockets, readiness over an abstract
// NOTIFY_SOCKET, logins on both, STOPPING=1 on SIGTERM.
func TestSystemdSocketActivate(t *testing.T) {
	ssa := needProgram(t, "systemd-socket-activate")
	for attempt := 1; ; attempt++ {
		imapAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "tcp4", "127.0.0.1:0")))
		imapsAddr := net.JoinHostPort("::1", strconv.Itoa(freePort(t, "tcp6", "[::1]:0")))
		notify := newNotifySocket(t, fmt.Sprintf("@postern-integration-%d-%d", os.Getpid(), attempt))
		// The program passes only -E variables (and TERM, PATH, USER,
		// HOME) to its child.
		s := startActivated(t, []string{ssa, "-l", imapAddr, "-l", imapsAddr, "--fdname=imap:imaps",
			"-E", "NOTIFY_SOCKET=" + notify.name,
			posternBin, "serve", "--demo", "--data", t.TempDir()}, sdEnv(), nil)
		if !sdWaitListening(t, s, attempt, 2) {
			continue
		}
		// Without --accept the program starts the server on the first
		// connection, by exec: the signals below reach postern itself.
		plain := sdDialPlain(t, imapAddr)
		want := fmt.Sprintf("READY=1\nSTATUS=serving imap %s, imaps %s", imapAddr, imapsAddr)
		if got := notify.next(); got != want {
			t.Fatalf("first notification = %q, want %q", got, want)
		}
		if got := sdFetchSubject(t, plain); got != wantSubject {
			t.Errorf("imap %s: FETCH subject = %q, want %q", imapAddr, got, wantSubject)
		}
		if got := sdFetchSubject(t, sdDialTLS(t, imapsAddr)); got != wantSubject {
			t.Errorf("imaps %s: FETCH subject = %q, want %q", imapsAddr, got, wantSubject)
		}
		s.stop()
		if got := notify.next(); got != "STOPPING=1" {
			t.Errorf("notification after SIGTERM = %q, want %q", got, "STOPPING=1")
		}
		return
	}
}

// TestSystemdSocketActivateAccept runs imapd under systemd-socket-activate
// --accept, one imapd per connection: with the connection as fd 3
// (imapd@.service) and, with --inetd, on standard input and output
// (StandardInput=socket).
func TestSystemdSocketActivateAccept(t *testing.T) {
	ssa := needProgram(t, "systemd-socket-activate")
	conf := demoConfig(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"fd3", []string{"--accept"}},
		{"inetd", []string{"--accept", "--inetd"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for attempt := 1; ; attempt++ {
				addr := net.JoinHostPort("::1", strconv.Itoa(freePort(t, "tcp6", "[::1]:0")))
				argv := append([]string{ssa, "-l", addr}, tt.args...)
				s := startActivated(t, append(argv, imapdBin, "-c", conf), sdEnv(), nil)
				if !sdWaitListening(t, s, attempt, 1) {
					continue
				}
				// Two connections: each gets its own imapd.
				for range 2 {
					c := sdDialPlain(t, addr)
					c.SetDeadline(time.Now().Add(ioTimeout))
					if _, err := io.WriteString(c, imapdSession); err != nil {
						t.Fatal(err)
					}
					checkImapdTranscript(t, sdReadUntil(c, "d OK"))
				}
				_ = s.cmd.Process.Signal(syscall.SIGTERM)
				return
			}
		})
	}
}

// sdWaitListening waits for n of systemd-socket-activate's "Listening on"
// lines. It returns false when a port was taken and the caller should
// retry.
func sdWaitListening(t *testing.T, s *activatedServer, attempt, n int) bool {
	t.Helper()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		select {
		case line := <-s.errors:
			if strings.HasPrefix(line, "Listening on ") {
				if n--; n == 0 {
					return true
				}
			}
		case err := <-s.exited:
			if strings.Contains(s.stderr.String(), errPortTaken) && attempt < bindAttempts {
				t.Logf("attempt %d: the port was taken meanwhile; retrying", attempt)
				return false
			}
			t.Fatalf("systemd-socket-activate exited before listening: %v", err)
		case <-deadline.C:
			t.Fatalf("systemd-socket-activate did not listen within %v", startTimeout)
		}
	}
}
