package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
)

// demoConfig makes a demo data directory and returns its configuration
// file, for imapd.
func demoConfig(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, demo.ConfigName)
}

// imapdSession is the exchange both inetd tests run: log in, select,
// fetch one header field, log out.
const imapdSession = "a LOGIN demo demo\r\nb SELECT INBOX\r\nc FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (Subject)])\r\nd LOGOUT\r\n"

func checkImapdTranscript(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"* OK [CAPABILITY IMAP4rev1 ",
		"a OK [CAPABILITY ",
		"* 5 EXISTS\r\n",
		"b OK [READ-WRITE] SELECT completed\r\n",
		"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject)] {31}\r\nSubject: Welcome to Postern\r\n\r\n)\r\n",
		"* BYE ",
		"d OK LOGOUT completed\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("imapd transcript lacks %q; got:\n%s", want, out)
		}
	}
}

// TestImapdPipe runs imapd as root with a pipe on standard input (DESIGN.md
// §2 run mode 2): root gets the normal greeting and must log in.
func TestImapdPipe(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("imapd must be started as root for the normal greeting on a pipe; TestImapdPipePreauth covers non-root")
	}
	conf := demoConfig(t)
	// UW's system alert file is sent before the first command's answer.
	alert := filepath.Join(filepath.Dir(conf), "imapd.alert")
	if err := os.WriteFile(alert, []byte("Maintenance tonight at 22:00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	appendConfig(t, conf, "alert_file = "+alert)
	ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, imapdBin, "-c", conf)
	cmd.Stdin = strings.NewReader(imapdSession)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("imapd: %v\n%s", err, out)
	}
	checkImapdTranscript(t, string(out))
	if want := "* OK [ALERT] Maintenance tonight at 22:00\r\na OK "; !strings.Contains(string(out), want) {
		t.Errorf("imapd transcript lacks %q:\n%s", want, out)
	}
}

// appendConfig adds lines to a configuration file.
func appendConfig(t *testing.T, conf string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := fmt.Fprintln(f, l); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImapdPipePreauth runs imapd on a pipe as a user other than root, as
// `ssh host imapd` and mutt's tunnel do: it greets with PREAUTH as that
// user and serves the Maildir system_mail_root names. Run as root, the test
// starts imapd as nobody (uid 65534).
func TestImapdPipePreauth(t *testing.T) {
	dir := t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	name := ""
	if os.Getuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		u, err := user.LookupId("65534")
		if err != nil {
			t.Fatalf("looking up uid 65534 (nobody): %v", err)
		}
		name = u.Username
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		name = u.Username
	}
	// The demo's Maildir becomes this user's, found by %u.
	users := filepath.Join(dir, "users")
	if err := os.Rename(filepath.Join(users, demo.User), filepath.Join(users, name)); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "pipe.conf")
	logFile := filepath.Join(dir, "imapd.log")
	// No passwd_file: pipe mode does not read one.
	body := fmt.Sprintf("mail_store = maildir\nsystem_mail_root = %s/%%u/Maildir\nlog_file = %s\nlog_level = debug\n", users, logFile)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		for _, p := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{dir, users, logFile} {
			if p == logFile {
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		err := filepath.WalkDir(filepath.Join(users, name), func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, imapdBin, "-c", conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Stdin = strings.NewReader("b SELECT INBOX\r\nc FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (Subject)])\r\nd LOGIN demo demo\r\ne LOGOUT\r\n")
	out, err := cmd.Output()
	logged, _ := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("imapd: %v\n%s\nlog:\n%s", err, out, logged)
	}
	got := string(out)
	for _, want := range []string{
		"* PREAUTH [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE CONDSTORE QRESYNC LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE CATENATE OBJECTID] Logged in as " + name + "\r\n",
		"* 5 EXISTS\r\n",
		"b OK [READ-WRITE] SELECT completed\r\n",
		"* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject)] {31}\r\nSubject: Welcome to Postern\r\n\r\n)\r\n",
		"d BAD ",
		"e OK LOGOUT completed\r\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("imapd transcript lacks %q; got:\n%s\nlog:\n%s", want, got, logged)
		}
	}
	if !strings.HasPrefix(got, "* PREAUTH ") {
		t.Errorf("imapd greeting = %q, want PREAUTH", strings.SplitN(got, "\n", 2)[0])
	}
	if want := "Preauthenticated user=" + name + " host=UNKNOWN"; !strings.Contains(string(logged), want) {
		t.Errorf("imapd log lacks %q:\n%s", want, logged)
	}
}

// TestImapdInetd hands imapd an accepted TCP socket on fd 0 and 1, as inetd
// and xinetd do (DESIGN.md §2 run mode 1), and talks to it over the network.
func TestImapdInetd(t *testing.T) {
	conf := demoConfig(t)
	for _, network := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(network, func(t *testing.T) {
			l, err := net.Listen("tcp", network)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			client, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			served, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			f, err := served.(*net.TCPConn).File()
			served.Close()
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, imapdBin, "-c", conf)
			cmd.Stdin, cmd.Stdout = f, f
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			client.SetDeadline(time.Now().Add(ioTimeout))
			if _, err := client.Write([]byte(imapdSession)); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			r := bufio.NewReader(client)
			for {
				line, err := r.ReadString('\n')
				b.WriteString(line)
				if err != nil || strings.HasPrefix(line, "d OK") {
					break
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("imapd exit: %v", err)
			}
			checkImapdTranscript(t, b.String())
		})
	}
}

// TestImapdListen runs `imapd -l` with one listener per service: plain
// IMAP with STARTTLS and implicit TLS (imaps=ADDR).
func TestImapdListen(t *testing.T) {
	conf := demoConfig(t)
	cmd := exec.Command(imapdBin, "-c", conf, "-l", "127.0.0.1:0", "-l", "imaps=[::1]:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	sc := bufio.NewScanner(stderr)
	for len(addrs) < 2 && sc.Scan() {
		// time=... level=INFO msg=listening service=imap addr=127.0.0.1:41234
		f := strings.Fields(sc.Text())
		if len(f) == 5 && f[2] == "msg=listening" {
			addrs[strings.TrimPrefix(f[3], "service=")] = strings.TrimPrefix(f[4], "addr=")
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("imapd -l after SIGTERM: %v", err)
		}
	}()
	if !strings.HasPrefix(addrs["imap"], "127.0.0.1:") || !strings.HasPrefix(addrs["imaps"], "[::1]:") {
		t.Fatalf("imapd -l listeners = %v, want imap on 127.0.0.1 and imaps on ::1", addrs)
	}
	c := dialRaw(t, addrs["imap"], false)
	if u := c.mustOK("CAPABILITY"); len(u) != 1 || !strings.Contains(u[0], " STARTTLS ") {
		t.Errorf("plain listener CAPABILITY = %q, want STARTTLS", u)
	}
	tc, err := dialTLS(addrs["imaps"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(ioTimeout))
	g, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || !strings.HasPrefix(g, "* OK [CAPABILITY IMAP4rev1 ") || strings.Contains(g, "STARTTLS") {
		t.Errorf("imaps listener greeting = %q, %v; want * OK without STARTTLS", g, err)
	}
}
