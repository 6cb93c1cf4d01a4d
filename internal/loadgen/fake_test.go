package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeMode says how the fake server answers the commands of the mix.
type fakeMode int

const (
	fakeNO    fakeMode = iota // NO to everything past LOGIN, SELECT, LIST, UID SEARCH, LOGOUT
	fakeEmpty                 // OK to everything, with no data at all
	fakeDrop                  // as fakeEmpty, but NOOP closes the connection
)

// fakeServer is a tiny IMAP server on loopback that answers the session
// setup properly (so a run can start) and the rest as its mode says: the
// load generator must count those answers as errors.
type fakeServer struct {
	ln   net.Listener
	mode fakeMode
	wg   sync.WaitGroup

	mu     sync.Mutex
	onVerb func(verb string) // if set, called with each command's name; guarded by mu
	verbs  map[string]int    // commands received, by name; guarded by mu
	stuck  bool              // answer nothing more, on any connection; guarded by mu
}

// isStuck reports whether the server stopped answering.
func (s *fakeServer) isStuck() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stuck
}

// saw counts a command and calls the hook.
func (s *fakeServer) saw(verb string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verbs == nil {
		s.verbs = map[string]int{}
	}
	s.verbs[verb]++
	if s.onVerb != nil {
		s.onVerb(verb)
	}
}

func (s *fakeServer) count(verb string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verbs[verb]
}

func startFake(t *testing.T, mode fakeMode) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, mode: mode}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

const fakeMessages = 5

