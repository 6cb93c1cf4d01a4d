package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStress bombards a real server on loopback with hostile input. After
// each phase a fresh connection must still get NOOP answered, no panic may
// have been logged, and once the server is shut down no goroutine may be
// left behind. Every loop is bounded in count; no assertion depends on a
// duration (the deadlines only stop a broken server from hanging the test).
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	phases := []struct {
		name string
		opts func(*Options)
		run  func(t *testing.T, st *stressServer)
	}{
		{"random lines", nil, stressRandomLines},
		{"mutated commands", nil, stressMutated},
		{"client never reads", func(o *Options) { o.WriteTimeout = 100 * time.Millisecond }, stressNoReader},
		{"slow sender", func(o *Options) { o.LiteralTimeout = 300 * time.Millisecond }, stressSlowSender},
		{"slow literals before login", func(o *Options) { o.LoginTimeout = 200 * time.Millisecond }, stressSlowLogin},
	}
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			st := startStressServer(t, ph.opts)
			ph.run(t, st)
			st.checkNoop(t)
			st.shutdown(t)
			if p := st.panics(); len(p) > 0 {
				t.Fatalf("server panicked: %s", p)
			}
			checkGoroutines(t, before)
		})
	}
}

// stressServer is a Server on loopback over a fakeStore whose shutdown the
// test controls.
type stressServer struct {
	srv       *Server
	addr      string
	done      chan error
	detector  *panicDetector
	clientTLS *tls.Config // trusts the server's certificate (STARTTLS)
}

func startStressServer(t *testing.T, opt func(*Options)) *stressServer {
	t.Helper()
	st := newFakeStore()
	// A large message makes FETCH BODY[] fill the socket buffers fast.
	big := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 78)+"\r\n", 20000)
	st.deliver("INBOX", big)
	det := &panicDetector{}
	serverTLS, clientTLS := testTLSConfig(t)
	opts := Options{
		TLSConfig:  serverTLS,
		NewSession: newFakeSessionFunc(st, true),
		Logger:     slog.New(slog.NewTextHandler(det, nil)),
		// Enough for the random phases to go on after BAD answers.
		MaxBadCommandsBeforeLogin: 1000,
	}
	if opt != nil {
		opt(&opts)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stressServer{srv: New(opts), addr: l.Addr().String(), done: make(chan error, 1), detector: det, clientTLS: clientTLS}
	go func() { s.done <- s.srv.Serve(l) }()
	return s
}

func (s *stressServer) panics() []string {
	s.detector.mu.Lock()
	defer s.detector.mu.Unlock()
	return s.detector.panics
}

func (s *stressServer) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown() = %v", err)
	}
	if err := <-s.done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve() = %v, want ErrServerClosed", err)
	}
}

// checkNoop checks that a fresh connection is served.
func (s *stressServer) checkNoop(t *testing.T) {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	tc.greet()
	tc.send("n1 NOOP\r\n")
	tc.expect("n1 OK NOOP completed")
}

// checkGoroutines waits (boundedly) for the goroutine count to fall back
// to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	var n int
	for i := 0; i < 200; i++ {
		if n = runtime.NumGoroutine(); n <= before {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("goroutines after Shutdown = %d, want <= %d\n%s", n, before, buf)
}

// stressConn dials, drains everything the server says in the background,
// and brings the connection to state 0 (not authenticated), 1 (logged in),
// 2 (INBOX selected) or 3 (not authenticated, after STARTTLS) without
// waiting for answers (but for STARTTLS's).
func (s *stressServer) stressConn(t *testing.T, state int) (net.Conn, func()) {
	t.Helper()
	var c net.Conn
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Error(err)
		return nil, func() {}
	}
	raw.SetDeadline(time.Now().Add(safetyTimeout))
	c = raw
	if state == 3 {
		tc := &testClient{t: t, c: raw, br: bufio.NewReader(raw)}
		tc.greet()
		tc.send("T STARTTLS\r\n")
		tc.expect("T OK Begin TLS negotiation now")
		tlc := tls.Client(raw, s.clientTLS.Clone())
		if err := tlc.Handshake(); err != nil {
			t.Errorf("STARTTLS handshake: %v", err)
		}
		c = tlc
	}
	drained := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(drained)
	}()
	switch state {
	case 1:
		io.WriteString(c, "L LOGIN alice secret\r\n")
	case 2:
		io.WriteString(c, "L LOGIN alice secret\r\nS SELECT INBOX\r\n")
	}
	return c, func() {
		raw.(*net.TCPConn).CloseWrite()
		<-drained
		c.Close()
	}
}

