package integration

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
)

// demoConfig makes a demo data directory and returns its configuration
// file, for imapd.
func demoConfig(t *testing.T) string {
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

// TestImapdPipe runs imapd with a pipe on standard input, as ssh or mutt's
// tunnel would (DESIGN.md §2 run mode 2).
func TestImapdPipe(t *testing.T) {
	conf := demoConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, imapdBin, "-c", conf)
	cmd.Stdin = strings.NewReader(imapdSession)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("imapd: %v\n%s", err, out)
	}
	checkImapdTranscript(t, string(out))
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
