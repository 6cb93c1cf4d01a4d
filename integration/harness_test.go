package integration

import (
	"bufio"
	"bytes"
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
)

// Bounds on every wait of the harness. None of them is an assertion of
// speed: they only turn a hang into a failure.
const (
	startTimeout = 30 * time.Second // postern printing its listeners
	stopTimeout  = 10 * time.Second // postern exiting after SIGTERM
	ioTimeout    = 10 * time.Second // one client exchange
	progTimeout  = 60 * time.Second // one external client program
)

// posternBin is the binary TestMain builds; demoMessages are the INBOX
// messages of the demo, in UID order.
var (
	posternBin   string
	imapdBin     string
	ipop3dBin    string
	moduleRoot   string
	demoMessages [][]byte
)

// envBinDir names the directory of the binaries TestMain built, for the
// tests' child processes.
const envBinDir = "POSTERN_INTEGRATION_BINS"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: go env GOMOD:", err)
		return 1
	}
	moduleRoot = filepath.Dir(strings.TrimSpace(string(gomod)))
	// A test re-run inside a network namespace (internal/netns) inherits
	// the environment and uses the binaries its parent built.
	if dir := os.Getenv(envBinDir); dir != "" {
		posternBin, imapdBin, ipop3dBin = filepath.Join(dir, "postern"), filepath.Join(dir, "imapd"), filepath.Join(dir, "ipop3d")
	} else {
		dir, err := os.MkdirTemp("", "postern-integration-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		// Tests run the binaries as other users too (pipe mode as nobody).
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		for _, b := range []struct {
			bin *string
			pkg string
		}{{&posternBin, "postern"}, {&imapdBin, "imapd"}, {&ipop3dBin, "ipop3d"}} {
			*b.bin = filepath.Join(dir, b.pkg)
			build := exec.Command("go", "build", "-o", *b.bin, "./cmd/"+b.pkg)
			build.Dir = moduleRoot
			if out, err := build.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "integration: go build ./cmd/%s: %v\n%s", b.pkg, err, out)
				return 1
			}
		}
		os.Setenv(envBinDir, dir)
	}
	files, err := filepath.Glob(filepath.Join(moduleRoot, "internal", "demo", "messages", "*.eml"))
	if err != nil || len(files) != 5 {
		fmt.Fprintf(os.Stderr, "integration: demo messages: %v (%d files, want 5)\n", err, len(files))
		return 1
	}
	for _, f := range files { // Glob sorts, as the demo does
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		demoMessages = append(demoMessages, b)
	}
	return m.Run()
}

// server is one running `postern serve --demo`.
type server struct {
	IMAP  string // 127.0.0.1:port, plain with STARTTLS
	IMAP6 string // [::1]:port, plain with STARTTLS
	IMAPS string // 127.0.0.1:port, implicit TLS
	POP3  string // 127.0.0.1:port, plain POP3 with STLS
	POP36 string // [::1]:port, plain POP3 with STLS
	POP3S string // 127.0.0.1:port, POP3 over implicit TLS
	Data  string // the demo data directory

	stderr *lockedBuffer
	proc   *os.Process
	once   sync.Once
	exited chan error // receives cmd.Wait's result once
	err    error      // cmd.Wait's result, after stop
}

// stop sends SIGTERM and waits for the server to exit (killing it after
// stopTimeout); it returns the exit error. Calling it again returns the
// same result.
func (s *server) stop(t testing.TB) error {
	t.Helper()
	s.once.Do(func() {
		_ = s.proc.Signal(syscall.SIGTERM)
		select {
		case s.err = <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.proc.Kill()
			<-s.exited
			s.err = fmt.Errorf("postern did not exit within %v of SIGTERM", stopTimeout)
		}
	})
	return s.err
}

// lockedBuffer collects the server's log while the process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer starts a fresh demo server on ephemeral loopback ports and
// stops it when the test ends. Its log is shown if the test failed.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerIn(t, t.TempDir())
}

