package listen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

func serverConfig(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// safety bounds each blocking step so that a broken implementation fails
// instead of hanging; no assertion depends on it.
const safety = 10 * time.Second

func TestTLSListenerStalledClient(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := TLSListener(raw, serverConfig(t))
	defer l.Close()

	// A client that connects and never speaks.
	stalled, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	s1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if _, ok := s1.(*tls.Conn); !ok {
		t.Fatalf("Accept returned %T, want *tls.Conn", s1)
	}

	// A well-behaved client behind it is accepted and served.
	type result struct {
		c   *tls.Conn
		err error
	}
	dialed := make(chan result, 1)
	go func() {
		c, err := tls.Dial("tcp", raw.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		dialed <- result{c, err}
	}()
	s2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.SetDeadline(time.Now().Add(safety))
	if _, err := io.WriteString(s2, "* OK hello\r\n"); err != nil {
		t.Fatalf("greeting to the second client: %v", err)
	}
	r := <-dialed
	if r.err != nil {
		t.Fatalf("second client's handshake: %v", r.err)
	}
	defer r.c.Close()
	r.c.SetDeadline(time.Now().Add(safety))
	buf := make([]byte, len("* OK hello\r\n"))
	if _, err := io.ReadFull(r.c, buf); err != nil || string(buf) != "* OK hello\r\n" {
		t.Errorf("second client read %q, %v, want the greeting", buf, err)
	}
	if st := s2.(*tls.Conn).ConnectionState(); !st.HandshakeComplete || st.Version < tls.VersionTLS12 {
		t.Errorf("second connection state: complete=%v version=%x", st.HandshakeComplete, st.Version)
	}
	// (s1.ConnectionState would block here: it waits for the handshake.)
}

func TestTLSListenerHandshakeTimeout(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &tlsListener{Listener: raw, cfg: serverConfig(t), timeout: 50 * time.Millisecond}
	defer l.Close()
	stalled, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// After the timeout the server closes the connection: the client
	// sees EOF, the server's first write the handshake error.
	stalled.SetReadDeadline(time.Now().Add(safety))
	if n, err := stalled.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("stalled client Read = %d, %v, want 0, EOF", n, err)
	}
	s.SetDeadline(time.Now().Add(safety))
	if _, err := io.WriteString(s, "* OK hello\r\n"); err == nil {
		t.Errorf("server Write after handshake timeout = nil error, want one")
	}
}
