package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/listen"
	"github.com/postern/postern/internal/netns"
)

// writeCert writes a self-signed certificate for name, valid from
// notBefore to notAfter, and its key, into dir.
func writeCert(t *testing.T, dir, name string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{name},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// readLeaf parses the first certificate in a PEM file.
func readLeaf(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkFixture is a demo data directory with a configuration that has
// the demo's certificate as default, one SNI certificate and three
// listeners, and a clock at the demo certificate's issue time.
type checkFixture struct {
	dir, conf   string
	cfg         *config.Config
	now         time.Time
	demoLeaf    *x509.Certificate
	sysctlFile  string
	sniCert     string
	sniNotAfter time.Time
}

func newCheckFixture(t *testing.T, sniFrom, sniTo time.Duration) *checkFixture {
	t.Helper()
	dir := t.TempDir()
	cfg, err := demo.Setup(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &checkFixture{dir: dir, cfg: cfg, demoLeaf: readLeaf(t, cfg.TLSCert)}
	// tlsconfig.SelfSigned backdates NotBefore by an hour.
	f.now = f.demoLeaf.NotBefore.Add(time.Hour)
	sniCert, sniKey := writeCert(t, dir, "mail.example.org", f.now.Add(sniFrom), f.now.Add(sniTo))
	f.sniCert, f.sniNotAfter = sniCert, f.now.Add(sniTo)
	cfg.SNICerts = []config.CertPair{{Cert: sniCert, Key: sniKey}}
	cfg.Listeners = []config.Listener{
		{Service: config.ServiceIMAP, Addr: "[::]:143"},
		{Service: config.ServiceIMAPS, Addr: "0.0.0.0:993"},
		{Service: config.ServiceIMAPS, Addr: "[::]:993"},
		{Service: config.ServiceIMAPS, Addr: "127.0.0.1:10993"},
	}
	f.writeConf(t)
	f.sysctlFile = filepath.Join(dir, "bindv6only")
	if err := os.WriteFile(f.sysctlFile, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *checkFixture) writeConf(t *testing.T) {
	t.Helper()
	f.conf = filepath.Join(f.dir, "check.conf")
	if err := os.WriteFile(f.conf, []byte(f.cfg.Format()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs the checker with the fixture's clock and sysctl file, the
// real listen.Plan, and probe as the dual-stack probe.
func (f *checkFixture) run(probe func(context.Context) error) (string, error) {
	var out bytes.Buffer
	c := checker{out: &out, now: f.now, bindV6Only: f.sysctlFile, probe: probe, plan: listen.Plan}
	err := c.run([]string{"-c", f.conf})
	return out.String(), err
}

func probeOK(context.Context) error { return nil }

func TestCheckReport(t *testing.T) {
	f := newCheckFixture(t, -24*time.Hour, 10*24*time.Hour+time.Hour)
	got, err := f.run(probeOK)
	if err != nil {
		t.Fatalf("check = %v, want no error; output:\n%s", err, got)
	}
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
	want := strings.Join([]string{
		"Configuration " + f.conf,
		"  OK: valid; virtual users from " + filepath.Join(f.dir, "passwd") + ", mail in maildir",
		"",
		"Certificates",
		"  default " + filepath.Join(f.dir, "tls", "demo-cert.pem"),
		"    subject:  CN=localhost,O=Postern demo",
		"    names:    localhost, 127.0.0.1, ::1",
		"    issuer:   CN=localhost,O=Postern demo (self-signed)",
		"    valid:    " + stamp(f.demoLeaf.NotBefore) + " to " + stamp(f.demoLeaf.NotAfter),
		"    OK: expires in 365 days",
		"  SNI " + f.sniCert,
		"    subject:  CN=mail.example.org",
		"    names:    mail.example.org",
		"    issuer:   CN=mail.example.org (self-signed)",
		"    valid:    " + stamp(f.now.Add(-24*time.Hour)) + " to " + stamp(f.sniNotAfter),
		"    WARNING: expires in 10 days, on " + stamp(f.sniNotAfter),
		"",
		"Listeners (what postern serve would bind; imapd under inetd or xinetd binds nothing)",
		"  imap (plain IMAP with STARTTLS): [::]:143",
		"    would bind [::]:143 tcp6 IPV6_V6ONLY=0 (dual-stack): IPv4 and IPv6",
		"    port 143 would be reached over IPv4 and IPv6",
		"  imaps (IMAP over implicit TLS): 0.0.0.0:993, [::]:993, 127.0.0.1:10993",
		"    would bind 0.0.0.0:993 tcp4: IPv4 only",
		"    would bind [::]:993 tcp6 IPV6_V6ONLY=1: IPv6 only",
		"    would bind 127.0.0.1:10993 tcp4: IPv4 only",
		"    port 993 would be reached over IPv4 and IPv6",
		"    port 10993 would be reached over IPv4 only",
		"",
		"System",
		"  OK: the kernel accepts dual-stack sockets ([::] with IPV6_V6ONLY=0)",
		"  net.ipv6.bindv6only = 1",
		"    Postern sets IPV6_V6ONLY on each IPv6 socket itself, so this value does not change what it binds.",
		"    It matters to programs that leave IPV6_V6ONLY alone: with 1, their IPv6 services on [::]",
		"    accept IPv6 clients only. Debian's xinetd and openbsd-inetd set the option themselves;",
		"    see contrib/README.md for the entries that work with either value.",
		"",
		f.conf + ": OK with 1 warning (4 listeners)",
		"",
	}, "\n")
	if got != want {
		t.Errorf("check printed:\n%s\nwant:\n%s", got, want)
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Errorf("first difference, line %d: got %q, want %q", i+1, gl[i], wl[i])
				break
			}
		}
	}
}

// TestCheckProblems checks each problem's line, the verdict and the exit
// status.
func TestCheckProblems(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name           string
		sniFrom, sniTo time.Duration
		edit           func(f *checkFixture)
		probe          func(context.Context) error
		lines          []string // each must appear as a whole line
		verdict        string   // the last line, after "FILE: "
		wantErr        string   // "" for success
	}{
		{
			name: "expired", sniFrom: -400 * day, sniTo: -3*day - time.Hour,
			lines:   []string{"    ERROR: expired 3 days ago, on %SNIEND%"},
			verdict: "1 error, 0 warnings",
			wantErr: "expired 3 days ago",
		},
		{
			name: "expired a moment ago", sniFrom: -400 * day, sniTo: -time.Second,
			lines:   []string{"    ERROR: expired 0 days ago, on %SNIEND%"},
			verdict: "1 error, 0 warnings",
			wantErr: "expired 0 days ago",
		},
		{
			name: "not yet valid", sniFrom: 2*day + time.Hour, sniTo: 400 * day,
			lines:   []string{"    ERROR: not valid yet: valid from %SNISTART%, in 2 days"},
			verdict: "1 error, 0 warnings",
			wantErr: "not valid yet",
		},
		{
			name: "expires in 1 day", sniFrom: -day, sniTo: day + time.Hour,
			lines:   []string{"    WARNING: expires in 1 day, on %SNIEND%"},
			verdict: "OK with 1 warning (4 listeners)",
		},
		{
			name: "30 days is fine", sniFrom: -day, sniTo: 30 * day,
			lines:   []string{"    OK: expires in 30 days"},
			verdict: "OK (4 listeners)",
		},
		{
			name: "no dual-stack", sniFrom: -day, sniTo: 100 * day,
			probe: func(context.Context) error { return errors.New("listen: dual-stack socket refused") },
			lines: []string{"  WARNING: the kernel refused a dual-stack socket ([::] with IPV6_V6ONLY=0): listen: dual-stack socket refused;" +
				" a lone [::] listener is bound as two sockets, [::] (IPv6 only) and 0.0.0.0"},
			verdict: "OK with 1 warning (4 listeners)",
		},
		{
			name: "bad port and no sysctl", sniFrom: -day, sniTo: 100 * day,
			edit: func(f *checkFixture) {
				f.cfg.Listeners[0].Addr = "[::]:nosuchservice"
				os.Remove(f.sysctlFile)
			},
			lines: []string{
				"  imap (plain IMAP with STARTTLS): [::]:nosuchservice",
				`    ERROR: listen: "[::]:nosuchservice": lookup tcp/nosuchservice: unknown port`,
				"  net.ipv6.bindv6only: unknown (not a Linux kernel, or IPv6 is disabled)",
			},
			verdict: "1 error, 0 warnings",
			wantErr: "nosuchservice",
		},
		{
			name: "key mismatch", sniFrom: -day, sniTo: 100 * day,
			edit: func(f *checkFixture) { f.cfg.SNICerts[0].Key = f.cfg.TLSKey },
			lines: []string{
				"  the certificates do not load: see Certificates",
				"  ERROR: tlsconfig: certificate %SNICERT% with key %DEMOKEY%: tls: private key does not match public key",
			},
			verdict: "1 error, 0 warnings",
			wantErr: "private key does not match public key",
		},
		{
			name: "missing password file", sniFrom: -day, sniTo: 100 * day,
			edit: func(f *checkFixture) { f.cfg.PasswdFile = filepath.Join(f.dir, "nopasswd") },
			lines: []string{
				"  ERROR: daemon: virtual: open %DIR%/nopasswd: no such file or directory",
				"    OK: expires in 100 days",
			},
			verdict: "1 error, 0 warnings",
			wantErr: "nopasswd",
		},
	}
	for _, tt := range tests {
		f := newCheckFixture(t, tt.sniFrom, tt.sniTo)
		if tt.edit != nil {
			tt.edit(f)
			f.writeConf(t)
		}
		probe := tt.probe
		if probe == nil {
			probe = probeOK
		}
		out, err := f.run(probe)
		stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
		r := strings.NewReplacer("%SNIEND%", stamp(f.sniNotAfter), "%SNISTART%", stamp(f.now.Add(tt.sniFrom)),
			"%SNICERT%", f.sniCert, "%DEMOKEY%", f.cfg.TLSKey, "%DIR%", f.dir)
		lines := strings.Split(out, "\n")
		for _, want := range tt.lines {
			want = r.Replace(want)
			if !containsLine(lines, want) {
				t.Errorf("%s: check output lacks the line %q:\n%s", tt.name, want, out)
			}
		}
		if got, want := lines[len(lines)-2], f.conf+": "+tt.verdict; got != want {
			t.Errorf("%s: check verdict = %q, want %q", tt.name, got, want)
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: check = %v, want success", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "check: ")):
			t.Errorf("%s: check = %v, want a check: error containing %q", tt.name, err, tt.wantErr)
		}
		if n := strings.Count(out, "ERROR:"); err == nil && n > 0 {
			t.Errorf("%s: check succeeded with %d ERROR lines", tt.name, n)
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestCheckExitStatus runs check the way main does, through run, for an
// expired certificate: the error (exit status 1) names it.
func TestCheckExitStatus(t *testing.T) {
	f := newCheckFixture(t, -400*24*time.Hour, -24*time.Hour)
	var out bytes.Buffer
	err := run([]string{"check", "-c", f.conf}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("run(check) with an expired certificate = %v, want an error naming it; output:\n%s", err, out.String())
	}
	if want := fmt.Sprintf("%s: 1 error, ", f.conf); !strings.Contains(out.String(), want) {
		t.Errorf("check output lacks %q:\n%s", want, out.String())
	}
}

// TestCheckNetns runs check as main does, with the real dual-stack probe
// and the real /proc/sys/net/ipv6/bindv6only, in private network
// namespaces where the sysctl is 0 and then 1.
func TestCheckNetns(t *testing.T) {
	for _, v := range []string{"0", "1"} {
		t.Run("bindv6only="+v, func(t *testing.T) {
			if !netns.Inside() {
				netns.Run(t, t.Name(), nil)
				return
			}
			netns.SetSysctl(t, "net/ipv6/bindv6only", v)
			f := newCheckFixture(t, -24*time.Hour, 100*24*time.Hour)
			var out bytes.Buffer
			if err := run([]string{"check", "-c", f.conf}, nil, &out, &out); err != nil {
				t.Fatalf("check = %v; output:\n%s", err, out.String())
			}
			lines := strings.Split(out.String(), "\n")
			for _, want := range []string{
				"  OK: the kernel accepts dual-stack sockets ([::] with IPV6_V6ONLY=0)",
				"  net.ipv6.bindv6only = " + v,
				"    would bind [::]:143 tcp6 IPV6_V6ONLY=0 (dual-stack): IPv4 and IPv6",
				f.conf + ": OK (4 listeners)",
			} {
				if !containsLine(lines, want) {
					t.Errorf("check output lacks the line %q:\n%s", want, out.String())
				}
			}
		})
	}
}