// stressRandomLines sends lines of random octets, CRLF-terminated, in each
// state.
func stressRandomLines(t *testing.T, s *stressServer) {
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 3))
			c, closeConn := s.stressConn(t, i%4)
			defer closeConn()
			if c == nil {
				return
			}
			for j := 0; j < 300; j++ {
				line := make([]byte, r.IntN(200))
				for k := range line {
					line[k] = byte(r.IntN(256))
				}
				if _, err := c.Write(append(line, '\r', '\n')); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// validCommands are commands the fake session answers; stressMutated
// breaks them.
var validCommands = []string{
	"a NOOP", "a CAPABILITY", "a LOGIN alice secret", "a LOGIN {5+}\r\nalice {6+}\r\nsecret",
	"a AUTHENTICATE PLAIN", "a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "AGFsaWNlAHNlY3JldA==",
	"a AUTHENTICATE LOGIN", "YWxpY2U=", "c2VjcmV0", "*", "a STARTTLS", "a SELECT INBOX", "a EXAMINE INBOX",
	"a EXAMINE &AOQ-", "a CREATE x/y", "a RENAME x y", "a DELETE y", "a SUBSCRIBE Archive",
	"a UNSUBSCRIBE Archive", "a LIST \"\" *", "a LSUB \"\" %", "a NAMESPACE",
	"a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)",
	"a APPEND Archive (\\Seen) \"01-Jan-2026 10:00:00 +0000\" {12+}\r\nSubject: x\r\n",
	"a APPEND Archive {3+}\r\nabc", "a IDLE", "DONE", "a CHECK", "a CLOSE", "a UNSELECT", "a EXPUNGE",
	"a UID EXPUNGE 1:*", "a FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE)",
	"a FETCH 1 FULL", "a FETCH 1:2 BODYSTRUCTURE", "a FETCH 1 BODY.PEEK[HEADER.FIELDS (From To Subject)]",
	"a FETCH 1 BODY.PEEK[1.HEADER.FIELDS.NOT (From)]<0.10>", "a FETCH 1 (BODY[TEXT]<5.10> BODY[1.MIME])",
	"a UID FETCH 1,2:* RFC822.HEADER", "a STORE 1 +FLAGS.SILENT (\\Deleted)", "a STORE 1:* -FLAGS \\Seen $Work",
	"a UID STORE 2 FLAGS (\\Answered)", "a SEARCH CHARSET UTF-8 OR (FROM x) NOT 1:2",
	"a SEARCH SINCE 1-Jan-2026 BEFORE 1-Jan-2027 LARGER 10 SMALLER 100000",
	"a UID SEARCH HEADER Subject {3+}\r\nbig TEXT x", "a SEARCH KEYWORD $Work UNKEYWORD $Junk UID 1:*",
	"a COPY 1 Archive", "a MOVE 1 Archive", "a UID COPY 1:* Archive", "a LOGOUT",
}

// mutate breaks a command: flips, inserts or deletes octets, or inserts a
// literal announcement whose size does not match what follows.
func mutate(r *rand.Rand, s string) string {
	b := []byte(s)
	for n := 1 + r.IntN(3); n > 0; n-- {
		i := 0
		if len(b) > 0 {
			i = r.IntN(len(b) + 1)
		}
		switch r.IntN(5) {
		case 0:
			if i < len(b) {
				b[i] ^= byte(1 << r.IntN(8))
			}
		case 1:
			b = append(b[:i], append([]byte{byte(r.IntN(256))}, b[i:]...)...)
		case 2:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		case 3, 4:
			lit := "{" + strconv.Itoa(r.IntN(64)) + "}\r\n"
			if r.IntN(2) == 0 {
				lit = "{" + strconv.Itoa(r.IntN(64)) + "+}\r\n"
			}
			b = append(b[:i], append([]byte(lit), b[i:]...)...)
		}
	}
	return string(b)
}

func stressMutated(t *testing.T, s *stressServer) {
	rng := rand.New(rand.NewPCG(4, 5))
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 6))
			c, closeConn := s.stressConn(t, i%4)
			defer closeConn()
			if c == nil {
				return
			}
			for j := 0; j < 400; j++ {
				cmd := validCommands[r.IntN(len(validCommands))]
				if r.IntN(4) != 0 {
					cmd = mutate(r, cmd)
				}
				if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// stressNoReader pipelines FETCH 1:* BODY[] without reading a byte: the
// server must give up on its writes (WriteTimeout) and close the
// connection instead of blocking forever.
func stressNoReader(t *testing.T, s *stressServer) {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(safetyTimeout))
			io.WriteString(c, "L LOGIN alice secret\r\nS SELECT INBOX\r\n")
			cmd := []byte("f UID FETCH 1:* (BODY[] BODY[] FLAGS)\r\n")
			var werr error
			for j := 0; j < 5000 && werr == nil; j++ {
				_, werr = c.Write(cmd)
			}
			if errors.Is(werr, os.ErrDeadlineExceeded) {
				t.Errorf("client write blocked until the safety timeout: the server stopped reading and never closed")
			}
			// Without reading a byte, wait for the server to close its
			// side: its writes time out.
			for j := 0; j < 2000 && s.connCount() > 0; j++ {
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if n := s.connCount(); n > 0 {
		t.Errorf("server kept %d connections of clients that never read", n)
	}
}

// connCount is the number of connections the server is serving.
func (s *stressServer) connCount() int {
	return s.srv.g.Len()
}

// stressSlowSender sends commands one octet at a time: a slow but complete
// command is served; a line that trickles in for longer than
// LiteralTimeout is cut off.
func stressSlowSender(t *testing.T, s *stressServer) {
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	tc.greet()
	for _, b := range []byte("a1 LOGIN alice secret\r\n") {
		c.Write([]byte{b})
	}
	if l := tc.until("a1"); !strings.HasPrefix(l[len(l)-1], "a1 OK ") {
		t.Fatalf("slow LOGIN = %q, want OK", l)
	}
	// A never-ending line, one octet every 20 ms: bounded in count, far
	// more octets than LiteralTimeout lets through.
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		_, werr = c.Write([]byte{'x'})
		time.Sleep(20 * time.Millisecond)
		if i == 0 {
			continue
		}
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := tc.br.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return // closed by the server
		} else if err == nil {
			break
		}
	}
	c.SetReadDeadline(time.Now().Add(safetyTimeout))
	if l, err := tc.br.ReadString('\n'); err == nil {
		if _, err := io.Copy(io.Discard, tc.br); err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("after %q the connection stayed open", l)
		}
		return
	}
	if werr == nil {
		t.Fatal("a line trickling in for 1000 octets was never cut off")
	}
}

