package pop3server

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An overlong command line is answered -ERR and the connection goes on;
// before login it counts as a bad command.
func TestLineTooLong(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	// 1022 octets and CRLF is the limit: read and parsed.
	tc.send("XYZZY " + strings.Repeat("a", 1016) + "\r\n")
	tc.expect("-ERR Unknown command")
	tc.send("NOOP " + strings.Repeat("a", 1018) + "\r\n")
	tc.expect("-ERR Line too long")
	tc.send("USER alice\r\nPASS secret\r\n")
	tc.expect("+OK User name accepted, password please", "+OK Mailbox open, 4 messages")
	// Past the reader's size the line is discarded to its end.
	for i := 0; i < 4; i++ {
		tc.send("LIST " + strings.Repeat("1", 10000) + "\r\n")
		tc.expect("-ERR Line too long")
	}
	tc.send("LIST 1\r\n")
	tc.expect("+OK 1 56")
	// A line that does not end within 64 KiB ends the connection, with
	// an -ERR that says why (found by integration's TestHostile: the
	// connection used to close without a word).
	tc.send(strings.Repeat("x", 70<<10))
	tc.expect("-ERR Line longer than 65536 octets without an end; closing")
	tc.expectEOF()
}

// A SASL response line that does not end within 64 KiB is answered -ERR
// and the connection closed, as a command line is.
func TestAuthResponseEndless(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	tc.send("AUTH PLAIN\r\n")
	tc.expect("+ ")
	tc.send(strings.Repeat("QUFB", 20<<10))
	tc.expect("-ERR Line longer than 65536 octets without an end; closing")
	tc.expectEOF()
}

// AUTH lines may be longer than MaxLineLength (RFC 5034 §4): a PLAIN
// initial response of 2000 octets is read whole; its fields are what is
// wrong (RFC 4616 §2 caps each at 255).
func TestAuthLineLength(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	tc.send("AUTH PLAIN " + strings.Repeat("QUFB", 500) + "\r\n")
	tc.expect("-ERR Malformed authentication response")
	tc.send("AUTH PLAIN\r\n")
	tc.expect("+ ")
	tc.send(strings.Repeat("QUFB", 1100) + "\r\n")
	tc.expect("-ERR Authentication response too long")
	tc.send("QUIT\r\n")
	tc.expect("+OK Sayonara")
	tc.expectEOF()
}

func TestLoginTimeout(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginTimeout = 50 * time.Millisecond })
	tc := ts.dial(t)
	tc.greet()
	tc.send("USER alice\r\n")
	tc.expect("+OK User name accepted, password please", "-ERR Autologout; login took too long")
	tc.expectEOF()
	waitClosed(t, ts.store, 1)
	if got := ts.store.endReasons(); !slices.Equal(got, []string{"Autologout"}) {
		t.Errorf("end reasons = %q, want [Autologout]", got)
	}
}

// The idle timer ends a TRANSACTION session without UPDATE: nothing
// marked is removed (RFC 1939 §3).
func TestIdleTimeout(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.IdleTimeout = 50 * time.Millisecond })
	tc := ts.dial(t)
	tc.login()
	tc.send("DELE 1\r\n")
	tc.expect("+OK Message 1 deleted", "-ERR Autologout; idle for too long")
	tc.expectEOF()
	waitClosed(t, ts.store, 1)
	if got := ts.store.uids("alice"); len(got) != 4 {
		t.Errorf("after autologout the maildrop holds %q, want all 4 messages", got)
	}
}

