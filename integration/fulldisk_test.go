package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// mountTmpfs mounts a tmpfs of the given size (mount(8)'s size=, e.g.
// "4m") on a new directory and unmounts it when the test ends. It fails
// when mounting is not permitted, unless POSTERN_SKIP_MOUNT=1.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("POSTERN_SKIP_MOUNT") == "1" {
			t.Skipf("mount -t tmpfs: %v (%s), and POSTERN_SKIP_MOUNT=1", err, bytes.TrimSpace(out))
		}
		t.Fatalf("this test mounts a small tmpfs and needs root (or set POSTERN_SKIP_MOUNT=1 to skip it): mount: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// TestFullDisk: with the mail on a 4 MiB tmpfs, APPENDs until the file
// system is full get a tagged NO [OVERQUOTA] Not enough disk space (as
// Dovecot answers ENOSPC), every message acknowledged before is intact,
// postern fsck finds the store consistent, and once space is freed
// APPEND works again. For both stores: an mbox append that fails is cut
// back, never leaving half a message.
func TestFullDisk(t *testing.T) {
	for _, kind := range []string{"maildir", "mbox"} {
		t.Run(kind, func(t *testing.T) {
			mnt := mountTmpfs(t, "4m")
			// Space to give back later: a file beside the mail.
			filler := filepath.Join(mnt, "filler")
			if err := os.WriteFile(filler, bytes.Repeat([]byte("x"), 512<<10), 0o600); err != nil {
				t.Fatal(err)
			}
			cs := newCrashSetup(t, t.TempDir(), kind, mnt)
			d := startDaemon(t, cs.conf)
			defer d.stop()
			ic, err := dialConn(d.addr, cs.user, cs.pass)
			if err != nil {
				t.Fatal(err)
			}
			defer ic.close()
			sent := map[string][]byte{}
			appendOne := func(i int) (string, string) {
				id := fmt.Sprintf("<full-%d@test>", i)
				body := fmt.Sprintf("From: a@test\r\nSubject: full %d\r\nMessage-ID: %s\r\n\r\n%s", i, id,
					strings.Repeat(fmt.Sprintf("%07d the quick brown fox jumps over the lazy dog\r\n", i), 1200))
				_, st, err := ic.do(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(body), body))
				if err != nil {
					t.Fatalf("APPEND %d: %v\n%s", i, err, d.stderr)
				}
				if strings.HasPrefix(st, "OK") {
					sent[id] = []byte(body)
				}
				return id, st
			}
			var refusal string
			n := 0
			for ; n < 200; n++ {
				if _, st := appendOne(n); !strings.HasPrefix(st, "OK") {
					refusal = st
					break
				}
			}
			if refusal != "NO [OVERQUOTA] Not enough disk space" {
				t.Fatalf("after %d APPENDs: %q, want NO [OVERQUOTA] Not enough disk space\nlog:\n%s", n, refusal, d.stderr)
			}
			t.Logf("%s: %d messages stored, then %q", kind, len(sent), refusal)
			// Another try while still full: refused the same way, and the
			// session still works.
			if _, st := appendOne(n + 1); st != refusal {
				t.Errorf("second APPEND on a full disk: %q, want %q", st, refusal)
			}
			checkIntact(t, d.addr, cs, sent)
			if out, code := runFsck(t, "-c", cs.conf, cs.store); code != 0 {
				t.Errorf("postern fsck on the full disk: status %d\n%s", code, out)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			if _, st := appendOne(n + 2); !strings.HasPrefix(st, "OK") {
				t.Fatalf("APPEND after freeing space: %q\nlog:\n%s", st, d.stderr)
			}
			checkIntact(t, d.addr, cs, sent)
			if out, code := runFsck(t, "-c", cs.conf, cs.store); code != 0 {
				t.Errorf("postern fsck after freeing space: status %d\n%s", code, out)
			}
		})
	}
}

// checkIntact reads INBOX from a new session: exactly the acknowledged
// messages, each byte for byte.
func checkIntact(t *testing.T, addr string, cs crashSetup, sent map[string][]byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{Dialer: &net.Dialer{Timeout: ioTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(cs.user, cs.pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range msgs {
		var body []byte
		for _, b := range m.BodySection {
			body = b.Bytes
		}
		id := ""
		if i := bytes.Index(body, []byte("Message-ID: ")); i >= 0 {
			id = string(body[i+12 : i+12+bytes.IndexByte(body[i+12:], '\r')])
		}
		want, ok := sent[id]
		switch {
		case !ok:
			t.Errorf("INBOX holds a message not acknowledged: %q (%d bytes)", id, len(body))
		case got[id]:
			t.Errorf("INBOX holds %s twice", id)
		case !bytes.Equal(body, want):
			t.Errorf("%s: %d bytes, differs from the %d appended", id, len(body), len(want))
		}
		got[id] = true
	}
	if len(got) != len(sent) {
		t.Errorf("INBOX holds %d of the %d acknowledged messages", len(got), len(sent))
	}
}