// stressSlowLogin sends a LOGIN whose literals each come just before the
// literal timer would fire: the login timeout must still end the
// connection, not be renewed by every literal.
func stressSlowLogin(t *testing.T, s *stressServer) {
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	tc.greet()
	for _, part := range []string{"a1 LOGIN {0}\r\n", " {0}\r\n", "\r\n"} {
		// Each part comes 150 ms after the last; LoginTimeout is 200 ms
		// and LiteralTimeout is 5 minutes.
		time.Sleep(150 * time.Millisecond)
		if _, err := io.WriteString(c, part); err != nil {
			return
		}
		l, ok := tc.line()
		switch {
		case !ok || strings.HasPrefix(l, "* BYE"):
			return // the login timeout held
		case !strings.HasPrefix(l, "+ "):
			t.Fatalf("after %q the server said %q, want the connection closed by the login timeout", part, l)
		}
	}
	t.Fatal("a LOGIN made of slow literals outlived the login timeout")
}

// smallBufListener shrinks the send buffer of accepted connections, so
// that a client that stops reading blocks the server's writes quickly.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(2048)
	}
	return c, err
}

// TestIdleClientStopsReading: a client in IDLE that never reads again.
// Once a keepalive write times out, the connection must end, not wait for
// DONE until IdleCommandTimeout.
func TestIdleClientStopsReading(t *testing.T) {
	st := newFakeStore()
	srv := New(Options{
		NewSession:         newFakeSessionFunc(st, true),
		Logger:             slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		WriteTimeout:       50 * time.Millisecond,
		IdleCommandTimeout: time.Hour,
	})
	srv.idleKeepalive = time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(smallBufListener{l}) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}()
	d := net.Dialer{}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(2048)
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	tc.selectInbox()
	tc.send("i IDLE\r\n")
	tc.expect("+ idling")
	// From here on the client reads nothing.
	s := &stressServer{srv: srv}
	for i := 0; i < 2000 && s.connCount() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.connCount(); n > 0 {
		t.Fatal("the IDLE connection of a client that stopped reading is still served")
	}
}
