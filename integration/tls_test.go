package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/tlsconfig"
)

// sniName is the server name of the second certificate tlsServer configures.
const sniName = "mail.example.org"

// tlsServer starts `postern serve` on a demo data directory whose
// configuration also has an SNI certificate for sniName (tls_sni_cert).
func tlsServer(t *testing.T) (s *server, dir string) {
	t.Helper()
	dir = t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	cert, key, err := tlsconfig.SelfSigned(filepath.Join(dir, "tls-sni"), []string{sniName})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, demo.ConfigName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "tls_sni_cert = %s %s\n", cert, key)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return startServerIn(t, dir), dir
}

// dialTLS connects with implicit TLS and returns the connection after the
// handshake, or the handshake's error.
func dialTLS(addr string, conf *tls.Config) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, conf)
}

// leafNames returns the DNS names of the certificate the server presented.
func leafNames(c *tls.Conn) []string {
	return c.ConnectionState().PeerCertificates[0].DNSNames
}

// TestTLS checks the TLS promises of issue 3 item 6 against the real
// daemon: version floor, STARTTLS injection, SNI, STARTTLS refused under
// TLS, certificate reload on SIGHUP, and BYE on SIGTERM.
func TestTLS(t *testing.T) {
	s, dir := tlsServer(t)
	insecure := func(min, max uint16, name string) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, MinVersion: min, MaxVersion: max, ServerName: name}
	}

	t.Run("versions", func(t *testing.T) {
		tests := []struct {
			version uint16
			ok      bool
		}{
			{tls.VersionTLS10, false},
			{tls.VersionTLS11, false},
			{tls.VersionTLS12, true},
			{tls.VersionTLS13, true},
		}
		for _, tt := range tests {
			name := tls.VersionName(tt.version)
			// Implicit TLS.
			c, err := dialTLS(s.IMAPS, insecure(tt.version, tt.version, "localhost"))
			if (err == nil) != tt.ok {
				t.Errorf("imaps with %s only: err = %v, want success %v", name, err, tt.ok)
			}
			if err == nil {
				if got := c.ConnectionState().Version; got != tt.version {
					t.Errorf("imaps with %s only: negotiated %s", name, tls.VersionName(got))
				}
				c.Close()
			} else if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("imaps with %s only: err = %v, want a protocol version alert", name, err)
			}
			// STARTTLS.
			raw := dialRaw(t, s.IMAP, false)
			raw.mustOK("STARTTLS")
			tc := tls.Client(raw.conn, insecure(tt.version, tt.version, "localhost"))
			_ = tc.SetDeadline(time.Now().Add(ioTimeout))
			err = tc.Handshake()
			if (err == nil) != tt.ok {
				t.Errorf("STARTTLS with %s only: err = %v, want success %v", name, err, tt.ok)
			}
			tc.Close()
		}
	})

	t.Run("starttls injection", func(t *testing.T) {
		raw := dialRaw(t, s.IMAP, false)
		// One write: the LOGOUT and LOGIN after STARTTLS reach the server
		// in the same packet, before the handshake.
		if _, err := io.WriteString(raw.conn, "a STARTTLS\r\nb LOGOUT\r\nc LOGIN demo demo\r\n"); err != nil {
			t.Fatal(err)
		}
		if l := raw.readLine(); !strings.HasPrefix(l, "a OK") {
			t.Fatalf("STARTTLS answer = %q, want a OK", l)
		}
		tc := tls.Client(raw.conn, insecure(tls.VersionTLS12, 0, "localhost"))
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(tc)
		if _, err := io.WriteString(tc, "d CAPABILITY\r\ne STARTTLS\r\n"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "e ") {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading after TLS: %v (got %q)", err, got)
			}
			got = append(got, strings.TrimSuffix(l, "\r\n"))
		}
		want := []string{
			"* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE CONDSTORE QRESYNC LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE CATENATE OBJECTID AUTH=PLAIN AUTH=LOGIN",
			"d OK CAPABILITY completed",
			"e BAD TLS is already active",
		}
		if !slices.Equal(got, want) {
			t.Errorf("after STARTTLS with pipelined commands:\n got %q\nwant %q", got, want)
		}
		if !strings.Contains(s.stderr.String(), "discarding data pipelined after STARTTLS") {
			t.Errorf("log does not mention the discarded commands:\n%s", s.stderr)
		}
	})

	t.Run("sni", func(t *testing.T) {
		tests := []struct {
			serverName string
			want       string // a DNS name only the chosen certificate has
			notWant    string
		}{
			{sniName, sniName, ""},
			{"localhost", "localhost", sniName},
			{"", "localhost", sniName}, // no SNI: the default certificate
			{"unknown.example", "localhost", sniName},
		}
		for _, tt := range tests {
			c, err := dialTLS(s.IMAPS, insecure(tls.VersionTLS12, 0, tt.serverName))
			if err != nil {
				t.Fatalf("SNI %q: %v", tt.serverName, err)
			}
			names := leafNames(c)
			c.Close()
			if !slices.Contains(names, tt.want) || tt.notWant != "" && slices.Contains(names, tt.notWant) {
				t.Errorf("SNI %q: certificate for %q, want the one for %q", tt.serverName, names, tt.want)
			}
		}
	})

	t.Run("reload on SIGHUP", func(t *testing.T) {
		// An established session, logged in with a mailbox selected.
		old, err := dialTLS(s.IMAPS, insecure(tls.VersionTLS12, 0, "localhost"))
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		if slices.Contains(leafNames(old), "reloaded.example") {
			t.Fatal("the certificate before reload already names reloaded.example")
		}
		sess := &rawConn{t: t, conn: old, r: bufio.NewReader(old)}
		if g := sess.readLine(); !strings.HasPrefix(g, "* OK") {
			t.Fatalf("greeting = %q", g)
		}
		sess.mustOK("LOGIN demo demo")
		sess.mustOK("SELECT INBOX")

		// New certificate files in place (written aside and renamed, as
		// certbot does), then SIGHUP.
		fresh, freshKey, err := tlsconfig.SelfSigned(t.TempDir(), []string{"reloaded.example"})
		if err != nil {
			t.Fatal(err)
		}
		for from, to := range map[string]string{
			fresh:    filepath.Join(dir, "tls", tlsconfig.SelfSignedCertName),
			freshKey: filepath.Join(dir, "tls", tlsconfig.SelfSignedKeyName),
		} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to+".new", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(to+".new", to); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		// The signal is handled asynchronously: retry a bounded number of
		// times until a new handshake shows the new certificate.
		var names []string
		for i := 0; i < 100; i++ {
			c, err := dialTLS(s.IMAPS, insecure(tls.VersionTLS12, 0, "localhost"))
			if err != nil {
				t.Fatal(err)
			}
			names = leafNames(c)
			c.Close()
			if slices.Contains(names, "reloaded.example") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !slices.Contains(names, "reloaded.example") {
			t.Fatalf("after SIGHUP new connections get a certificate for %q, want reloaded.example\nlog:\n%s", names, s.stderr)
		}
		// The old session goes on, on its old keys.
		sess.mustOK("NOOP")
		if u := sess.mustOK("FETCH 1 (UID FLAGS)"); len(u) != 1 || u[0] != `* 1 FETCH (UID 1 FLAGS (\Recent \Seen))` {
			t.Errorf("FETCH in the session opened before reload = %q", u)
		}
		if !strings.Contains(s.stderr.String(), "certificates reloaded") {
			t.Errorf("log does not say the certificates were reloaded:\n%s", s.stderr)
		}
		// The SNI certificate is still chosen by name after reload.
		c, err := dialTLS(s.IMAPS, insecure(tls.VersionTLS12, 0, sniName))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !slices.Contains(leafNames(c), sniName) {
			t.Errorf("after reload SNI %q gets %q", sniName, leafNames(c))
		}
	})
}

