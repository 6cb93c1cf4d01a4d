package imapserver

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/postern/postern/internal/memconn"
)

// FuzzMailboxCommands feeds arbitrary arguments to the parsers of the
// mailbox extensions after login: extended LIST (RFC 5258, RFC 5819, RFC
// 6154), CREATE parameters (RFC 4466, RFC 6154 §3), STATUS items (RFC
// 8438, RFC 8474) and the QUOTA commands (RFC 9208). It must never panic,
// and a line without CR, LF or a literal must get a tagged answer.
func FuzzMailboxCommands(f *testing.F) {
	for _, s := range []string{
		`LIST () "" %`, `LIST (SUBSCRIBED RECURSIVEMATCH) "" "*" RETURN (CHILDREN STATUS (MESSAGES SIZE MAILBOXID))`,
		`LIST "" ("INBOX" "Archive/%" "")`, `LIST (SPECIAL-USE)"" * RETURN (SPECIAL-USE SUBSCRIBED)`, `LIST (RECURSIVEMATCH) "" %`,
		`LIST "" % RETURN (STATUS ())`, `LIST "" () RETURN`, `LIST ((SUBSCRIBED)) "" %`, `LSUB () "" %`,
		`CREATE x (USE (\Sent))`, `CREATE x (USE ())`, `CREATE x (USE (\All \Junk) USE (\Trash))`, `CREATE x (FOO bar)`, `CREATE x ()`,
		`STATUS INBOX (MAILBOXID SIZE DELETED)`, `STATUS INBOX (DELETED-STORAGE APPENDLIMIT)`, `GETQUOTA ""`, `GETQUOTAROOT INBOX`, `SETQUOTA "" (STORAGE 512 MESSAGE 9)`, `SETQUOTA x (`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		const prefix, logout = "L LOGIN alice secret\r\n", "zz9 LOGOUT\r\n"
		conn := memconn.New(prefix+"F "+line+"\r\n"+logout, 143)
		var panics panicDetector
		srv := New(Options{
			NewSession: newFakeSessionFunc(newFakeStore(), true),
			Logger:     slog.New(slog.NewTextHandler(&panics, nil)),
		})
		srv.ServeConn(context.Background(), conn, false)
		if len(panics.panics) > 0 {
			t.Fatalf("panic for %q: %s", line, panics.panics)
		}
		if strings.ContainsAny(line, "\r\n{") {
			return
		}
		out := conn.Output()
		if !strings.Contains(out, "\r\nF OK ") && !strings.Contains(out, "\r\nF NO ") && !strings.Contains(out, "\r\nF BAD ") &&
			!strings.Contains(out, "* BYE") {
			t.Fatalf("no answer to %q; server said %q", line, out)
		}
	})
}
