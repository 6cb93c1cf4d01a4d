package imapserver

import (
	"reflect"
	"testing"
)

// TestESearchIMAP4rev2 checks that once IMAP4rev2 is enabled every SEARCH
// answers ESEARCH, a plain one as RETURN (ALL) (RFC 9051 §6.4.4), and that
// SAVE alone still answers nothing. It skips while the server does not
// offer IMAP4rev2 (another part of issue 6 adds it).
func TestESearchIMAP4rev2(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	tc.send("e ENABLE IMAP4rev2\r\n")
	if lines := tc.until("e"); lines[0] != "* ENABLED IMAP4rev2" {
		t.Skipf("IMAP4rev2 is not offered: %q", lines)
	}
	tests := []struct {
		cmd  string
		want []string
	}{
		{"r1 SEARCH UNSEEN", []string{`* ESEARCH (TAG "r1") ALL 2:3`, "r1 OK SEARCH completed"}},
		{"r2 UID SEARCH ALL", []string{`* ESEARCH (TAG "r2") UID ALL 1:2,4`, "r2 OK UID SEARCH completed"}},
		{"r3 SEARCH DELETED", []string{`* ESEARCH (TAG "r3")`, "r3 OK SEARCH completed"}},
		{"r4 SEARCH RETURN (COUNT) ALL", []string{`* ESEARCH (TAG "r4") COUNT 3`, "r4 OK SEARCH completed"}},
		{"r5 SEARCH RETURN (SAVE) SEEN", []string{"r5 OK SEARCH completed"}},
		{"r6 SEARCH CHARSET UTF-8 $", []string{`* ESEARCH (TAG "r6") ALL 1`, "r6 OK SEARCH completed"}},
		// SORT keeps its own response unless RETURN asks for ESEARCH.
		{"r7 SORT (DATE) UTF-8 ALL", []string{"* SORT 1 2 3", "r7 OK SORT completed"}},
	}
	for _, tt := range tests {
		tc.send(tt.cmd + "\r\n")
		if got := tc.until(tt.cmd[:2]); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.cmd, got, tt.want)
		}
	}
}