func (s *fakeServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	defer w.Flush()
	fmt.Fprint(w, "* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS IDLE SORT] fake ready\r\n")
	w.Flush()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		tag, cmd, _ := strings.Cut(line, " ")
		verb := strings.ToUpper(strings.Fields(cmd + " x")[0])
		if verb == "UID" {
			verb += " " + strings.ToUpper(strings.Fields(cmd)[1])
		}
		// A literal at the end of the line: read it and the line's rest.
		if n, ok := trailingLiteral([]byte(line)); ok {
			if !strings.HasSuffix(line, "+}") {
				fmt.Fprint(w, "+ go on\r\n")
				w.Flush()
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
		s.saw(verb)
		if s.isStuck() {
			io.Copy(io.Discard, r) // until the client closes
			return
		}
		switch verb {
		case "LOGIN":
			fmt.Fprintf(w, "%s OK logged in\r\n", tag)
		case "SELECT":
			fmt.Fprintf(w, "* %d EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n%s OK [READ-WRITE] selected\r\n", fakeMessages, tag)
		case "UID SEARCH":
			fmt.Fprintf(w, "* SEARCH 1 2 3 4 5\r\n%s OK done\r\n", tag)
		case "LIST":
			fmt.Fprintf(w, "* LIST () \"/\" INBOX\r\n%s OK done\r\n", tag)
		case "LOGOUT":
			fmt.Fprintf(w, "* BYE bye\r\n%s OK done\r\n", tag)
			return
		case "IDLE":
			fmt.Fprint(w, "+ idling\r\n")
			w.Flush()
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
			if s.isStuck() {
				io.Copy(io.Discard, r)
				return
			}
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case "NOOP":
			if s.mode == fakeDrop {
				return
			}
			fallthrough
		default:
			if s.mode == fakeNO {
				fmt.Fprintf(w, "%s NO [SERVERBUG] fake refuses %s\r\n", tag, verb)
			} else {
				fmt.Fprintf(w, "%s OK %s done, nothing to show\r\n", tag, verb)
			}
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// runFake runs one full cycle of profile per client against a fake.
func runFake(t *testing.T, mode fakeMode, profile string) *Result {
	t.Helper()
	s := startFake(t, mode)
	p, _ := LookupProfile(profile)
	res, err := Run(t.Context(), Options{
		Addr: s.ln.Addr().String(), Users: "u%d:p", NUsers: 2, Clients: 2,
		Duration: 1, Profile: p, MinCommands: p.CycleLen(), IdleHold: 1,
		Corpus: GenerateCorpus(3, 1),
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// TestFakeNO: a server that answers NO fast does not win: every command
// it refuses is an error, with the server's text kept.
func TestFakeNO(t *testing.T) {
	res := runFake(t, fakeNO, "mixed")
	if res.Errors() == 0 {
		t.Fatal("Errors() = 0 against a server answering NO, want > 0")
	}
	for _, name := range []string{"STATUS", "FETCH FLAGS", "FETCH BODY[]", "UID FETCH", "SEARCH", "SORT", "STORE", "COPY", "EXPUNGE", "APPEND", "NOOP"} {
		c, ok := res.Command(name)
		if !ok || c.Errors == 0 || c.Count != 0 {
			t.Errorf("%s: %+v, want errors and no successes", name, c)
			continue
		}
		if !strings.Contains(c.ErrorSamples[0], "NO [SERVERBUG] fake refuses") {
			t.Errorf("%s: first error %q, want the server's NO text", name, c.ErrorSamples[0])
		}
	}
	for _, name := range []string{"CONNECT", "LOGIN", "SELECT", "LIST", "LOGOUT", "IDLE"} {
		if c, _ := res.Command(name); c.Errors != 0 || c.Count == 0 {
			t.Errorf("%s: %+v, want successes only", name, c)
		}
	}
}

// TestFakeEmpty: OK without the data asked for is an error too.
func TestFakeEmpty(t *testing.T) {
	res := runFake(t, fakeEmpty, "mixed")
	for _, name := range []string{"STATUS", "FETCH FLAGS", "FETCH ENVELOPE", "FETCH BODYSTRUCTURE", "FETCH BODY[]", "UID FETCH", "SEARCH", "SORT", "COPY", "APPEND"} {
		if c, _ := res.Command(name); c.Errors == 0 {
			t.Errorf("%s: %+v, want errors for an OK without data", name, c)
		}
	}
	if c, _ := res.Command("NOOP"); c.Errors != 0 || c.Count == 0 {
		t.Errorf("NOOP: %+v, want successes only", c)
	}
}

// TestFakeLogins: the logins profile is connect, LOGIN, SELECT, LOGOUT.
func TestFakeLogins(t *testing.T) {
	res := runFake(t, fakeNO, "logins")
	if res.Errors() != 0 {
		t.Errorf("Errors() = %d, want 0: %+v", res.Errors(), res.Commands)
	}
	var names []string
	for _, c := range res.Commands {
		names = append(names, c.Name)
		if c.Count == 0 {
			t.Errorf("%s never ran", c.Name)
		}
	}
	if got, want := strings.Join(names, ","), "CONNECT,LOGIN,SELECT,LOGOUT"; got != want {
		t.Errorf("commands = %s, want %s", got, want)
	}
	if res.LoginsRate <= 0 {
		t.Errorf("LoginsRate = %v, want > 0", res.LoginsRate)
	}
}

// TestFakeCustom: custom command lines are measured under their own text
// and checked for a tagged OK.
func TestFakeCustom(t *testing.T) {
	s := startFake(t, fakeNO)
	res, err := Run(t.Context(), Options{
		Addr: s.ln.Addr().String(), Users: "u:p", Clients: 2, Duration: 1, MinCommands: 4,
		Commands: []string{"LIST \"\" *", "UID FETCH 1:* (FLAGS)"},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Profile != "custom" {
		t.Errorf("Profile = %q, want custom", res.Profile)
	}
	if c, ok := res.Command(`LIST "" *`); !ok || c.Count < 2 || c.Errors != 0 {
		t.Errorf("LIST line: %+v, %v, want successes only", c, ok)
	}
	if c, ok := res.Command("UID FETCH 1:* (FLAGS)"); !ok || c.Count != 0 || c.Errors < 2 {
		t.Errorf("UID FETCH line: %+v, %v, want errors only", c, ok)
	}
}

// TestFakeDrop: a connection lost mid-run is counted as an error of the
// command in flight, and the client reconnects and goes on.
func TestFakeDrop(t *testing.T) {
	s := startFake(t, fakeDrop)
	res, err := Run(t.Context(), Options{
		Addr: s.ln.Addr().String(), Users: "u:p", Clients: 1, Duration: 1, MinCommands: 6,
		Commands: []string{"CHECK", "NOOP"},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// At least MinCommands run, in turn: more when the stop's timer
	// fires late on a loaded machine (CI), CHECK and NOOP alternating.
	noop, _ := res.Command("NOOP")
	check, _ := res.Command("CHECK")
	if noop.Errors < 3 || noop.Count != 0 {
		t.Errorf("NOOP: %+v, want every one (3 or more) an error (the connection closed)", noop)
	}
	if check.Errors != 0 || (check.Count != noop.Errors && check.Count != noop.Errors+1) {
		t.Errorf("CHECK: %+v, want as many successes as NOOPs (%d), or one more", check, noop.Errors)
	}
	if c, _ := res.Command("CONNECT"); c.Count < noop.Errors {
		t.Errorf("CONNECT: %+v, want a reconnection after each drop", c)
	}
}

// TestCancel: cancelling the context (Ctrl-C) ends a long run early and
// cleanly: the figures are returned and every client logs out.
func TestCancel(t *testing.T) {
	s := startFake(t, fakeEmpty)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s.onVerb = func(verb string) {
		if verb == "CHECK" {
			cancel()
		}
	}
	res, err := Run(ctx, Options{
		Addr: s.ln.Addr().String(), Users: "u:p", Clients: 3, Duration: time.Hour,
		Commands: []string{"NOOP", "CHECK"},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c, _ := res.Command("CHECK"); c.Count == 0 || res.Errors() != 0 {
		t.Errorf("CHECK: %+v, errors %d; want successes and no errors", c, res.Errors())
	}
	// Every session that logged in (the probe, the preparation, each
	// client that connected before the stop) logged out; the server
	// counts commands before it answers, so all are counted by now.
	if in, out := s.count("LOGIN"), s.count("LOGOUT"); in < 3 || out != in {
		t.Errorf("%d LOGINs and %d LOGOUTs, want as many, and at least 3", in, out)
	}
}

// TestCancelStuckServer: cancelled while its clients are in IDLE against
// a server that then answers nothing (not DONE, not LOGOUT), the run
// still ends: StopTimeout after the cancellation every connection is
// closed, and Run returns the figures. What the hard stop cut off is not
// counted as errors.
func TestCancelStuckServer(t *testing.T) {
	const clients = 20
	s := startFake(t, fakeEmpty)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	idles := 0
	s.onVerb = func(verb string) { // called under s.mu
		if verb == "IDLE" {
			if idles++; idles == clients {
				s.stuck = true
				cancel()
			}
		}
	}
	p, _ := LookupProfile("idle")
	res, err := Run(ctx, Options{
		Addr: s.ln.Addr().String(), Users: "u%d:p", NUsers: 3, Clients: clients, Duration: time.Hour,
		Profile: p, IdleHold: time.Hour, StopTimeout: time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Errors() != 0 {
		t.Errorf("Errors() = %d, want 0 (the hard stop's failures are not the server's): %+v", res.Errors(), res.Commands)
	}
	if c, _ := res.Command("LOGIN"); c.Count != clients {
		t.Errorf("LOGIN: %+v, want %d", c, clients)
	}
}

// TestConnectionRefused: a dead server fails the run's start, not a panic
// or a hang.
func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Run(t.Context(), Options{Addr: addr, Users: "u:p"}); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
}

// lineWatch is a progress writer that closes seen once a line it is
// given contains want (the progress loop is its only writer).
type lineWatch struct {
	want string
	seen chan struct{}
	once sync.Once
}

func (l *lineWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

// TestProgressCountsIdling: the progress line counts the clients in IDLE,
// which is what the comparison waits for before it reads a server's
// memory per IDLE connection (counting connections was too early: the
// logins behind them were still running).
func TestProgressCountsIdling(t *testing.T) {
	const clients = 5
	s := startFake(t, fakeEmpty)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	progress := &lineWatch{want: fmt.Sprintf("%5d connected  %5d idling\n", clients, clients), seen: make(chan struct{})}
	p, _ := LookupProfile("idle")
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{
			Addr: s.ln.Addr().String(), Users: "u%d:p", NUsers: 2, Clients: clients, Duration: time.Hour,
			Profile: p, IdleHold: time.Hour, StopTimeout: time.Second,
			Progress: progress, ProgressEvery: 10 * time.Millisecond,
		})
		done <- err
	}()
	select {
	case <-progress.seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("no progress line with %q within 10 s", progress.want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