// waitClosed waits until n sessions were closed: the server closes the
// session after the connection, so the client's EOF comes first.
func waitClosed(t *testing.T, st *fakeStore, n int) {
	t.Helper()
	deadline := time.Now().Add(safetyTimeout)
	for st.closeCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions closed, want %d", st.closeCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// QUIT in TRANSACTION removes exactly the messages marked; a connection
// that drops without QUIT removes nothing (RFC 1939 §6).
func TestUpdate(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	tc.send("DELE 1\r\nDELE 3\r\nQUIT\r\n")
	tc.expect("+OK Message 1 deleted", "+OK Message 3 deleted", "+OK Sayonara")
	tc.expectEOF()
	waitClosed(t, ts.store, 1)
	if got, want := ts.store.uids("alice"), []string{"uid-two", "uid-four"}; !slices.Equal(got, want) {
		t.Fatalf("after QUIT the maildrop holds %q, want %q", got, want)
	}

	tc = ts.dial(t)
	tc.login2(2)
	tc.send("DELE 1\r\n")
	tc.expect("+OK Message 1 deleted")
	tc.c.Close()
	waitClosed(t, ts.store, 2)
	if got, want := ts.store.uids("alice"), []string{"uid-two", "uid-four"}; !slices.Equal(got, want) {
		t.Fatalf("after a dropped connection the maildrop holds %q, want %q", got, want)
	}
}

// login2 greets and logs in as alice, whose maildrop holds n messages.
func (tc *testClient) login2(n int) {
	tc.t.Helper()
	tc.greet()
	tc.send("USER alice\r\nPASS secret\r\n")
	tc.expect("+OK User name accepted, password please", "+OK Mailbox open, "+strconv.Itoa(n)+" messages")
}

func TestUpdateFails(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errBackend, "-ERR [SYS/TEMP] Some deleted messages not removed"},
		{&Error{Code: CodeSysPerm, Text: "Maildrop is read-only"}, "-ERR [SYS/PERM] Maildrop is read-only"},
	} {
		ts := newTestServer(t, nil)
		ts.store.setHook(func(op string) error {
			if op == "Update" {
				return tt.err
			}
			return nil
		})
		tc := ts.dial(t)
		tc.login()
		tc.send("DELE 1\r\nQUIT\r\n")
		tc.expect("+OK Message 1 deleted", tt.want)
		tc.expectEOF()
	}
}

// Backend trouble is logged and answered [SYS/TEMP] without internals; an
// *Error is answered with its code and text. The connection goes on.
func TestBackendErrors(t *testing.T) {
	ts := newTestServer(t, nil)
	failWith := func(err error) {
		ts.store.setHook(func(op string) error {
			if op == "Stat" || op == "Retr" {
				return err
			}
			return nil
		})
	}
	tc := ts.dial(t)
	tc.login()
	failWith(errBackend)
	tc.send("STAT\r\nRETR 1\r\n")
	tc.expect("-ERR [SYS/TEMP] Internal error; the administrator has been told",
		"-ERR [SYS/TEMP] Internal error; the administrator has been told")
	failWith(&Error{Code: CodeSysPerm, Text: "Message\r\nunreadable"})
	tc.send("STAT\r\n")
	tc.expect("-ERR [SYS/PERM] Message  unreadable")
	failWith(nil)
	tc.send("STAT\r\n")
	tc.expect("+OK 4 265")
}

// A message that fails after its first octets went out cannot be answered
// -ERR: the connection is closed, so the client sees no terminator.
func TestRetrFailsMidway(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.store.setHook(func(op string) error {
		if op == "Retr-midway" {
			return errBackend
		}
		return nil
	})
	tc := ts.dial(t)
	tc.login()
	tc.send("RETR 1\r\n")
	tc.expect("+OK 56 octets", "From: bob@example.org")
	if got, err := tc.br.ReadString('\n'); err == nil {
		t.Fatalf("after a failed RETR read %q, want the connection closed mid-line", got)
	}
}

func TestPanicRecovered(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.store.setHook(func(op string) error {
		if op == "Stat" {
			panic("fake: boom")
		}
		return nil
	})
	tc := ts.dial(t)
	tc.login()
	tc.send("STAT\r\n")
	tc.expect("-ERR [SYS/TEMP] Internal error; the administrator has been told")
	tc.expectEOF()
	waitClosed(t, ts.store, 1)
	// The server goes on serving, and the maildrop was released.
	ts.store.setHook(nil)
	tc = ts.dial(t)
	tc.login()
}

