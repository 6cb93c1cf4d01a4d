package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/netns"
)

// TestIpop3dXinetd runs ipop3d under Debian's xinetd (the contrib Linux
// entry: one flags = IPv6 service, so IPv4 clients arrive mapped), plain
// on 10110 and implicit TLS on 10995 (-tls), over 127.0.0.1 and ::1, for
// both stores: a virtual user's Maildir (the demo) and a system account's
// UW mbox in /var/mail, with Python's poplib. It runs in a private network
// namespace.
func TestIpop3dXinetd(t *testing.T) {
	if !netns.Inside() {
		needRoot(t)
		netns.Run(t, t.Name(), nil)
		return
	}
	xinetd := needProgram(t, "xinetd")
	python := needProgram(t, "python3")
	script := filepath.Join(moduleRoot, "integration", "testdata", "poplib_client.py")

	t.Run("maildir", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := demo.Setup(context.Background(), dir); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, demo.ConfigName)
		log := filepath.Join(dir, "ipop3d.log")
		appendConfig(t, conf, "log_file = "+log)
		startXinetdPOP3(t, xinetd, conf, log)
		for _, tt := range []struct{ host, port, mode string }{
			{"127.0.0.1", "10110", "stls"},
			{"::1", "10110", "plain"},
			{"127.0.0.1", "10995", "ssl"},
			{"::1", "10995", "ssl"},
		} {
			out := string(runProgram(t, nil, python, script, tt.host, tt.port, tt.mode))
			for i, m := range demoMessages {
				sum := sha256.Sum256(pop3Form(m))
				if !strings.Contains(out, hex.EncodeToString(sum[:])) {
					t.Errorf("%s:%s %s: RETR %d digest missing from %s", tt.host, tt.port, tt.mode, i+1, out)
				}
			}
		}
		b, _ := os.ReadFile(log)
		for _, want := range []string{"service init from 127.0.0.1", "service init from ::1", "Login user=demo host=127.0.0.1 [127.0.0.1] nmsgs=5/5", "Login user=demo host=::1 [::1] nmsgs=5/5"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("ipop3d log lacks %q:\n%s", want, b)
			}
		}
		if strings.Contains(string(b), "::ffff:") {
			t.Errorf("ipop3d log shows a mapped address:\n%s", b)
		}
	})

	t.Run("mbox", func(t *testing.T) {
		u := newSysUser(t, "postern-t-pop")
		u.deliver(t, sysMsg1, sysMsg2)
		dir := t.TempDir()
		conf := filepath.Join(dir, "postern.conf")
		log := filepath.Join(dir, "ipop3d.log")
		if err := os.WriteFile(conf, []byte("log_file = "+log+"\nlog_level = debug\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		startXinetdPOP3(t, xinetd, conf, log)
		for i, addr := range []string{"127.0.0.1:10110", "[::1]:10110"} {
			p := dialPOP3(t, addr)
			p.ok("USER " + u.name)
			p.ok("PASS " + u.password)
			if st := p.ok("STAT"); st != fmt.Sprintf("+OK %d %d", 2-i, len(pop3Form([]byte(sysMsg2)))+(1-i)*len(pop3Form([]byte(sysMsg1)))) {
				t.Errorf("%s: STAT = %q", addr, st)
			}
			// The serving process runs as the user.
			b, _ := os.ReadFile(log)
			m := regexpPID(t, string(b), u.name, i+1)
			uids, _ := procIDs(t, m)
			if want := strings.Repeat(strconv.Itoa(u.uid)+" ", 4); uids+" " != want {
				t.Errorf("%s: ipop3d runs as uid %q, want %q", addr, uids, want)
			}
			if i == 0 {
				p.ok("DELE 1")
			}
			p.ok("QUIT")
		}
		spool, err := os.ReadFile(u.spool)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(spool), "Subject: first") || !strings.Contains(string(spool), "Subject: second") {
			t.Errorf("spool after DELE 1 and QUIT:\n%s", spool)
		}
	})
}

// regexpPID finds the pid of the n-th session of user in an ipop3d log
// (its "privileges dropped" line) and waits, bounded, for it to appear.
func regexpPID(t *testing.T, log, user string, n int) int {
	t.Helper()
	var pids []int
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `msg="privileges dropped"`) || !strings.Contains(l, "user="+user) {
			continue
		}
		if _, rest, ok := strings.Cut(l, " pid="); ok {
			f := strings.Fields(rest)
			if pid, err := strconv.Atoi(f[0]); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) < n {
		t.Fatalf("log has %d privilege drops for %s, want %d:\n%s", len(pids), user, n, log)
	}
	return pids[n-1]
}

