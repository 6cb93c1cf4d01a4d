// Package tlsconfig loads server certificates for crypto/tls: PEM chains
// and keys (a single combined file as UW imapd used is accepted), several
// certificates chosen by SNI (RFC 6066 §3), reload on SIGHUP without
// touching established sessions, TLS 1.2 as the floor (RFC 8996 deprecates
// 1.0 and 1.1), and self-signed certificates for demo mode (DESIGN.md §5).
package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// MinVersion is the lowest TLS version Config allows (RFC 8996).
const MinVersion = tls.VersionTLS12

// CipherSuites are the TLS 1.2 suites Config allows: Mozilla's
// "intermediate" recommendation (Server Side TLS 5.x) less the DHE suites,
// which crypto/tls does not implement: ECDHE key exchange (forward
// secrecy) with an AEAD cipher (RFC 7905, RFC 5289 §3.2), for ECDSA and
// RSA certificates. Go's default list also has the CBC suites with
// HMAC-SHA1 (ECDHE-*-AES128-SHA, AES256-SHA), which Mozilla dropped from
// intermediate: every client that speaks TLS 1.2 has one of these (Mozilla
// names Firefox 27, Chrome 31, IE 11 on Windows 7, Java 8u31, OpenSSL
// 1.0.1, Safari 9). TLS 1.3's suites (RFC 8446 §B.4) are all AEAD and are
// not configurable in crypto/tls.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// pair names the files of one certificate.
type pair struct {
	certFile, keyFile string // keyFile "" means the key is in certFile
}

// Store holds the server's certificates. The first one added is the
// default, served when SNI names no other. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	pairs []pair             // guarded by mu
	certs []*tls.Certificate // guarded by mu; replaced whole, never modified in place
}

// Load returns a Store holding the certificate chain in certFile and its
// private key in keyFile, both PEM. An empty keyFile means the key is in
// certFile too (a combined file, as UW imapd used).
func Load(certFile, keyFile string) (*Store, error) {
	s := new(Store)
	if err := s.Add(certFile, keyFile); err != nil {
		return nil, err
	}
	return s, nil
}

// Add loads one more certificate, as Load does. It is served to clients
// whose SNI server name it covers and no earlier certificate covers.
func (s *Store) Add(certFile, keyFile string) error {
	c, err := loadPair(pair{certFile, keyFile})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pairs = append(s.pairs, pair{certFile, keyFile})
	s.certs = append(s.certs[:len(s.certs):len(s.certs)], c)
	return nil
}

// Reload rereads every certificate from its files (for SIGHUP). It is all
// or nothing: if any pair fails to load, the certificates in use are kept
// and the error says which files failed. Established sessions are never
// affected; new handshakes use the new certificates.
func (s *Store) Reload() error {
	s.mu.RLock()
	pairs := s.pairs
	s.mu.RUnlock()
	certs := make([]*tls.Certificate, 0, len(pairs))
	var errs []error
	for _, p := range pairs {
		c, err := loadPair(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		certs = append(certs, c)
	}
	if len(errs) > 0 {
		return fmt.Errorf("tlsconfig: reload failed, keeping the certificates in use: %w", errors.Join(errs...))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Pairs added while we were reading are kept; their certificates are
	// as fresh as ours.
	if len(s.certs) > len(certs) {
		certs = append(certs, s.certs[len(certs):]...)
	}
	s.certs = certs
	return nil
}

// Certificates returns the leaf certificate of each pair, default first,
// for reporting (expiry, names) in `postern check`.
func (s *Store) Certificates() []*x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	leaves := make([]*x509.Certificate, len(s.certs))
	for i, c := range s.certs {
		leaves[i] = c.Leaf
	}
	return leaves
}

// Config returns a server configuration that takes its certificate from
// the Store at each handshake, so that Reload applies to new connections.
// Versions and cipher suites are MinVersion and CipherSuites.
// The caller may set further fields (NextProtos, session tickets) on the
// copy it gets.
func (s *Store) Config() *tls.Config {
	return &tls.Config{
		MinVersion:     MinVersion,
		CipherSuites:   CipherSuites,
		GetCertificate: s.getCertificate,
	}
}

// getCertificate picks the certificate for a ClientHello: the first that
// covers the SNI name and suits the client's algorithms, else the first
// that covers the name, else the default.
func (s *Store) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	certs := s.certs
	s.mu.RUnlock()
	if len(certs) == 0 {
		return nil, errors.New("tlsconfig: no certificate loaded")
	}
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name != "" && len(certs) > 1 {
		var covering *tls.Certificate
		for _, c := range certs {
			if c.Leaf.VerifyHostname(name) != nil {
				continue
			}
			if hello.SupportsCertificate(c) == nil {
				return c, nil
			}
			if covering == nil {
				covering = c
			}
		}
		if covering != nil {
			return covering, nil
		}
	}
	return certs[0], nil
}

// loadPair reads and checks one certificate and key, with errors that name
// the file at fault.
func loadPair(p pair) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(p.certFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: %w", err)
	}
	keyFile, keyPEM := p.keyFile, certPEM
	if keyFile == "" {
		keyFile = p.certFile
	} else if keyPEM, err = os.ReadFile(keyFile); err != nil {
		return nil, fmt.Errorf("tlsconfig: %w", err)
	}
	if !hasBlock(certPEM, func(b *pem.Block) bool { return b.Type == "CERTIFICATE" }) {
		return nil, fmt.Errorf("tlsconfig: %s: no PEM CERTIFICATE block", p.certFile)
	}
	if hasBlock(keyPEM, func(b *pem.Block) bool {
		return b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
	}) {
		return nil, fmt.Errorf("tlsconfig: %s: the private key is encrypted; a server needs it unencrypted (readable by root only)", keyFile)
	}
	if !hasBlock(keyPEM, func(b *pem.Block) bool { return strings.HasSuffix(b.Type, "PRIVATE KEY") }) {
		if p.keyFile == "" {
			return nil, fmt.Errorf("tlsconfig: %s: no PEM PRIVATE KEY block (no key file was given, so the key must be in the certificate file)", keyFile)
		}
		return nil, fmt.Errorf("tlsconfig: %s: no PEM PRIVATE KEY block", keyFile)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: certificate %s with key %s: %w", p.certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tlsconfig: %s: %w", p.certFile, err)
		}
	}
	return &c, nil
}

// hasBlock reports whether data holds a PEM block for which match is true.
func hasBlock(data []byte, match func(*pem.Block) bool) bool {
	for len(bytes.TrimSpace(data)) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if match(b) {
			return true
		}
	}
	return false
}
