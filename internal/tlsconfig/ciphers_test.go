package tlsconfig

import (
	"crypto/tls"
	"testing"
)

// TestCipherSuites: a TLS 1.2 client offering only a CBC-SHA1 suite (in
// Go's defaults, not in Mozilla intermediate) is refused; each suite of
// CipherSuites that suits an ECDSA certificate is negotiated.
func TestCipherSuites(t *testing.T) {
	s, err := Load(writeCert(t, t.TempDir(), "a", "a.example"))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s.Config())
	for _, cs := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256} {
		if _, _, err := dial(t, addr, "a.example", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cs}}); err == nil {
			t.Errorf("TLS 1.2 handshake offering only %s succeeded, want refusal", tls.CipherSuiteName(cs))
		}
	}
	for _, cs := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		c, _, err := dial(t, addr, "a.example", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{cs}})
		if err != nil {
			t.Errorf("TLS 1.2 with %s: %v, want success", tls.CipherSuiteName(cs), err)
		} else if got := c.ConnectionState().CipherSuite; got != cs {
			t.Errorf("negotiated %s, want %s", tls.CipherSuiteName(got), tls.CipherSuiteName(cs))
		}
	}
	for _, cs := range CipherSuites {
		for _, in := range tls.InsecureCipherSuites() {
			if in.ID == cs {
				t.Errorf("CipherSuites has %s, which crypto/tls calls insecure", in.Name)
			}
		}
	}
}
