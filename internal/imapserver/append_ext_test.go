package imapserver

import (
	"strconv"
	"strings"
	"testing"
)

// TestAppendUTF8 checks APPEND's UTF8 data extension (RFC 6855 §4):
// refused before ENABLE UTF8=ACCEPT, accepted after. The second half runs
// once the server advertises UTF8=ACCEPT (the IMAP4rev2 work of issue 6).
func TestAppendUTF8(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	msg := "Subject: Grüße\r\n\r\nx\r\n"
	tc.send("a APPEND Archive UTF8 (~{" + strconv.Itoa(len(msg)) + "+}\r\n" + msg + ")\r\n")
	if lines := tc.until("a"); lines[len(lines)-1] != "a BAD UTF8 APPEND data needs ENABLE UTF8=ACCEPT" {
		t.Errorf("APPEND UTF8 before ENABLE: %q", lines)
	}
	tc.send("c CAPABILITY\r\n")
	if lines := tc.until("c"); !strings.Contains(lines[0], " UTF8=ACCEPT") {
		t.Skip("UTF8=ACCEPT is not advertised yet")
	}
	tc.send("e ENABLE UTF8=ACCEPT\r\n")
	tc.until("e")
	tc.send("a APPEND Archive (\\Seen) UTF8 (~{" + strconv.Itoa(len(msg)) + "+}\r\n" + msg + ")\r\n")
	if lines := tc.until("a"); !strings.HasPrefix(lines[len(lines)-1], "a OK [APPENDUID ") {
		t.Errorf("APPEND UTF8 after ENABLE: %q", lines)
	}
	tc.send("b APPEND Archive UTF8 (~{1+}\r\nx\r\n")
	if lines := tc.until("b"); !strings.HasPrefix(lines[len(lines)-1], "b BAD ") {
		t.Errorf("APPEND UTF8 without its \")\": %q", lines)
	}
}
