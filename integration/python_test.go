package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestPythonImaplib runs testdata/imaplib_client.py (Python's imaplib)
// over plain TCP, implicit TLS and STARTTLS on IPv6, each against a fresh
// server, and compares its JSON summary with what the demo must give.
func TestPythonImaplib(t *testing.T) {
	t.Parallel()
	python := pythonInterpreter(t)
	script := filepath.Join("testdata", "imaplib_client.py")
	tests := []struct {
		name, mode string
		addr       func(*server) string
	}{
		{"Plain", "plain", func(s *server) string { return s.IMAP }},
		{"IMAPS", "ssl", func(s *server) string { return s.IMAPS }},
		{"IPv6StartTLS", "starttls", func(s *server) string { return s.IMAP6 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t)
			host, port, err := net.SplitHostPort(tc.addr(s))
			if err != nil {
				t.Fatal(err)
			}
			out := runProgram(t, nil, python, script, host, port, tc.mode)
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("imaplib_client.py output is not JSON: %v\n%s", err, out)
			}
			want := wantImaplib(tc.mode)
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("imaplib %s: missing %q", tc.mode, k)
					continue
				}
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				if !bytes.Equal(gj, wj) {
					t.Errorf("imaplib %s: %s =\n\t%s\nwant\n\t%s", tc.mode, k, gj, wj)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("imaplib %s: unexpected key %q", tc.mode, k)
				}
			}
		})
	}
}

// wantImaplib is the summary imaplib_client.py must print for a fresh
// demo server in the given mode.
func wantImaplib(mode string) map[string]any {
	var bodies []any
	for _, m := range demoMessages {
		sum := sha256.Sum256(m)
		bodies = append(bodies, hex.EncodeToString(sum[:]))
	}
	// imaplib upper-cases the capabilities it reports.
	capsBefore := upperSorted(capsTLS)
	if mode == "plain" {
		capsBefore = upperSorted(capsPlain)
	}
	list := func(s ...string) []any {
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	return map[string]any{
		"tls":                 mode != "plain",
		"capabilities_before": list(strings.Fields(capsBefore)...),
		"capabilities_after":  list(strings.Fields("APPENDLIMIT=67108864 BINARY CATENATE CHILDREN COMPRESS=DEFLATE CONDSTORE CREATE-SPECIAL-USE ENABLE ESEARCH ESORT ID IDLE IMAP4rev1 IMAP4rev2 LIST-EXTENDED LIST-STATUS LITERAL+ MOVE MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA QUOTA=RES-MESSAGE QUOTA=RES-STORAGE SASL-IR SAVEDATE SEARCHRES SORT SORT=DISPLAY SPECIAL-USE STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT UTF8=ACCEPT WITHIN")...),
		"state":               "AUTH",
		"list": list(
			`(\HasNoChildren \Archive) "/" Archive`,
			`(\HasNoChildren \Drafts) "/" Drafts`,
			`(\HasNoChildren \Junk) "/" Junk`,
			`(\HasNoChildren \Sent) "/" Sent`,
			`(\HasNoChildren \Trash) "/" Trash`,
			`(\HasNoChildren) "/" INBOX`,
		),
		"lsub": list(
			`() "/" Archive`, `() "/" Drafts`, `() "/" INBOX`,
			`() "/" Junk`, `() "/" Sent`, `() "/" Trash`,
		),
		"status": "INBOX (MESSAGES 5 UNSEEN 4 UIDNEXT 6)",
		"select": list("5"),
		"fetch_attrs": list(
			`1 (UID 1 FLAGS (\Recent \Seen) RFC822.SIZE 386)`,
			`2 (UID 2 FLAGS (\Recent) RFC822.SIZE 712)`,
			`3 (UID 3 FLAGS (\Recent) RFC822.SIZE 637)`,
			`4 (UID 4 FLAGS (\Recent) RFC822.SIZE 627)`,
			`5 (UID 5 FLAGS (\Recent) RFC822.SIZE 366)`,
		),
		"bodies":                     bodies,
		"header_fields":              "From: =?UTF-8?Q?Bj=C3=B6rn_Bob?= <bob@example.net>\r\nSubject: =?UTF-8?Q?Caf=C3=A9_menu?= for Friday\r\n\r\n",
		"partial":                    []any{list("3 (BODY[2]<0> {10}", "JVBERi0xLj")},
		"search_unseen":              "2 3 4 5",
		"search_header":              "2",
		"search_utf8":                "5",
		"uid_search":                 "2 3 4",
		"store":                      list(`2 (FLAGS (\Recent \Flagged))`),
		"store_silent":               list(),
		"copy":                       "COPYUID V 2:3 1:2",
		"uid_store":                  list(`4 (UID 4 FLAGS (\Recent \Deleted))`),
		"expunge":                    list("4"),
		"append":                     "APPENDUID V 1",
		"copyuid_validity_matches":   true,
		"appenduid_validity_matches": true,
		"status_sent":                "Sent (MESSAGES 1 UNSEEN 0)",
		"idle":                       list("* 5 EXISTS", "* 5 RECENT"),
		"idle_done":                  "OK",
		"final_flags":                list(`1 (UID 1 FLAGS (\Recent \Seen))`, `2 (UID 2 FLAGS (\Recent \Flagged $Todo))`, `3 (UID 3 FLAGS (\Recent))`, `4 (UID 5 FLAGS (\Recent))`, `5 (UID 6 FLAGS (\Recent))`),
		"appended_body":              "From: py@example.org\r\nSubject: from imaplib\r\n\r\nHello from Python.\r\n",
		"close":                      "OK",
		"logout":                     "BYE",
	}
}

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  error
)

// pythonInterpreter returns the real python3 binary: version managers
// (pyenv) put a shell-script shim first in PATH that costs seconds a run.
func pythonInterpreter(t *testing.T) string {
	t.Helper()
	shim := needProgram(t, "python3")
	pythonOnce.Do(func() {
		var out []byte
		out, _, pythonErr = runProgramErr(t, nil, shim, "-c", "import sys; print(sys.executable)")
		pythonPath = strings.TrimSpace(string(out))
	})
	if pythonErr != nil || pythonPath == "" {
		t.Fatalf("python3 -c 'print(sys.executable)': %v", pythonErr)
	}
	return pythonPath
}

// upperSorted is caps (space-separated) upper-cased and sorted, as
// imaplib's CAPABILITIES tuple prints them.
func upperSorted(caps string) string {
	f := strings.Fields(strings.ToUpper(caps))
	sort.Strings(f)
	return strings.Join(f, " ")
}
