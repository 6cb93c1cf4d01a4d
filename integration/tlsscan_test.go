package integration

import (
	"bufio"
	"encoding/xml"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TLS as a scanner sees it (issue 8 item 7): Debian's sslscan against
// every TLS entry of the daemon, implicit (imaps, pop3s) and STARTTLS/STLS
// (RFC 2595), on 127.0.0.1 and ::1. The policy checked is Mozilla's
// "intermediate" server-side TLS configuration, the one tlsconfig
// follows: TLS 1.2 and 1.3 only (RFC 8996 retires 1.0 and 1.1), TLS 1.2
// suites with ECDHE key exchange and an AEAD cipher only (no NULL, EXPORT,
// anonymous, RC4, DES/3DES, MD5, nor CBC with SHA-1 or SHA-2), no TLS
// compression (CRIME), no insecure renegotiation, a certificate key of at
// least 2048-bit RSA or an ECDSA key on P-256 or P-384.

// sslscanDoc is the part of `sslscan --xml=-` the test reads.
type sslscanDoc struct {
	Tests []struct {
		Host      string `xml:"host,attr"`
		Port      string `xml:"port,attr"`
		Protocols []struct {
			Type    string `xml:"type,attr"`
			Version string `xml:"version,attr"`
			Enabled string `xml:"enabled,attr"`
		} `xml:"protocol"`
		Renegotiation []struct {
			Supported string `xml:"supported,attr"`
			Secure    string `xml:"secure,attr"`
		} `xml:"renegotiation"`
		Compression []struct {
			Supported string `xml:"supported,attr"`
		} `xml:"compression"`
		Heartbleed []struct {
			Vulnerable string `xml:"vulnerable,attr"`
		} `xml:"heartbleed"`
		Ciphers []struct {
			Version  string `xml:"sslversion,attr"`
			Name     string `xml:"cipher,attr"`
			Bits     int    `xml:"bits,attr"`
			Strength string `xml:"strength,attr"`
		} `xml:"cipher"`
		Groups []struct {
			Name string `xml:"name,attr"`
			Bits int    `xml:"bits,attr"`
		} `xml:"group"`
		Certs []struct {
			PK struct {
				Type  string `xml:"type,attr"`
				Curve string `xml:"curve_name,attr"`
				Bits  int    `xml:"bits,attr"`
			} `xml:"pk"`
			SigAlg string `xml:"signature-algorithm"`
		} `xml:"certificates>certificate"`
	} `xml:"ssltest"`
}

// allowedSuites are Mozilla intermediate's suites as OpenSSL names them:
// TLS 1.3's three, and TLS 1.2's ECDHE+AEAD (crypto/tls has no DHE).
var allowedSuites = map[string]bool{
	"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true,
	"ECDHE-ECDSA-AES128-GCM-SHA256": true, "ECDHE-RSA-AES128-GCM-SHA256": true,
	"ECDHE-ECDSA-AES256-GCM-SHA384": true, "ECDHE-RSA-AES256-GCM-SHA384": true,
	"ECDHE-ECDSA-CHACHA20-POLY1305": true, "ECDHE-RSA-CHACHA20-POLY1305": true,
}

// weakSuite names what must never appear, whatever the allow list says.
var weakSuite = regexp.MustCompile(`NULL|EXPORT|EXP-|ADH|AECDH|anon|RC4|DES|MD5|IDEA|SEED|CAMELLIA|PSK|SRP|CBC|-SHA$`)

// TestTLSScan runs sslscan against the eight TLS entries of one daemon.
func TestTLSScan(t *testing.T) {
	sslscan := needProgram(t, "sslscan")
	addrs := startTLSDaemon(t)
	for _, tt := range []struct{ svc, flag string }{
		{"imaps", ""}, {"imap", "--starttls-imap"}, {"pop3s", ""}, {"pop3", "--starttls-pop3"},
	} {
		for _, addr := range addrs[tt.svc] {
			t.Run(tt.svc+" "+addr, func(t *testing.T) {
				args := []string{"--no-colour", "--xml=-"}
				if tt.flag != "" {
					args = append(args, tt.flag)
				}
				out := runProgram(t, nil, sslscan, append(args, addr)...)
				checkScan(t, out)
			})
		}
	}
}

// checkScan checks one sslscan XML report against the policy.
func checkScan(t *testing.T, out []byte) {
	t.Helper()
	i := strings.Index(string(out), "<document")
	if i < 0 {
		t.Fatalf("sslscan printed no XML report:\n%s", out)
	}
	var doc sslscanDoc
	if err := xml.Unmarshal(out[i:], &doc); err != nil {
		t.Fatalf("sslscan XML: %v\n%s", err, out)
	}
	if len(doc.Tests) != 1 {
		t.Fatalf("sslscan reports %d tests, want 1:\n%s", len(doc.Tests), out)
	}
	r := doc.Tests[0]
	defer func() {
		if t.Failed() {
			t.Logf("sslscan report:\n%s", out[i:])
		}
	}()
	enabled := map[string]string{}
	for _, p := range r.Protocols {
		enabled[p.Type+p.Version] = p.Enabled
	}
	for proto, want := range map[string]string{"ssl2": "0", "ssl3": "0", "tls1.0": "0", "tls1.1": "0", "tls1.2": "1", "tls1.3": "1"} {
		if enabled[proto] != want {
			t.Errorf("%s enabled = %q, want %q", proto, enabled[proto], want)
		}
	}
	if len(r.Ciphers) == 0 {
		t.Errorf("no cipher suite accepted")
	}
	for _, c := range r.Ciphers {
		if !allowedSuites[c.Name] || weakSuite.MatchString(c.Name) || c.Bits < 128 || c.Strength == "weak" || c.Strength == "medium" || c.Strength == "null" {
			t.Errorf("%s accepts %s (%d bits, %s): not in Mozilla intermediate", c.Version, c.Name, c.Bits, c.Strength)
		}
		if c.Version != "TLSv1.2" && c.Version != "TLSv1.3" {
			t.Errorf("a cipher suite is accepted at %s", c.Version)
		}
	}
	for _, g := range r.Groups {
		if g.Bits < 128 {
			t.Errorf("key exchange group %s has %d bits of security, want 128 or more", g.Name, g.Bits)
		}
	}
	for _, rn := range r.Renegotiation {
		if rn.Supported == "1" && rn.Secure != "1" {
			t.Errorf("insecure renegotiation is supported")
		}
	}
	for _, c := range r.Compression {
		if c.Supported != "0" {
			t.Errorf("TLS compression is supported (CRIME)")
		}
	}
	for _, h := range r.Heartbleed {
		if h.Vulnerable != "0" {
			t.Errorf("heartbleed: vulnerable")
		}
	}
	if len(r.Certs) == 0 {
		t.Fatalf("no certificate in the report")
	}
	for _, c := range r.Certs {
		switch pk := c.PK; {
		case pk.Type == "EC" && (pk.Curve == "prime256v1" || pk.Curve == "secp384r1"):
		case pk.Type == "RSA" && pk.Bits >= 2048:
		default:
			t.Errorf("certificate key %s %s %d bits: want RSA >= 2048 or EC P-256/P-384", pk.Type, pk.Curve, pk.Bits)
		}
		if strings.Contains(strings.ToLower(c.SigAlg), "sha1") || strings.Contains(strings.ToLower(c.SigAlg), "md5") {
			t.Errorf("certificate signed with %s", c.SigAlg)
		}
	}
}

// startTLSDaemon runs the demo daemon with all four services on 127.0.0.1
// and ::1 and returns the addresses by service.
func startTLSDaemon(t *testing.T) map[string][]string {
	t.Helper()
	args := []string{"serve", "--demo", "--data", t.TempDir()}
	for _, svc := range []string{"imap", "imaps", "pop3", "pop3s"} {
		args = append(args, "--listen", svc+"=127.0.0.1:0", "--listen", svc+"=[::1]:0")
	}
	cmd := exec.Command(posternBin, args...)
	log := &lockedBuffer{}
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-done
			t.Errorf("postern did not stop within %v", stopTimeout)
		}
		if t.Failed() {
			t.Logf("postern log:\n%s", log)
		}
	})
	addrs := map[string][]string{}
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		n := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "listening:" {
				addrs[f[1]] = append(addrs[f[1]], f[2])
				if n++; n == 8 {
					close(found)
					break
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-found:
	case <-time.After(startTimeout):
		t.Fatalf("postern did not print its 8 listeners within %v\nlog:\n%s", startTimeout, log)
	}
	for svc, a := range addrs {
		if len(a) != 2 {
			t.Fatalf("%s listeners %v, want 127.0.0.1 and ::1", svc, a)
		}
		if _, err := strconv.Atoi(a[0][strings.LastIndex(a[0], ":")+1:]); err != nil {
			t.Fatalf("%s listener %q", svc, a[0])
		}
	}
	return addrs
}
