package integration

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/netns"
)

// TestAllowFromMapped runs the daemon on a lone [::] listener, one
// dual-stack socket on which IPv4 clients arrive as ::ffff:127.0.0.1, with
// allow_from naming only 127.0.0.1: the IPv4 client is matched, served and
// logged as 127.0.0.1, and the ::1 client is refused with BYE (issue 3
// item 3). It runs in a private network namespace, so the wildcard bind
// exposes nothing.
func TestAllowFromMapped(t *testing.T) {
	if !netns.Inside() {
		netns.Run(t, t.Name(), nil)
		return
	}
	dir := t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, demo.ConfigName)
	saved, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	// The demo's listeners replaced by one wildcard IPv6 listener.
	var lines []string
	for _, l := range strings.Split(string(saved), "\n") {
		if !strings.HasPrefix(l, "listen ") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "listen = imap [::]:10143", "listen = pop3 [::]:10110", "allow_from = 127.0.0.1", "")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(posternBin, "serve", "-c", conf)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("postern log:\n%s", stderr)
		}
	}()
	sc := bufio.NewScanner(out)
	for _, want := range []string{"listening: imap [::]:10143", "listening: pop3 [::]:10110"} {
		if !sc.Scan() || sc.Text() != want {
			t.Fatalf("postern printed %q, want %s", sc.Text(), want)
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	greet := func(addr string) string {
		c, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(ioTimeout))
		l, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("%s: reading greeting: %v", addr, err)
		}
		return strings.TrimSuffix(l, "\r\n")
	}
	if g := greet("127.0.0.1:10143"); !strings.HasPrefix(g, "* OK [CAPABILITY IMAP4rev1 ") {
		t.Errorf("greeting over 127.0.0.1 = %q, want * OK", g)
	}
	if g, want := greet("[::1]:10143"), "* BYE [UNAVAILABLE] Connections from ::1 are not allowed"; g != want {
		t.Errorf("greeting over ::1 = %q, want %q", g, want)
	}
	if g, want := greet("[::1]:10110"), "-ERR [SYS/TEMP] Connections from ::1 are not allowed"; g != want {
		t.Errorf("POP3 greeting over ::1 = %q, want %q", g, want)
	}
	if g := greet("127.0.0.1:10110"); !strings.HasPrefix(g, "+OK ") {
		t.Errorf("POP3 greeting over 127.0.0.1 = %q, want +OK", g)
	}
	c := dialRaw(t, "127.0.0.1:10143", true) // logs a Login line
	c.mustOK("LOGOUT")
	for _, want := range []string{
		"Login user=demo host=127.0.0.1 [127.0.0.1]",
		`msg="connection refused" remote=::1 reason="Connections from ::1 are not allowed"`,
	} {
		// The daemon may write the line just after the client's LOGIN
		// OK; the log reaches the test through a pipe, on its own time.
		if !waitLog(stderr, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if log := stderr.String(); strings.Contains(log, "::ffff:") {
		t.Errorf("log shows a mapped address:\n%s", log)
	}
}
