package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// mainEnv makes the test binary run main() instead of the tests, so a test
// can start `postern` as a subprocess and signal it.
const mainEnv = "POSTERN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// idleServer is an IMAP server just good enough for `postern bench
// --profile idle`: it answers the setup, then IDLE; once every client is
// idling it answers nothing more (not DONE, not LOGOUT), as a server too
// loaded to log 10,000 clients out in time would. stuck is closed then.
type idleServer struct {
	ln      net.Listener
	clients int
	stuck   chan struct{}

	mu    sync.Mutex
	idles int // guarded by mu
}

func startIdleServer(t *testing.T, clients int) *idleServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &idleServer{ln: ln, clients: clients, stuck: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

func (s *idleServer) isStuck() bool {
	select {
	case <-s.stuck:
		return true
	default:
		return false
	}
}

func (s *idleServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 IDLE] idle test server\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil || s.isStuck() {
			io.Copy(io.Discard, r) // answer nothing until the client closes
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch verb, _, _ := strings.Cut(strings.ToUpper(cmd), " "); verb {
		case "SELECT":
			fmt.Fprintf(c, "* 1 EXISTS\r\n%s OK [READ-WRITE] done\r\n", tag)
		case "UID":
			fmt.Fprintf(c, "* SEARCH 1\r\n%s OK done\r\n", tag)
		case "LIST":
			fmt.Fprintf(c, "* LIST () \"/\" INBOX\r\n%s OK done\r\n", tag)
		case "LOGOUT":
			fmt.Fprintf(c, "* BYE bye\r\n%s OK done\r\n", tag)
			return
		case "IDLE":
			fmt.Fprint(c, "+ idling\r\n")
			s.mu.Lock()
			if s.idles++; s.idles == s.clients {
				close(s.stuck)
			}
			s.mu.Unlock()
			if _, err := r.ReadString('\n'); err != nil || s.isStuck() {
				io.Copy(io.Discard, r)
				return
			}
			fmt.Fprintf(c, "%s OK done\r\n", tag)
		default: // LOGIN, CAPABILITY, NOOP
			fmt.Fprintf(c, "%s OK done\r\n", tag)
		}
	}
}

// startBench runs `postern bench --profile idle` against s in a
// subprocess and returns it once every client is idling (and the server
// stuck), with its stderr lines on a channel. --timeout is an hour: only
// the stop can end a command the server does not answer.
func startBench(t *testing.T, s *idleServer, stopTimeout string) (*exec.Cmd, *bytes.Buffer, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "bench", "--addr", s.ln.Addr().String(), "--users", "u%d:p", "--nusers", "3",
		"--clients", fmt.Sprint(s.clients), "--profile", "idle", "--idle", "1h", "--duration", "1h",
		"--stop-timeout", stopTimeout, "--timeout", "1h", "--quiet")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	<-s.stuck
	return cmd, &stdout, lines
}

// TestBenchInterrupt: the first SIGINT stops the clients even though the
// server answers neither DONE nor LOGOUT any more: past --stop-timeout
// their connections are closed, the report is printed and the exit status
// is 0 (issue 7: 10,000 idle clients logged out at some 12 a second).
func TestBenchInterrupt(t *testing.T) {
	s := startIdleServer(t, 20)
	cmd, stdout, lines := startBench(t, s, "100ms")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var stderr []string
	for l := range lines {
		stderr = append(stderr, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bench after one SIGINT: %v; stderr:\n%s", err, strings.Join(stderr, "\n"))
	}
	for _, want := range []string{"IDLE", "LOGIN", "total"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBenchSecondInterrupt: while the clients still wait on a stuck
// server (a long --stop-timeout), a second SIGINT exits at once with
// status 130.
func TestBenchSecondInterrupt(t *testing.T) {
	s := startIdleServer(t, 5)
	cmd, _, lines := startBench(t, s, "1h")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		if strings.HasPrefix(l, "bench: stopping") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != interruptedStatus {
		t.Fatalf("bench after two SIGINTs: %v, want exit status %d", err, interruptedStatus)
	}
}
