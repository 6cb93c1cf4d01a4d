package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert writes a self-signed certificate for names to dir and returns
// its certificate and key PEM.
func testCert(t *testing.T, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeCert writes a certificate for names as NAME.crt and NAME.key in dir.
func writeCert(t *testing.T, dir, name string, names ...string) (certFile, keyFile string) {
	t.Helper()
	c, k := testCert(t, names...)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// serve runs a TLS echo server on loopback with cfg and returns its
// address. Handshake errors are sent on errc.
func serve(t *testing.T, cfg *tls.Config) (addr string, errc <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan error, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				if err := tc.Handshake(); err != nil {
					ch <- err
					return
				}
				io.Copy(tc, tc)
			}()
		}
	}()
	return l.Addr().String(), ch
}

// dial connects with SNI name (none if "") and returns the connection and
// the first DNS name of the server's certificate.
func dial(t *testing.T, addr, name string, cfg *tls.Config) (*tls.Conn, string, error) {
	t.Helper()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.InsecureSkipVerify = true
	cfg.ServerName = name
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, "", err
	}
	t.Cleanup(func() { c.Close() })
	return c, c.ConnectionState().PeerCertificates[0].DNSNames[0], nil
}

func TestSNI(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(writeCert(t, dir, "a", "a.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(writeCert(t, dir, "b", "b.example")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(writeCert(t, dir, "c", "*.c.example")); err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s.Config())
	tests := []struct{ sni, want string }{
		{"a.example", "a.example"},
		{"b.example", "b.example"},
		{"B.Example", "b.example"},
		{"x.c.example", "*.c.example"},
		{"other.example", "a.example"},
		{"", "a.example"},
	}
	for _, tt := range tests {
		_, got, err := dial(t, addr, tt.sni, nil)
		if err != nil || got != tt.want {
			t.Errorf("handshake with SNI %q: certificate %q, %v, want %q", tt.sni, got, err, tt.want)
		}
	}
	leaves := s.Certificates()
	if len(leaves) != 3 || leaves[1].DNSNames[0] != "b.example" {
		t.Errorf("Certificates() = %d leaves, want 3 with b.example second", len(leaves))
	}
}

func TestMinVersion(t *testing.T) {
	dir := t.TempDir()
	s, err := Load(writeCert(t, dir, "a", "a.example"))
	if err != nil {
		t.Fatal(err)
	}
	addr, errc := serve(t, s.Config())
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, _, err := dial(t, addr, "a.example", &tls.Config{MinVersion: v, MaxVersion: v})
		if err == nil {
			t.Errorf("handshake at %s succeeded, want refusal", tls.VersionName(v))
			continue
		}
		if serr := <-errc; !strings.Contains(serr.Error(), "version") {
			t.Errorf("server error at %s = %v, want a protocol version error", tls.VersionName(v), serr)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c, _, err := dial(t, addr, "a.example", &tls.Config{MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Errorf("handshake at %s = %v, want success", tls.VersionName(v), err)
		} else if got := c.ConnectionState().Version; got != v {
			t.Errorf("negotiated %s, want %s", tls.VersionName(got), tls.VersionName(v))
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "a", "old.example")
	s, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s.Config())
	old, got, err := dial(t, addr, "", nil)
	if err != nil || got != "old.example" {
		t.Fatalf("first handshake: %q, %v, want old.example", got, err)
	}

	// Replace the files and reload.
	c, k := testCert(t, "new.example")
	os.WriteFile(certFile, c, 0o600)
	os.WriteFile(keyFile, k, 0o600)
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload = %v", err)
	}
	if _, got, err := dial(t, addr, "", nil); err != nil || got != "new.example" {
		t.Errorf("handshake after Reload: %q, %v, want new.example", got, err)
	}

	// The old session is untouched and still works.
	if got := old.ConnectionState().PeerCertificates[0].DNSNames[0]; got != "old.example" {
		t.Errorf("old session's certificate = %q, want old.example", got)
	}
	echo(t, old, "still here")

	// A failed reload keeps the certificate in use and names the file.
	os.WriteFile(keyFile, []byte("garbage"), 0o600)
	err = s.Reload()
	if err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("Reload with a bad key = %v, want an error naming %s", err, keyFile)
	}
	if _, got, err := dial(t, addr, "", nil); err != nil || got != "new.example" {
		t.Errorf("handshake after failed Reload: %q, %v, want new.example", got, err)
	}
}

func echo(t *testing.T, c *tls.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write on old session: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo on old session = %q, %v, want %q", buf, err, msg)
	}
}

func TestCombinedFile(t *testing.T) {
	dir := t.TempDir()
	c, k := testCert(t, "combined.example")
	for _, tt := range []struct {
		name    string
		content []byte
	}{
		{"key-first.pem", append(append([]byte{}, k...), c...)}, // as UW's SSLBUILD shows
		{"cert-first.pem", append(append([]byte{}, c...), k...)},
	} {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, tt.content, 0o600)
		s, err := Load(path, "")
		if err != nil {
			t.Errorf("Load(%s, \"\") = %v", tt.name, err)
			continue
		}
		addr, _ := serve(t, s.Config())
		if _, got, err := dial(t, addr, "combined.example", nil); err != nil || got != "combined.example" {
			t.Errorf("%s: handshake = %q, %v, want combined.example", tt.name, got, err)
		}
		// The same file named as both, as UWDefaultPaths returns it.
		if _, err := Load(path, path); err != nil {
			t.Errorf("Load(%s, %s) = %v", tt.name, tt.name, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	c, k := testCert(t, "a.example")
	_, k2 := testCert(t, "b.example")
	file := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, content, 0o600)
		return p
	}
	certF := file("cert.pem", c)
	keyF := file("key.pem", k)
	otherKey := file("other-key.pem", k2)
	empty := file("empty.pem", nil)
	missing := filepath.Join(dir, "missing.pem")
	encKey := file("enc.pem", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))
	legacyEnc := file("legacy-enc.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}))
	garbledKey := file("garbled-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}))

	tests := []struct {
		cert, key string
		want      []string // substrings of the error
	}{
		{missing, keyF, []string{missing, "no such file"}},
		{certF, missing, []string{missing, "no such file"}},
		{empty, keyF, []string{empty, "no PEM CERTIFICATE"}},
		{keyF, keyF, []string{keyF, "no PEM CERTIFICATE"}},
		{certF, certF, []string{certF, "no PEM PRIVATE KEY"}},
		{certF, "", []string{certF, "no PEM PRIVATE KEY", "must be in the certificate file"}},
		{certF, encKey, []string{encKey, "encrypted"}},
		{certF, legacyEnc, []string{legacyEnc, "encrypted"}},
		{certF, otherKey, []string{certF, otherKey, "does not match"}},
		{certF, garbledKey, []string{certF, garbledKey}},
	}
	for _, tt := range tests {
		_, err := Load(tt.cert, tt.key)
		if err == nil {
			t.Errorf("Load(%s, %s) = nil error, want one", filepath.Base(tt.cert), filepath.Base(tt.key))
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%s, %s) = %q, want it to contain %q", filepath.Base(tt.cert), filepath.Base(tt.key), err, w)
			}
		}
		if !strings.HasPrefix(err.Error(), "tlsconfig: ") {
			t.Errorf("Load error %q lacks the package prefix", err)
		}
	}
	if _, err := Load(missing, ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want it to wrap os.ErrNotExist", err)
	}

	var s Store
	if _, err := s.getCertificate(&tls.ClientHelloInfo{}); err == nil {
		t.Errorf("empty Store: getCertificate = nil error, want one")
	}
}