// The last of MaxLoginFailures refused logins closes the connection.
func TestMaxLoginFailures(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	for i := 0; i < 2; i++ {
		tc.send("USER alice\r\nPASS wrong\r\n")
		tc.expect("+OK User name accepted, password please", "-ERR [AUTH] Authentication failed")
		tc.send("AUTH PLAIN AGFsaWNlAG5vcGU=\r\n") // "\0alice\0nope"
		tc.expect("-ERR [AUTH] Authentication failed")
	}
	tc.send("USER alice\r\nPASS wrong\r\n")
	tc.expect("+OK User name accepted, password please", "-ERR [AUTH] Authentication failed")
	tc.expectEOF()
}

// A maildrop another session holds answers [IN-USE] (RFC 2449 §8.1.1);
// it counts as a refused login but the connection stays usable.
func TestInUse(t *testing.T) {
	ts := newTestServer(t, nil)
	tc1 := ts.dial(t)
	tc1.login()
	tc2 := ts.dial(t)
	tc2.greet()
	tc2.send("USER alice\r\nPASS secret\r\n")
	tc2.expect("+OK User name accepted, password please", "-ERR [IN-USE] Maildrop in use")
	tc1.send("QUIT\r\n")
	tc1.expect("+OK Sayonara")
	tc1.expectEOF()
	waitClosed(t, ts.store, 1)
	tc2.send("USER alice\r\nPASS secret\r\n")
	tc2.expect("+OK User name accepted, password please", "+OK Mailbox open, 4 messages")
}

// Shutdown says [SYS/TEMP] to a client waiting for a command and closes
// it, removing nothing; Serve returns ErrServerClosed.
func TestShutdownWaiting(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	tc.send("DELE 1\r\n")
	tc.expect("+OK Message 1 deleted")
	tc2 := ts.dial(t)
	tc2.greet()
	if err := ts.srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	for _, c := range []*testClient{tc, tc2} {
		c.expect("-ERR [SYS/TEMP] Server shutting down")
		c.expectEOF()
	}
	if got := ts.store.uids("alice"); len(got) != 4 {
		t.Errorf("after shutdown the maildrop holds %q, want all 4 messages", got)
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Errorf("Dial after Shutdown succeeded, want the listener closed")
	}
}

// A command running when Shutdown starts finishes and is answered; then
// the client hears the shutdown.
func TestShutdownDuringCommand(t *testing.T) {
	ts := newTestServer(t, nil)
	entered := make(chan struct{})
	release := make(chan struct{})
	ts.store.setHook(func(op string) error {
		if op == "Stat" {
			close(entered)
			<-release
		}
		return nil
	})
	tc := ts.dial(t)
	tc.login()
	tc.send("STAT\r\n")
	<-entered
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	for !ts.srv.g.Closing() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	tc.expect("+OK 4 265", "-ERR [SYS/TEMP] Server shutting down")
	tc.expectEOF()
	if err := <-done; err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
}

// When Shutdown's context ends first, it closes the connections and says
// so.
func TestShutdownContext(t *testing.T) {
	ts := newTestServer(t, nil)
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	ts.store.setHook(func(op string) error {
		if op == "Stat" {
			close(entered)
			<-release
		}
		return nil
	})
	tc := ts.dial(t)
	tc.login()
	tc.send("STAT\r\n")
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(cancelled) = %v, want context.Canceled", err)
	}
	tc.expectEOF()
}

func TestNewSessionError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&Error{Code: CodeSysTemp, Text: "Too many connections"}, "-ERR [SYS/TEMP] Too many connections"},
		{errBackend, "-ERR [SYS/TEMP] Service unavailable; the administrator has been told"},
	} {
		ts := newTestServer(t, func(o *Options) {
			o.NewSession = func(context.Context, *ConnInfo) (Session, error) { return nil, tt.err }
		})
		tc := ts.dial(t)
		tc.expect(tt.want)
		tc.expectEOF()
	}
}

