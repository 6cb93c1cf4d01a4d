package imapserver

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
)

func TestBadCommandsBeforeLogin(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	tc.send("a1 FROB\r\n")
	tc.expect("a1 BAD Unknown command")
	tc.send("GET / HTTP/1.1\r\n")
	tc.expect("GET BAD Unknown command")
	tc.send("a3 WHATEVER\r\n")
	tc.expect("a3 BAD Unknown command", "* BYE Too many invalid commands")
	tc.expectEOF()
}

// After login, BAD answers are not counted: a logged-in client is known.
func TestBadCommandsAfterLogin(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	for i := 0; i < 5; i++ {
		tc.send("a1 FROB\r\n")
		tc.expect("a1 BAD Unknown command")
	}
	tc.send("a2 NOOP\r\n")
	tc.expect("a2 OK NOOP completed")
}

// A NO (wrong password) is not a BAD and does not count either.
func TestFailedLoginsDoNotCount(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	for i := 0; i < 4; i++ {
		tc.send("a1 LOGIN alice wrong\r\n")
		tc.expect("a1 NO [AUTHENTICATIONFAILED] Invalid credentials")
	}
	tc.send("a2 LOGIN alice secret\r\n")
	if l := tc.until("a2"); !strings.HasPrefix(l[0], "a2 OK [CAPABILITY ") {
		t.Fatalf("LOGIN = %q", l)
	}
}

// MaxLoginFailures: the fifth refused LOGIN or AUTHENTICATE of a
// connection gets its NO and then BYE, so a password guesser must
// reconnect.
func TestMaxLoginFailures(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	for i := 0; i < 2; i++ {
		tc.send("a1 LOGIN alice wrong\r\n")
		tc.expect("a1 NO [AUTHENTICATIONFAILED] Invalid credentials")
		// PLAIN "\0alice\0nope".
		tc.send("a2 AUTHENTICATE PLAIN AGFsaWNlAG5vcGU=\r\n")
		tc.expect("a2 NO [AUTHENTICATIONFAILED] Invalid credentials")
	}
	tc.send("a3 LOGIN alice wrong\r\n")
	tc.expect("a3 NO [AUTHENTICATIONFAILED] Invalid credentials", "* BYE Too many authentication failures")
	tc.expectEOF()
}

func TestFatalLimits(t *testing.T) {
	tests := []struct {
		name string
		send string
		want []string
	}{
		{"line end never found", "a1 LOGIN " + strings.Repeat("x", 40<<10) + "\r\n",
			[]string{"* BYE [TOOBIG] command line longer than 1024 octets"}},
		{"huge LITERAL+ literal", "a1 LOGIN {2000000000+}\r\n",
			[]string{"* BYE [TOOBIG] literal of 2000000000 octets exceeds the limit of 65536"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.MaxLineLength = 1024 })
			tc := ts.dial(t)
			tc.greet()
			// The server may close before reading everything: write in
			// the background and ignore the error.
			go io.WriteString(tc.c, tt.send)
			tc.expect(tt.want...)
			tc.expectEOF()
		})
	}
}

func TestAppendTooBigLiteralPlus(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxAppendSize = 10 })
	tc := ts.dial(t)
	tc.login()
	tc.send("a1 APPEND INBOX {20+}\r\n" + strings.Repeat("z", 20) + "\r\n")
	tc.expect("a1 NO [TOOBIG] Message too big")
	tc.send("a2 APPEND INBOX {20}\r\n")
	tc.expect("a2 NO [TOOBIG] Message too big")
	tc.send("a3 NOOP\r\n")
	tc.expect("a3 OK NOOP completed")
}

// testTLSConfig returns a server config with a fresh self-signed
// certificate, and a client config that trusts it.
func testTLSConfig(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	return server, client
}

// startTLS upgrades the test client's connection.
func (tc *testClient) startTLS(cfg *tls.Config) {
	tc.t.Helper()
	tlsConn := tls.Client(tc.c, cfg)
	if err := tlsConn.Handshake(); err != nil {
		tc.t.Fatalf("handshake: %v", err)
	}
	tc.c = tlsConn
	tc.br = bufio.NewReader(tlsConn)
}

