package tlsconfig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	certFile, keyFile, err := SelfSigned(dir, []string{"mail.example", "192.0.2.10", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certFile, keyFile} {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(f), info.Mode().Perm())
		}
	}
	s, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatalf("Load(SelfSigned files) = %v", err)
	}
	leaf := s.Certificates()[0]
	if got := fmt.Sprint(leaf.DNSNames, leaf.IPAddresses); got != "[localhost mail.example] [127.0.0.1 ::1 192.0.2.10]" {
		t.Errorf("SANs = %s, want [localhost mail.example] [127.0.0.1 ::1 192.0.2.10]", got)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key = %T, want ECDSA P-256", leaf.PublicKey)
	}

	// A client that trusts the certificate verifies every name.
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	addr, _ := serve(t, s.Config())
	for _, name := range []string{"localhost", "mail.example", "127.0.0.1"} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: name})
		if err != nil {
			t.Errorf("verified handshake for %q = %v", name, err)
			continue
		}
		c.Close()
	}

	// Reused when it covers the names asked for.
	before, _ := os.ReadFile(certFile)
	if _, _, err := SelfSigned(dir, []string{"mail.example"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(certFile)
	if !bytes.Equal(before, after) {
		t.Errorf("SelfSigned with covered names rewrote the certificate, want it reused")
	}
	// Regenerated when a name is new.
	if _, _, err := SelfSigned(dir, []string{"other.example"}); err != nil {
		t.Fatal(err)
	}
	after, _ = os.ReadFile(certFile)
	if bytes.Equal(before, after) {
		t.Errorf("SelfSigned with a new name kept the old certificate, want a new one")
	}
}

func TestUWPaths(t *testing.T) {
	dir := t.TempDir()
	certDir, keyDir := filepath.Join(dir, "certs"), filepath.Join(dir, "private")
	os.MkdirAll(keyDir, 0o700)
	os.WriteFile(filepath.Join(keyDir, "imapd.pem"), nil, 0o600)
	tests := []struct {
		program, cert, key string
	}{
		{"imapd", certDir + "/imapd.pem", keyDir + "/imapd.pem"},
		{"/usr/local/sbin/imapd", certDir + "/imapd.pem", keyDir + "/imapd.pem"},
		{"ipop3d", certDir + "/ipop3d.pem", certDir + "/ipop3d.pem"},
	}
	for _, tt := range tests {
		cert, key := uwPaths(certDir, keyDir, tt.program)
		if cert != tt.cert || key != tt.key {
			t.Errorf("uwPaths(%q) = %q, %q, want %q, %q", tt.program, cert, key, tt.cert, tt.key)
		}
	}
	if cert, _ := UWDefaultPaths("imapd"); cert != "/etc/ssl/certs/imapd.pem" {
		t.Errorf("UWDefaultPaths(imapd) cert = %q, want /etc/ssl/certs/imapd.pem", cert)
	}
}