// startXinetdPOP3 runs xinetd with ipop3d on 10110 (plain) and 10995
// (implicit TLS by -tls), each one flags = IPv6 service.
func startXinetdPOP3(t *testing.T, xinetd, conf, log string) {
	t.Helper()
	dir := t.TempDir()
	xconf := filepath.Join(dir, "xinetd.conf")
	var b strings.Builder
	for _, s := range []struct{ port, args string }{{"10110", "-c " + conf}, {"10995", "-tls -c " + conf}} {
		fmt.Fprintf(&b, `service pop3-%s
{
	type        = UNLISTED
	port        = %s
	flags       = IPv6
	socket_type = stream
	wait        = no
	user        = root
	server      = %s
	server_args = %s
}
`, s.port, s.port, ipop3dBin, s.args)
	}
	if err := os.WriteFile(xconf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	xlog := filepath.Join(dir, "xinetd.log")
	cmd := exec.Command(xinetd, "-dontfork", "-f", xconf, "-pidfile", filepath.Join(dir, "xinetd.pid"), "-filelog", xlog)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			l, _ := os.ReadFile(log)
			x, _ := os.ReadFile(xlog)
			t.Logf("ipop3d log:\n%s\nxinetd log:\n%s", l, x)
		}
	})
	for _, addr := range []string{"127.0.0.1:10110", "127.0.0.1:10995"} {
		for i := 0; ; i++ {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if i == 200 {
				t.Fatalf("xinetd is not listening on %s: %v", addr, err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
}

// TestIpop3dInetd runs the shipped openbsd-inetd lines for ipop3d
// (contrib/inetd/ipop3d/openbsd-inetd.conf, paths substituted) under
// Debian's openbsd-inetd, with a private /etc/services mapping pop3 and
// pop3s to high ports: ipop3d's own lookup of the pop3s port decides
// implicit TLS. poplib over 127.0.0.1 and ::1, plain+STLS and pop3s.
func TestIpop3dInetd(t *testing.T) {
	if !netns.Inside() {
		needRoot(t)
		netns.Run(t, t.Name(), map[string]string{"/etc/services": filepath.Join(moduleRoot, "integration", "testdata", "inetd", "services-pop3")})
		return
	}
	inetd := inetdDaemon(t, "inetd")
	python := needProgram(t, "python3")
	script := filepath.Join(moduleRoot, "integration", "testdata", "poplib_client.py")
	dir := t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, demo.ConfigName)
	log := filepath.Join(dir, "ipop3d.log")
	appendConfig(t, conf, "log_file = "+log)
	lines, err := os.ReadFile(filepath.Join(moduleRoot, "contrib", "inetd", "ipop3d", "openbsd-inetd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(lines), "/usr/local/sbin/ipop3d", ipop3dBin)
	text = strings.ReplaceAll(text, "/etc/postern/postern.conf", conf)
	iconf := filepath.Join(dir, "inetd.conf")
	if err := os.WriteFile(iconf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(inetd, "-d", iconf)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			l, _ := os.ReadFile(log)
			t.Logf("inetd output:\n%s\nipop3d log:\n%s", out, l)
		}
	}()
	for _, addr := range []string{"127.0.0.1:10110", "[::1]:10995"} {
		for i := 0; ; i++ {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if i == 200 {
				t.Fatalf("inetd is not listening on %s: %v", addr, err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	for _, tt := range []struct{ host, port, mode string }{
		{"127.0.0.1", "10110", "stls"},
		{"::1", "10110", "plain"},
		{"127.0.0.1", "10995", "ssl"},
		{"::1", "10995", "ssl"},
	} {
		got := string(runProgram(t, nil, python, script, tt.host, tt.port, tt.mode))
		sum := sha256.Sum256(pop3Form(demoMessages[4]))
		if !strings.Contains(got, hex.EncodeToString(sum[:])) || !strings.Contains(got, `"stat": [5, `) {
			t.Errorf("%s:%s %s: poplib saw %s", tt.host, tt.port, tt.mode, got)
		}
	}
}
