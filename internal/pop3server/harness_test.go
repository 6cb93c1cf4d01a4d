package pop3server

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
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
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
	// implicitTLS: the listener speaks TLS from the first octet (pop3s).
	implicitTLS bool
}

// newTestServer starts a server with STLS available; opt may adjust the
// options.
func newTestServer(t testing.TB, opt func(*Options)) *testServer {
	t.Helper()
	return newTestServerStore(t, newFakeStore(), opt)
}

// newTestServerStore is newTestServer over st, for options that need it.
func newTestServerStore(t testing.TB, st *fakeStore, opt func(*Options)) *testServer {
	t.Helper()
	opts := Options{
		NewSession: newFakeSessionFunc(st, false),
		Logger:     slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		TLSConfig:  testTLSConfig(t),
		Hostname:   "pop.example.org",
	}
	if opt != nil {
		opt(&opts)
	}
	return startServer(t, st, opts, false)
}

func startServer(t testing.TB, st *fakeStore, opts Options, implicitTLS bool) *testServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if implicitTLS {
		l = tls.NewListener(l, opts.TLSConfig)
	}
	ts := &testServer{srv: New(opts), addr: addr, store: st, done: make(chan error, 1), implicitTLS: implicitTLS}
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

var (
	tlsOnce sync.Once
	tlsCert tls.Certificate
	tlsErr  error
)

// testTLSConfig returns a server config with a self-signed certificate,
// made once per test binary.
func testTLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	tlsOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tlsErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "pop.example.org"},
			DNSNames:     []string{"pop.example.org"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			tlsErr = err
			return
		}
		tlsCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	if tlsErr != nil {
		t.Fatal(tlsErr)
	}
	return &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}
}

// testLogWriter sends server logs to the test log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// testClient speaks raw POP3.
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
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(safetyTimeout))
	tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
	if ts.implicitTLS {
		tc.startTLS()
	}
	return tc
}

// startTLS runs the client side of a TLS handshake on the connection.
func (tc *testClient) startTLS() {
	tc.t.Helper()
	if n := tc.br.Buffered(); n > 0 {
		tc.t.Fatalf("%d octets buffered before the TLS handshake", n)
	}
	c := tls.Client(tc.c, &tls.Config{ServerName: "pop.example.org", InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		tc.t.Fatalf("TLS handshake: %v", err)
	}
	tc.c = c
	tc.br = bufio.NewReader(c)
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

// greet reads the greeting and returns it.
func (tc *testClient) greet() string {
	tc.t.Helper()
	l, ok := tc.line()
	if !ok || !strings.HasPrefix(l, "+OK ") {
		tc.t.Fatalf("greeting = %q", l)
	}
	return l
}

// login greets and logs in as alice.
func (tc *testClient) login() {
	tc.t.Helper()
	tc.greet()
	tc.send("USER alice\r\nPASS secret\r\n")
	tc.expect("+OK User name accepted, password please", "+OK Mailbox open, 4 messages")
}

// tlsClient wraps c in the client side of TLS for the test certificate.
func tlsClient(c net.Conn) *tls.Conn {
	return tls.Client(c, &tls.Config{ServerName: "pop.example.org", InsecureSkipVerify: true})
}
