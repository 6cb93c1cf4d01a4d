package integration

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInterplayIdleQResync checks that a session idling with IMAP4rev2 and
// QRESYNC enabled hears another session's changes as QRESYNC wants them:
// VANISHED instead of EXPUNGE (RFC 7162 §3.2.10), UID and MODSEQ in every
// unsolicited FETCH (§3.2.4), and no \Recent (RFC 9051 §2.3.2). IDLE
// cannot be written as a transcript step (it has no tagged answer until
// DONE), hence a test of its own.
func TestInterplayIdleQResync(t *testing.T) {
	addr := startTranscriptServer(t, deliverBasic)
	c1 := dialRaw(t, addr, false)
	c1.mustOK("LOGIN alice secret")
	c1.mustOK("ENABLE IMAP4rev2 QRESYNC")
	c1.mustOK("SELECT INBOX")
	c2 := dialRaw(t, addr, false)
	c2.mustOK("LOGIN alice secret")
	c2.mustOK("SELECT INBOX")

	_ = c1.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c1.conn, "i IDLE\r\n"); err != nil {
		t.Fatal(err)
	}
	if l := c1.readLine(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE answered %q, want a continuation request", l)
	}
	c2.mustOK(`STORE 2 +FLAGS.SILENT (\Flagged)`)
	c2.mustOK(`STORE 3 +FLAGS.SILENT (\Deleted)`)
	c2.mustOK("EXPUNGE")

	// The two changes may come in one burst or two; read until both are
	// in, within readLine's deadline.
	want := []string{`* 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (7))`, "* VANISHED 3"}
	var got []string
	for !slices.Contains(got, want[0]) || !slices.Contains(got, want[1]) {
		l := c1.readLine()
		got = append(got, l)
		if strings.Contains(l, "EXPUNGE") || strings.Contains(l, `\Recent`) || len(got) > 10 {
			t.Fatalf("while idling: %q, want %q", got, want)
		}
	}
	_ = c1.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c1.conn, "DONE\r\n"); err != nil {
		t.Fatal(err)
	}
	if l := c1.readLine(); l != "i OK IDLE terminated" {
		t.Errorf("after DONE: %q, want i OK IDLE terminated", l)
	}
	// The message flagged \Deleted by c2 before it vanished must not come
	// back: CLOSE sends neither VANISHED nor EXPUNGE (RFC 7162 §3.2.7).
	c2.mustOK(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c2.mustOK("EXPUNGE")
	if u := c1.mustOK("CLOSE"); len(u) != 0 {
		t.Errorf("CLOSE with QRESYNC sent %q, want nothing", u)
	}
}