// TestStartTLS: on a non-loopback connection plaintext login is disabled
// until STARTTLS; afterwards STARTTLS and LOGINDISABLED are gone and
// LOGIN works.
func TestStartTLS(t *testing.T) {
	serverCfg, clientCfg := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) {
		o.TLSConfig = serverCfg
		o.IsLoopback = func(net.Addr) bool { return false }
	})
	tc := ts.dial(t)
	if got, want := tc.greet(), "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE OBJECTID STARTTLS LOGINDISABLED] Postern ready"; got != want {
		t.Fatalf("greeting = %q, want %q", got, want)
	}
	tc.send("a1 LOGIN alice secret\r\n")
	tc.expect("a1 NO [PRIVACYREQUIRED] Plaintext authentication is disabled without TLS")
	tc.send("a2 STARTTLS\r\n")
	tc.expect("a2 OK Begin TLS negotiation now")
	tc.startTLS(clientCfg)
	tc.send("a3 CAPABILITY\r\n")
	tc.expect("* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE OBJECTID AUTH=PLAIN AUTH=LOGIN",
		"a3 OK CAPABILITY completed")
	tc.send("a4 STARTTLS\r\n")
	tc.expect("a4 BAD TLS is already active")
	tc.send("a5 LOGIN alice secret\r\n")
	tc.expect("a5 OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE OBJECTID] Logged in")
}

// TestStartTLSInjection: commands pipelined after STARTTLS in the same
// packet, before the handshake, must never run inside the TLS session
// (CVE-2011-0411).
func TestStartTLSInjection(t *testing.T) {
	serverCfg, clientCfg := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLSConfig = serverCfg })
	tc := ts.dial(t)
	tc.greet()
	tc.send("a STARTTLS\r\nb LOGIN alice secret\r\n")
	tc.expect("a OK Begin TLS negotiation now")
	tc.startTLS(clientCfg)
	tc.send("c NOOP\r\n")
	// "b" must not have been answered, and the session must not be
	// logged in.
	tc.expect("c OK NOOP completed")
	tc.send("d SELECT INBOX\r\n")
	tc.expect("d BAD Command not allowed before login")
	ts.store.mu.Lock()
	calls := ts.store.loginCalls
	ts.store.mu.Unlock()
	if calls != 0 {
		t.Errorf("Login called %d times, want 0", calls)
	}
}

// TestImplicitTLS: ServeConn on a *tls.Conn knows the connection is
// encrypted (no STARTTLS, plaintext login allowed).
func TestImplicitTLS(t *testing.T) {
	serverCfg, clientCfg := testTLSConfig(t)
	st := newFakeStore()
	srv := New(Options{NewSession: newFakeSessionFunc(st, false), TLSConfig: serverCfg,
		IsLoopback: func(net.Addr) bool { return false }})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tls.NewListener(l, serverCfg)) }()
	defer func() {
		srv.Shutdown(context.Background())
		<-done
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	tc.expect("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE OBJECTID AUTH=PLAIN AUTH=LOGIN] Postern ready")
	tc.send("a1 STARTTLS\r\n")
	tc.expect("a1 BAD TLS is already active")
}

// TestExpungeRule: RFC 3501 §7.4.1, no EXPUNGE during FETCH, STORE, SEARCH
// (nor, here, their UID forms); they come with the next NOOP.
func TestExpungeRule(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	ts.store.expungeUID("INBOX", 2)
	for _, cmd := range []string{"FETCH 1 UID", "STORE 1 +FLAGS.SILENT (\\Seen)", "SEARCH UID 1", "UID FETCH 1 UID", "UID SEARCH 1"} {
		tc.send("a " + cmd + "\r\n")
		for _, l := range tc.until("a") {
			if strings.HasSuffix(l, "EXPUNGE") {
				t.Fatalf("%s: got %q", cmd, l)
			}
		}
	}
	tc.send("b NOOP\r\n")
	tc.expect("* 2 EXPUNGE", "b OK NOOP completed")
}