// startServerIn is startServer with the demo data in dir: a new demo when
// dir is empty, the one already there otherwise.
func startServerIn(t testing.TB, dir string) *server {
	t.Helper()
	s := &server{Data: dir, stderr: &lockedBuffer{}}
	cmd := exec.Command(posternBin, "serve", "--demo", "--data", s.Data,
		"--listen", "imap=127.0.0.1:0", "--listen", "imap=[::1]:0", "--listen", "imaps=127.0.0.1:0",
		"--listen", "pop3=127.0.0.1:0", "--listen", "pop3=[::1]:0", "--listen", "pop3s=127.0.0.1:0")
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.proc, s.exited = cmd.Process, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := s.stop(t); err != nil && !t.Failed() {
			t.Errorf("postern exited after SIGTERM: %v\nlog:\n%s", err, s.stderr)
		}
		if t.Failed() {
			t.Logf("postern log:\n%s", s.stderr)
		}
	})

	// Read the listener lines; keep draining stdout afterwards so the
	// server never blocks on a full pipe.
	type bound struct{ svc, addr string }
	lines := make(chan bound)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "listening:" {
				lines <- bound{f[1], f[2]}
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for s.IMAP == "" || s.IMAP6 == "" || s.IMAPS == "" || s.POP3 == "" || s.POP36 == "" || s.POP3S == "" {
		select {
		case b, ok := <-lines:
			if !ok {
				t.Fatalf("postern stopped before listening (got imap=%q imap6=%q imaps=%q)\nlog:\n%s", s.IMAP, s.IMAP6, s.IMAPS, s.stderr)
			}
			switch {
			case b.svc == "imap" && strings.HasPrefix(b.addr, "127.0.0.1:"):
				s.IMAP = b.addr
			case b.svc == "imap" && strings.HasPrefix(b.addr, "[::1]:"):
				s.IMAP6 = b.addr
			case b.svc == "imaps" && strings.HasPrefix(b.addr, "127.0.0.1:"):
				s.IMAPS = b.addr
			case b.svc == "pop3" && strings.HasPrefix(b.addr, "127.0.0.1:"):
				s.POP3 = b.addr
			case b.svc == "pop3" && strings.HasPrefix(b.addr, "[::1]:"):
				s.POP36 = b.addr
			case b.svc == "pop3s" && strings.HasPrefix(b.addr, "127.0.0.1:"):
				s.POP3S = b.addr
			default:
				t.Fatalf("unexpected listener %s %s", b.svc, b.addr)
			}
		case <-deadline.C:
			t.Fatalf("postern printed no listeners within %v\nlog:\n%s", startTimeout, s.stderr)
		}
	}
	// The lines channel is unbuffered: drain whatever else comes.
	go func() {
		for range lines {
		}
	}()
	return s
}

// needProgram returns the path of an external client program. A missing
// program fails the test unless POSTERN_SKIP_PROGRAMS=1 opts out.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
		t.Skipf("%s not found and POSTERN_SKIP_PROGRAMS=1: %v", name, err)
	}
	t.Fatalf("%s is needed by this test (install it, or set POSTERN_SKIP_PROGRAMS=1 to skip): %v", name, err)
	return ""
}

// runProgram runs an external client with a bounded time and returns its
// standard output; a non-zero exit fails the test with both outputs.
func runProgram(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, errOut, err := runProgramErr(t, stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runProgramErr runs an external client with a bounded time and returns
// its outputs and exit error.
func runProgramErr(t *testing.T, stdin []byte, name string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (killed after %v)", err, progTimeout)
	}
	return o.Bytes(), e.Bytes(), err
}

// rawConn is a line-level IMAP client for the commands imapclient lacks
// (LSUB, CHECK) and for checking exact response lines.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	tag  int
}

// dialRaw connects, reads the greeting and, if login is set, logs in.
func dialRaw(t *testing.T, addr string, login bool) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	if g := c.readLine(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting = %q, want * OK ...", g)
	}
	if login {
		c.mustOK("LOGIN demo demo")
	}
	return c
}

func (c *rawConn) readLine() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading response: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// cmd sends one command line and returns the untagged lines and the
// tagged status line (without its tag). Literals are not handled: use it
// for commands whose answers have none.
func (c *rawConn) cmd(line string) (untagged []string, status string) {
	c.t.Helper()
	c.tag++
	tag := fmt.Sprintf("r%d", c.tag)
	_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, tag+" "+line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
	for {
		l := c.readLine()
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			return untagged, rest
		}
		untagged = append(untagged, l)
	}
}

// mustOK runs cmd and fails the test unless the answer is OK.
func (c *rawConn) mustOK(line string) []string {
	c.t.Helper()
	u, st := c.cmd(line)
	if !strings.HasPrefix(st, "OK") {
		c.t.Fatalf("%s = %q, want OK (untagged %q)", line, st, u)
	}
	return u
}

// exitCode returns a program's exit status, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