var timestampRE = regexp.MustCompile(`^\+OK Postern POP3 server ready (<[0-9a-f]{16}\.[0-9]+@pop\.example\.org>)$`)

// APOP (RFC 1939 §7) is offered only by sessions that implement
// SessionAPOP: the greeting then carries a timestamp.
func TestAPOP(t *testing.T) {
	st := newFakeStore()
	ts := newTestServerStore(t, st, func(o *Options) {
		o.IsLoopback = func(net.Addr) bool { return false } // APOP needs no TLS
		o.NewSession = newFakeSessionFunc(st, true)
	})
	tc := ts.dial(t)
	m := timestampRE.FindStringSubmatch(tc.greet())
	if m == nil {
		t.Fatalf("greeting has no APOP timestamp")
	}
	digest := func(secret string) string {
		sum := md5.Sum([]byte(m[1] + secret))
		return hex.EncodeToString(sum[:])
	}
	tc.send("APOP alice " + digest("wrong") + "\r\n")
	tc.expect("-ERR [AUTH] Authentication failed")
	tc.send("APOP alice xyz\r\n")
	tc.expect("-ERR Invalid digest")
	tc.send("APOP alice\r\n")
	tc.expect("-ERR Missing argument")
	tc.send("APOP alice " + strings.ToUpper(digest("secret")) + "\r\n")
	tc.expect("+OK Mailbox open, 4 messages")

	// Without SessionAPOP: no timestamp, and APOP is unknown.
	ts2 := newTestServer(t, nil)
	tc = ts2.dial(t)
	if g := tc.greet(); g != "+OK Postern POP3 server ready" {
		t.Errorf("greeting = %q, want no timestamp", g)
	}
	tc.send("APOP alice " + digest("secret") + "\r\n")
	tc.expect("-ERR Unknown command")
}

// STLS updates the ConnInfo the session holds.
func TestConnInfo(t *testing.T) {
	infos := make(chan *ConnInfo, 1)
	st := newFakeStore()
	ts := newTestServerStore(t, st, func(o *Options) {
		o.NewSession = func(ctx context.Context, info *ConnInfo) (Session, error) {
			infos <- info
			return newFakeSessionFunc(st, false)(ctx, info)
		}
	})
	tc := ts.dial(t)
	tc.greet()
	info := <-infos
	if info.TLS || !info.Loopback || info.RemoteAddr.Addr().String() != "127.0.0.1" || info.ID == "" {
		t.Errorf("ConnInfo = %+v, want plain loopback from 127.0.0.1 with an ID", info)
	}
	tc.send("STLS\r\n")
	tc.expect("+OK Begin TLS negotiation now")
	tc.startTLS()
	tc.send("NOOP\r\n")
	tc.expect("-ERR NOOP is not valid in the AUTHORIZATION state")
	if !info.TLS {
		t.Errorf("after STLS ConnInfo.TLS = false, want true")
	}
}

// Cancelling ServeConn's context closes the connection.
func TestServeConnContext(t *testing.T) {
	st := newFakeStore()
	srv := New(Options{NewSession: newFakeSessionFunc(st, false)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		srv.ServeConn(ctx, c, false)
	}()
	ts := &testServer{addr: l.Addr().String()}
	tc := ts.dial(t)
	tc.greet()
	cancel()
	tc.expectEOF()
	<-done
}

// Half a command line, never finished, is cut off by the login timeout
// with the reason (a slowloris), as a silent client is.
func TestCommandTimeout(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginTimeout = 100 * time.Millisecond })
	tc := ts.dial(t)
	tc.greet()
	tc.send("USER ali")
	tc.expect("-ERR Autologout; login took too long")
	tc.expectEOF()
}
