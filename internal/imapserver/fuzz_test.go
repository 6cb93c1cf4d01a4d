package imapserver

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/memconn"
)

// panicDetector fails on a logged panic (the connection's recover logs
// and says BYE, which would otherwise look like an ordinary answer).
type panicDetector struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicDetector) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("panic")) {
		p.mu.Lock()
		p.panics = append(p.panics, string(b))
		p.mu.Unlock()
	}
	return len(b), nil
}

// FuzzCommand feeds arbitrary command lines to the server, in each state
// (and selected in UTF-8 mode, RFC 6855 §3, where strings and mailbox
// names are read differently):
// it must never panic, and a line without CR, LF or a literal must get an
// answer (the LOGOUT after it is then answered too, or a BYE ends the
// connection).
func FuzzCommand(f *testing.F) {
	seeds := []string{
		"a NOOP", "a CAPABILITY", "a LOGIN alice secret", "a LOGIN {5}", "a AUTHENTICATE PLAIN",
		"a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "a STARTTLS", "a SELECT INBOX", "a EXAMINE &AOQ-",
		"a LIST \"\" *", "a LSUB \"\" %", "a STATUS INBOX (MESSAGES UIDNEXT SIZE)", "a APPEND INBOX (\\Seen) {3+}\r\nabc",
		"a FETCH 1:* (FLAGS BODY.PEEK[1.HEADER.FIELDS (From)]<0.10>)", "a FETCH 1 FULL", "a UID FETCH 1,2:* BODY[]",
		"a STORE 1 +FLAGS.SILENT (\\Deleted)", "a SEARCH CHARSET UTF-8 OR (FROM x) NOT 1:2", "a SEARCH SINCE 1-Jan-2026",
		"a COPY 1 Archive", "a MOVE 1 Archive", "a UID EXPUNGE 1:*", "a EXPUNGE", "a CLOSE", "a UNSELECT",
		"a IDLE", "a NAMESPACE", "a CREATE x/y", "a RENAME x y", "a DELETE y", "a UID", "((((((((((", "\x00",
		"a FETCH 1 BODY[", "a SEARCH " + strings.Repeat("NOT ", 50) + "ALL", "a LOGIN {99999999999}",
		"a ID (\"name\" \"x\" \"os\" NIL)", "a ID NIL", "a ID ({1+}\r\nn \"v\")", "a COMPRESS DEFLATE",
		"a ENABLE UTF8=ACCEPT IMAP4rev2", "a ENABLE IMAP4rev2", "a LIST \"\" \"Entw\xc3\xbc*\"",
		"a FETCH 1 (BINARY.PEEK[1.2]<0.10> BINARY.SIZE[] PREVIEW (LAZY) EMAILID THREADID)", "a FETCH 1 BINARY[",
		"a APPEND INBOX CATENATE (TEXT {1+}\r\nx URL \"/INBOX/;UID=1\")", "a APPEND INBOX CATENATE (UTF8 (~{1+}\r\nx) TEXT {0}\r\n)", "a SEARCH SAVEDON 1-Jan-2026 EMAILID M1",
		"a FETCH 1 (PREVIEW (", "a APPEND INBOX ~{3+}\r\na\x00b (\\Seen) {1+}\r\nc", "a APPEND INBOX UTF8 (~{1+}\r\nx)",
	}
	for _, s := range seeds {
		for state := uint8(0); state < 4; state++ {
			f.Add(state, s)
		}
	}
	f.Fuzz(func(t *testing.T, state uint8, line string) {
		var prefix string
		tags := []string{}
		switch state % 4 {
		case 1:
			prefix, tags = "L LOGIN alice secret\r\n", []string{"L"}
		case 2:
			prefix, tags = "L LOGIN alice secret\r\nS SELECT INBOX\r\n", []string{"L", "S"}
		case 3:
			prefix, tags = "L LOGIN alice secret\r\nE ENABLE UTF8=ACCEPT\r\nS SELECT INBOX\r\n", []string{"L", "E", "S"}
		}
		const logout = "zz9 LOGOUT\r\n"
		conn := memconn.New(prefix+line+"\r\n"+logout, 143)
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
		// Skip the greeting and the prefix's answers.
		out := conn.Output()
		for _, tag := range tags {
			_, out, _ = strings.Cut(out, "\r\n"+tag+" OK ")
		}
		_, out, _ = strings.Cut(out, "\r\n")
		if !statusLine.MatchString(out) {
			t.Fatalf("no answer to %q; server said %q", line, out)
		}
	})
}

// statusLine matches a tagged or untagged status response (RFC 3501 §7.1).
var statusLine = regexp.MustCompile(`(?m)^[^ \r\n]+ (OK|NO|BAD|BYE) `)
