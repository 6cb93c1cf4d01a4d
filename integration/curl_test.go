package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCurl drives the server with curl's IMAP support: LIST, FETCH by
// UID (whole, section, partial), SEARCH, APPEND by upload, a custom
// command, implicit TLS, STARTTLS (--ssl-reqd), IPv6 and a bad password.
// The steps share one server and run in order: later ones see earlier
// changes.
func TestCurl(t *testing.T) {
	t.Parallel()
	curl := needProgram(t, "curl")
	s := startServer(t)
	base := "imap://" + s.IMAP
	run := func(args ...string) []byte {
		t.Helper()
		return runProgram(t, nil, curl, append([]string{"-s", "-S", "--max-time", "30", "--user", "demo:demo"}, args...)...)
	}
	lines := func(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

	t.Run("List", func(t *testing.T) {
		got := lines(run(base + "/"))
		want := `* LIST (\HasNoChildren \Archive) "/" Archive
* LIST (\HasNoChildren \Drafts) "/" Drafts
* LIST (\HasNoChildren) "/" INBOX
* LIST (\HasNoChildren \Junk) "/" Junk
* LIST (\HasNoChildren \Sent) "/" Sent
* LIST (\HasNoChildren \Trash) "/" Trash
`
		if got != want {
			t.Errorf("curl %s/ =\n%s\nwant\n%s", base, got, want)
		}
	})

	t.Run("FetchUID", func(t *testing.T) {
		for i, m := range demoMessages {
			url := base + "/INBOX;UID=" + itoa(int64(i+1))
			if got := run(url); !bytes.Equal(got, m) {
				t.Errorf("curl %s = %q, want the demo message (%d bytes)", url, got, len(m))
			}
		}
	})

	t.Run("FetchSection", func(t *testing.T) {
		tests := []struct{ url, want string }{
			{"/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)", "Subject: Welcome to Postern\r\n\r\n"},
			{"/INBOX;UID=1;SECTION=TEXT", string(bodyOf(demoMessages[0]))},
			{"/INBOX;UID=2;SECTION=1.MIME", "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"},
			{"/INBOX;UID=3;SECTION=2;PARTIAL=0.10", "JVBERi0xLj"},
			{"/INBOX;UID=4;SECTION=2.1", "1. Ship the demo.\r\n2. Write the tests.\r\n"},
		}
		for _, tc := range tests {
			if got := string(run(base + tc.url)); got != tc.want {
				t.Errorf("curl %s = %q, want %q", tc.url, got, tc.want)
			}
		}
	})

	t.Run("Search", func(t *testing.T) {
		tests := []struct{ query, want string }{
			{"SUBJECT%20Caf", "* SEARCH 2\n"},
			{"BODY%20attached", "* SEARCH 3\n"},
			{"ALL", "* SEARCH 1 2 3 4 5\n"},
			{"FROM%20example.com%20NOT%20SUBJECT%20Fwd", "* SEARCH 3\n"},
			{"LARGER%20700", "* SEARCH 2\n"},
			{"SUBJECT%20nothing-matches", "* SEARCH\n"},
		}
		for _, tc := range tests {
			if got := lines(run(base + "/INBOX?" + tc.query)); got != tc.want {
				t.Errorf("curl %s/INBOX?%s = %q, want %q", base, tc.query, got, tc.want)
			}
		}
	})

	t.Run("Upload", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "upload.eml")
		msg := []byte("From: curl@example.org\r\nTo: demo@localhost\r\nSubject: uploaded by curl\r\n\r\nHello from curl.\r\n")
		if err := os.WriteFile(file, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		if out := run("-T", file, base+"/Sent"); len(out) != 0 {
			t.Errorf("curl -T printed %q, want nothing", out)
		}
		if got := run(base + "/Sent;UID=1"); !bytes.Equal(got, msg) {
			t.Errorf("Sent UID 1 after upload = %q, want %q", got, msg)
		}
		if got := lines(run("-X", "STATUS Sent (MESSAGES UIDNEXT)", base+"/")); got != "* STATUS Sent (MESSAGES 1 UIDNEXT 2)\n" {
			t.Errorf("curl -X 'STATUS Sent' = %q", got)
		}
	})

	t.Run("CustomCommand", func(t *testing.T) {
		// FetchUID set \Seen on every INBOX message.
		if got := lines(run("-X", "STATUS INBOX (MESSAGES UNSEEN)", base+"/")); got != "* STATUS INBOX (MESSAGES 5 UNSEEN 0)\n" {
			t.Errorf("curl -X 'STATUS INBOX' = %q", got)
		}
		if got := lines(run("-X", "EXAMINE INBOX", base+"/")); !strings.Contains(got, "* 5 EXISTS\n") || !strings.Contains(got, "* OK [UIDNEXT 6]") {
			t.Errorf("curl -X 'EXAMINE INBOX' = %q, want 5 EXISTS and UIDNEXT 6", got)
		}
	})

	t.Run("IMAPS", func(t *testing.T) {
		url := "imaps://" + s.IMAPS + "/INBOX;UID=2"
		if got := run("-k", url); !bytes.Equal(got, demoMessages[1]) {
			t.Errorf("curl -k %s = %q, want 02-alternative.eml", url, got)
		}
	})

	t.Run("StartTLSIPv6", func(t *testing.T) {
		url := "imap://" + s.IMAP6 + "/INBOX;UID=4"
		out, errOut, err := runProgramErr(t, nil, curl, "-s", "-S", "-v", "-k", "--ssl-reqd", "--max-time", "30", "--user", "demo:demo", url)
		if err != nil {
			t.Fatalf("curl --ssl-reqd %s: %v\n%s", url, err, errOut)
		}
		if !bytes.Equal(out, demoMessages[3]) {
			t.Errorf("curl --ssl-reqd %s = %q, want 04-forwarded.eml", url, out)
		}
		// The transcript shows STARTTLS accepted before any credentials.
		v := string(errOut)
		st, auth := strings.Index(v, "OK Begin TLS"), strings.Index(v, "AUTHENTICATE")
		if st < 0 || (auth >= 0 && auth < st) {
			t.Errorf("curl -v transcript lacks STARTTLS before AUTHENTICATE:\n%s", v)
		}
	})

	t.Run("BadPassword", func(t *testing.T) {
		_, errOut, err := runProgramErr(t, nil, curl, "-s", "-S", "--max-time", "30", "--user", "demo:wrong", base+"/")
		if err == nil {
			t.Fatal("curl with a wrong password succeeded")
		}
		// curl exit status 67: "The user name, password, or similar was
		// not accepted and curl failed to log in."
		if code := exitCode(err); code != 67 {
			t.Errorf("curl with a wrong password exited %d (%v), want 67\n%s", code, err, errOut)
		}
	})
}