// TestSIGTERM checks the graceful stop: a client waiting for a command and
// one in IDLE both hear BYE, and postern exits with status 0.
func TestSIGTERM(t *testing.T) {
	s := startServer(t)
	waiting := dialRaw(t, s.IMAP, true)
	idling := dialRaw(t, s.IMAP6, true)
	idling.mustOK("SELECT INBOX")
	if _, err := io.WriteString(idling.conn, "i IDLE\r\n"); err != nil {
		t.Fatal(err)
	}
	if l := idling.readLine(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE answer = %q, want a continuation", l)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop(t) }()
	for name, c := range map[string]*rawConn{"waiting": waiting, "idling": idling} {
		if l := c.readLine(); l != "* BYE Server shutting down" {
			t.Errorf("%s client got %q on SIGTERM, want * BYE Server shutting down", name, l)
		}
	}
	if err := <-stopped; err != nil {
		t.Errorf("postern exit after SIGTERM: %v", err)
	}
}

// TestOpenSSLStartTLS runs OpenSSL's s_client through STARTTLS (IMAP) and STLS (POP3), and over implicit TLS, to LOGOUT or QUIT:
// it exits 0 only if the server ends the TLS session with close_notify
// ("unexpected eof while reading" otherwise), which clients that check
// for truncation attacks rely on.
func TestOpenSSLStartTLS(t *testing.T) {
	openssl := needProgram(t, "openssl")
	s := startServer(t)
	for _, tt := range []struct{ name, addr, starttls, input, want string }{
		{"imap starttls", s.IMAP, "imap", "a LOGIN demo demo\r\nb LOGOUT\r\n", "b OK LOGOUT completed"},
		{"imaps", s.IMAPS, "", "a LOGIN demo demo\r\nb LOGOUT\r\n", "b OK LOGOUT completed"},
		{"pop3 stls", s.POP3, "pop3", "USER demo\r\nPASS demo\r\nQUIT\r\n", "+OK Sayonara"},
		{"pop3s", s.POP3S, "", "USER demo\r\nPASS demo\r\nQUIT\r\n", "+OK Sayonara"},
	} {
		// -quiet ignores the end of standard input: s_client ends when
		// the server closes the connection after LOGOUT or QUIT.
		args := []string{"s_client", "-connect", tt.addr, "-quiet"}
		if tt.starttls != "" {
			args = append(args, "-starttls", tt.starttls)
		}
		ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
		cmd := exec.CommandContext(ctx, openssl, args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(stdin, tt.input)
		err = cmd.Wait()
		stdin.Close()
		cancel()
		out, errOut := stdout.String(), stderr.String()
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: openssl s_client: %v\nstdout:\n%s\nstderr:\n%s", tt.name, err, out, errOut)
		}
	}
}
