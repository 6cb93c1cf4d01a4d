package imapserver

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata transcripts with the server's answers")

// safetyTimeout only stops a broken test from hanging; no assertion
// depends on it.
const safetyTimeout = 20 * time.Second

// testServer is a Server on loopback TCP over a fakeStore.
type testServer struct {
	srv   *Server
	addr  string
	store *fakeStore
	done  chan error
}

// newTestServer starts a server; opt may adjust the options.
func newTestServer(t testing.TB, opt func(*Options)) *testServer {
	t.Helper()
	st := newFakeStore()
	opts := Options{
		NewSession: newFakeSessionFunc(st, true),
		Logger:     slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if opt != nil {
		opt(&opts)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: New(opts), addr: l.Addr().String(), store: st, done: make(chan error, 1)}
	go func() { ts.done <- ts.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// testLogWriter sends server logs to the test log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// testClient speaks raw IMAP.
type testClient struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func (ts *testServer) dial(t testing.TB) *testClient {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(safetyTimeout))
	t.Cleanup(func() { c.Close() })
	return &testClient{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes raw octets.
func (tc *testClient) send(s string) {
	tc.t.Helper()
	if _, err := io.WriteString(tc.c, s); err != nil {
		tc.t.Fatalf("send %q: %v", s, err)
	}
}

// line reads one line without its CRLF; "" and false at EOF.
func (tc *testClient) line() (string, bool) {
	tc.t.Helper()
	s, err := tc.br.ReadString('\n')
	if err != nil {
		if s != "" {
			tc.t.Fatalf("partial line %q: %v", s, err)
		}
		return "", false
	}
	if !strings.HasSuffix(s, "\r\n") {
		tc.t.Fatalf("line %q does not end in CRLF", s)
	}
	return strings.TrimSuffix(s, "\r\n"), true
}

// expect reads lines and compares them with want.
func (tc *testClient) expect(want ...string) {
	tc.t.Helper()
	for _, w := range want {
		got, ok := tc.line()
		if !ok {
			tc.t.Fatalf("read: EOF, want %q", w)
		}
		if got != w {
			tc.t.Fatalf("read %q, want %q", got, w)
		}
	}
}

// expectEOF checks that the server closed the connection.
func (tc *testClient) expectEOF() {
	tc.t.Helper()
	if got, ok := tc.line(); ok {
		tc.t.Fatalf("read %q, want EOF", got)
	}
}

// until reads lines up to and including the tagged response of tag and
// returns them.
func (tc *testClient) until(tag string) []string {
	tc.t.Helper()
	var lines []string
	for {
		l, ok := tc.line()
		if !ok {
			tc.t.Fatalf("EOF before %s's response; read %q", tag, lines)
		}
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

// greet reads the greeting.
func (tc *testClient) greet() string {
	tc.t.Helper()
	l, ok := tc.line()
	if !ok || !strings.HasPrefix(l, "* OK ") {
		tc.t.Fatalf("greeting = %q", l)
	}
	return l
}

// login greets and logs in as alice.
func (tc *testClient) login() {
	tc.t.Helper()
	tc.greet()
	tc.send("L LOGIN alice secret\r\n")
	if l := tc.until("L"); !strings.HasPrefix(l[len(l)-1], "L OK ") {
		tc.t.Fatalf("login: %q", l)
	}
}

// selectInbox logs in and selects INBOX.
func (tc *testClient) selectInbox() {
	tc.t.Helper()
	tc.login()
	tc.send("S SELECT INBOX\r\n")
	if l := tc.until("S"); !strings.HasPrefix(l[len(l)-1], "S OK ") {
		tc.t.Fatalf("select: %q", l)
	}
}

// Transcripts: testdata/*.txt hold "C: " lines the client sends and "S: "
// lines the server must answer, byte for byte (CRLF added to each), "L: "
// lines of literal data inside a command (sent with CRLF; the command goes
// on with the next line), plus "X: " lines that act on the store (X: deliver MAILBOX, X: expunge
// MAILBOX UID). "#" lines are comments. With -update the S lines are
// rewritten from what the server says: after the client's lines, the
// server's are read up to a continuation request, the tagged response of
// the last command, or the end of the connection; after an X line, as
// many as the file had.

type transcriptLine struct {
	kind byte // 'C', 'S', 'X', '#'
	text string
}

func readTranscript(t *testing.T, path string) []transcriptLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []transcriptLine
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
			out = append(out, transcriptLine{'#', l})
		case strings.HasPrefix(l, "C: "), strings.HasPrefix(l, "S: "), strings.HasPrefix(l, "X: "), strings.HasPrefix(l, "L: "):
			out = append(out, transcriptLine{l[0], l[3:]})
		case l == "C:" || l == "S:" || l == "L:":
			out = append(out, transcriptLine{l[0], ""})
		default:
			t.Fatalf("%s: bad line %q", path, l)
		}
	}
	return out
}

// transcriptOptions gives the server options a transcript needs, by name.
func transcriptOptions(name string) func(*Options) {
	switch {
	case strings.HasPrefix(name, "logindisabled"):
		return func(o *Options) { o.IsLoopback = func(net.Addr) bool { return false } }
	case strings.HasPrefix(name, "condstore"):
		return func(o *Options) { o.NewSession = condSessions(o.NewSession, &condRecord{}) }
	case strings.HasPrefix(name, "nomove"):
		return func(o *Options) {
			st := newFakeStore()
			o.NewSession = newFakeSessionFunc(st, false)
		}
	}
	return nil
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			lines := readTranscript(t, path)
			ts := newTestServer(t, transcriptOptions(name))
			tc := ts.dial(t)
			var out []transcriptLine
			if *update {
				out = updateTranscript(t, ts, tc, lines)
				var b strings.Builder
				for _, l := range out {
					if l.kind == '#' {
						b.WriteString(l.text + "\n")
						continue
					}
					b.WriteString(string(l.kind) + ": " + l.text + "\n")
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for i, l := range lines {
				switch l.kind {
				case 'C', 'L':
					tc.send(l.text + "\r\n")
				case 'X':
					runAction(t, ts, l.text)
				case 'S':
					got, ok := tc.line()
					if !ok {
						t.Fatalf("%s:%d: EOF, want %q", path, i+1, l.text)
					}
					if got != l.text {
						t.Fatalf("%s:%d: server said\n\t%q\nwant\n\t%q", path, i+1, got, l.text)
					}
				}
			}
			tc.c.SetReadDeadline(time.Now().Add(safetyTimeout))
			if name != "" && lines[len(lines)-1].kind == 'S' && strings.Contains(lines[len(lines)-1].text, "LOGOUT") {
				tc.expectEOF()
			}
		})
	}
}

// runAction performs an X line.
func runAction(t *testing.T, ts *testServer, action string) {
	t.Helper()
	f := strings.Fields(action)
	switch {
	case len(f) == 2 && f[0] == "deliver":
		ts.store.deliver(f[1], "From: mta@example.org\r\nSubject: New\r\n\r\nNew mail.\r\n")
	case len(f) == 3 && f[0] == "expunge":
		var uid uint32
		for _, c := range f[2] {
			uid = uid*10 + uint32(c-'0')
		}
		ts.store.expungeUID(f[1], uid)
	default:
		t.Fatalf("unknown action %q", action)
	}
}

func updateTranscript(t *testing.T, ts *testServer, tc *testClient, lines []transcriptLine) []transcriptLine {
	var out []transcriptLine
	lastTag := ""
	// inCommand: the next client line continues the current command (after
	// a continuation request, a LITERAL+ announcement or literal data).
	inCommand := false
	readServer := func(n int) {
		for i := 0; n < 0 || i < n; i++ {
			l, ok := tc.line()
			if !ok {
				return
			}
			out = append(out, transcriptLine{'S', l})
			inCommand = strings.HasPrefix(l, "+")
			if n >= 0 {
				continue
			}
			if inCommand || lastTag != "" && strings.HasPrefix(l, lastTag+" ") {
				return
			}
			if lastTag == "" && strings.HasPrefix(l, "* OK") {
				return // greeting
			}
		}
	}
	i := 0
	for ; i < len(lines) && lines[i].kind == '#'; i++ {
		out = append(out, lines[i])
	}
	readServer(-1)
	for ; i < len(lines); i++ {
		l := lines[i]
		switch l.kind {
		case '#':
			out = append(out, l)
		case 'L':
			out = append(out, l)
			tc.send(l.text + "\r\n")
			inCommand = true
		case 'C':
			out = append(out, l)
			tc.send(l.text + "\r\n")
			if !inCommand && l.text != "DONE" {
				lastTag, _, _ = strings.Cut(l.text, " ")
			}
			// Read the answer to every line except a LITERAL+
			// announcement, whose data follows at once.
			if strings.HasSuffix(l.text, "+}") {
				inCommand = true
				continue
			}
			inCommand = false
			readServer(-1)
		case 'X':
			out = append(out, l)
			runAction(t, ts, l.text)
			n := 0
			for j := i + 1; j < len(lines) && lines[j].kind == 'S'; j++ {
				n++
			}
			readServer(n)
		}
	}
	return out
}