// TestInternalErrorHidden: an error that is not an *imap.Error is logged
// and the client sees only SERVERBUG.
func TestInternalErrorHidden(t *testing.T) {
	var logs lockedBuffer
	ts := newTestServer(t, func(o *Options) {
		o.Logger = slogTo(&logs)
	})
	tc := ts.dial(t)
	tc.greet()
	tc.send("a1 LOGIN crash x\r\n")
	tc.expect("a1 NO [SERVERBUG] Internal error; the administrator has been told")
	tc.send("a2 LOGOUT\r\n")
	tc.expect("* BYE Logging out", "a2 OK LOGOUT completed")
	tc.expectEOF()
	if !strings.Contains(logs.String(), "password database on fire") {
		t.Errorf("log = %q, want the internal error", logs.String())
	}
}

// panicSession panics in Login.
type panicSession struct{ *fakeSession }

func (panicSession) Login(ctx context.Context, u, p string) error { panic("boom") }

func TestPanicRecovered(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.NewSession = func(ctx context.Context, info *ConnInfo) (Session, error) {
			return panicSession{&fakeSession{st: newFakeStore(), info: info}}, nil
		}
		o.Logger = slogTo(io.Discard)
	})
	tc := ts.dial(t)
	tc.greet()
	tc.send("a1 LOGIN alice secret\r\n")
	tc.expect("* BYE Internal error; the administrator has been told")
	tc.expectEOF()
	// The server still serves others.
	tc2 := ts.dial(t)
	tc2.greet()
}

func TestNewSessionError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&imap.Error{Type: imap.StatusBYE, Code: imap.CodeUnavailable, Text: "Maintenance"}, "* BYE [UNAVAILABLE] Maintenance"},
		{errors.New("db down"), "* BYE [UNAVAILABLE] Service unavailable; the administrator has been told"},
	}
	for _, tt := range tests {
		ts := newTestServer(t, func(o *Options) {
			o.NewSession = func(context.Context, *ConnInfo) (Session, error) { return nil, tt.err }
			o.Logger = slogTo(io.Discard)
		})
		tc := ts.dial(t)
		tc.expect(tt.want)
		tc.expectEOF()
	}
}

func TestLoginTimeout(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginTimeout = 50 * time.Millisecond })
	tc := ts.dial(t)
	tc.greet()
	tc.expect("* BYE Autologout; idle for too long")
	tc.expectEOF()
}

func TestConnInfo(t *testing.T) {
	var got *ConnInfo
	infos := make(chan *ConnInfo, 1)
	ts := newTestServer(t, func(o *Options) {
		st := newFakeStore()
		inner := newFakeSessionFunc(st, false)
		o.NewSession = func(ctx context.Context, info *ConnInfo) (Session, error) {
			infos <- info
			return inner(ctx, info)
		}
	})
	tc := ts.dial(t)
	tc.greet()
	got = <-infos
	if !got.Loopback || got.TLS || got.ID == "" || got.RemoteAddr.Addr().String() != "127.0.0.1" ||
		got.RemoteAddr.Port() != uint16(tc.c.LocalAddr().(*net.TCPAddr).Port) {
		t.Errorf("ConnInfo = %+v", got)
	}
}

func TestShutdown(t *testing.T) {
	ts := newTestServer(t, nil)

	waiting := ts.dial(t) // waiting for a command
	waiting.login()

	idling := ts.dial(t) // in IDLE
	idling.selectInbox()
	idling.send("i IDLE\r\n")
	idling.expect("+ idling")

	busy := ts.dial(t) // in the middle of a FETCH
	busy.selectInbox()
	block, started := make(chan struct{}), make(chan struct{})
	ts.store.mu.Lock()
	ts.store.block, ts.store.fetchStarted = block, started
	ts.store.mu.Unlock()
	busy.send("f FETCH 1 UID\r\n")
	<-started

	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- ts.srv.Shutdown(context.Background()) }()

	waiting.expect("* BYE Server shutting down")
	waiting.expectEOF()
	idling.expect("* BYE Server shutting down")
	idling.expectEOF()

	// The FETCH in progress finishes, then its connection says BYE.
	close(block)
	busy.expect("* 1 FETCH (UID 1)", "f OK FETCH completed", "* BYE Server shutting down")
	busy.expectEOF()
	if err := <-shutdownDone; err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Errorf("Dial after Shutdown succeeded")
	}
	ts.store.mu.Lock()
	n := ts.store.sessions
	ts.store.mu.Unlock()
	if n != 0 {
		t.Errorf("%d sessions still open after Shutdown", n)
	}
}

// TestShutdownDeadline: a command that never ends is cut off when the
// Shutdown context ends.
func TestShutdownDeadline(t *testing.T) {
	ts := newTestServer(t, nil)
	busy := ts.dial(t)
	busy.selectInbox()
	block, started := make(chan struct{}), make(chan struct{})
	defer close(block)
	ts.store.mu.Lock()
	ts.store.block, ts.store.fetchStarted = block, started
	ts.store.mu.Unlock()
	busy.send("f FETCH 1 UID\r\n")
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown() = %v, want context.Canceled", err)
	}
	busy.expectEOF()
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func TestIdleKeepalive(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.srv.idleKeepalive = time.Millisecond
	tc := ts.dial(t)
	tc.selectInbox()
	tc.send("i IDLE\r\n")
	tc.expect("+ idling", "* OK Still here", "* OK Still here")
	tc.send("DONE\r\n")
	for {
		l, ok := tc.line()
		if !ok {
			t.Fatal("EOF before the end of IDLE")
		}
		if l == "i OK IDLE terminated" {
			break
		}
		if l != "* OK Still here" {
			t.Fatalf("read %q during IDLE", l)
		}
	}
}

// endSession records the reasons the server gives for ending a session.
type endSession struct {
	Session
	reasons chan string
}

func (e endSession) SetEndReason(r string) { e.reasons <- r }

func TestEndReason(t *testing.T) {
	tests := []struct {
		name string
		end  func(tc *testClient)
		want string
	}{
		{"idle timer", func(tc *testClient) { tc.expect("* BYE Autologout; idle for too long") }, "Autologout"},
		{"client gone", func(tc *testClient) { tc.c.Close() }, "Unexpected client disconnect, while reading line"},
	}
	for _, tt := range tests {
		reasons := make(chan string, 2)
		ts := newTestServer(t, func(o *Options) {
			o.IdleTimeout = 100 * time.Millisecond
			fake := o.NewSession
			o.NewSession = func(ctx context.Context, info *ConnInfo) (Session, error) {
				s, err := fake(ctx, info)
				return endSession{s, reasons}, err
			}
		})
		tc := ts.dial(t)
		tc.login()
		tt.end(tc)
		select {
		case got := <-reasons:
			if got != tt.want {
				t.Errorf("%s: SetEndReason(%q), want %q", tt.name, got, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: SetEndReason not called", tt.name)
		}
	}
}

// A command that starts and never ends is cut off with a BYE saying why:
// before login by the login timeout, after it by the literal timeout
// (a slowloris; RFC 3501 §7.1.5).
func TestCommandTimeout(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.LoginTimeout = 100 * time.Millisecond })
	tc := ts.dial(t)
	tc.greet()
	tc.send("a LOGIN alice")
	tc.expect("* BYE Autologout; login took too long")
	tc.expectEOF()

	ts = newTestServer(t, func(o *Options) { o.LiteralTimeout = 100 * time.Millisecond })
	tc = ts.dial(t)
	tc.login()
	tc.send("a NOOP")
	tc.expect("* BYE Autologout; command not completed in time")
	tc.expectEOF()

	tc = ts.dial(t)
	tc.login()
	tc.send("a APPEND INBOX {100+}\r\nhalf a message")
	tc.expect("* BYE Autologout; command not completed in time")
	tc.expectEOF()
}
