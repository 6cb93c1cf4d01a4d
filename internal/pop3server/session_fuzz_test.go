package pop3server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/memconn"
)

// panicLog records log lines that mention a panic: the connection's
// recover logs it and ends the session, which would otherwise pass.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicLog) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("panic")) {
		p.mu.Lock()
		p.panics = append(p.panics, string(b))
		p.mu.Unlock()
	}
	return len(b), nil
}

// FuzzSession feeds an arbitrary command line to the POP3 state machine
// (RFC 1939 §3-§7, RFC 2449 CAPA, RFC 5034 AUTH) in the AUTHORIZATION or
// TRANSACTION state: it must never panic, and a line without CR or LF must
// get a "+OK", "-ERR" or, for AUTH, a "+ " continuation as its first answer.
func FuzzSession(f *testing.F) {
	seeds := []string{
		"USER alice", "PASS secret", "APOP alice 0123456789abcdef0123456789abcdef", "AUTH", "AUTH PLAIN",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==", "AUTH LOGIN YWxpY2U=", "AUTH PLAIN =", "AUTH X", "CAPA", "STLS", "STAT",
		"LIST", "LIST 1", "LIST 0", "LIST 4294967296", "RETR 1", "RETR -1", "TOP 1 0", "TOP 1 99999999999", "TOP 1",
		"UIDL", "UIDL 2", "DELE 1", "DELE 1 2", "RSET", "NOOP", "QUIT", "UTF8", "LANG", "XTND", "", " ", "\x00",
		"user alice", "USER " + strings.Repeat("a", 300), "LIST 1 ", "RETR\t1", "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	f.Fuzz(func(t *testing.T, state uint8, line string) {
		prefix := ""
		if state%2 == 1 {
			prefix = "USER alice\r\nPASS secret\r\n"
		}
		conn := memconn.New(prefix+line+"\r\nQUIT\r\n", 110)
		var pl panicLog
		srv := New(Options{
			NewSession: newFakeSessionFunc(newFakeStore(), true),
			Logger:     slog.New(slog.NewTextHandler(&pl, nil)),
			Hostname:   "pop.example.org",
		})
		srv.ServeConn(context.Background(), conn, false)
		if len(pl.panics) > 0 {
			t.Fatalf("panic for %q: %s", line, pl.panics)
		}
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		out := conn.Output()
		// Skip the greeting and the prefix's answers, which log in.
		var ans string
		for range 1 + 2*int(state%2) {
			ans, out, _ = strings.Cut(out, "\r\n")
		}
		if !strings.HasPrefix(ans, "+OK") {
			t.Fatalf("prefix %q answered %q", prefix, ans)
		}
		if !strings.HasPrefix(out, "+OK") && !strings.HasPrefix(out, "-ERR") && !strings.HasPrefix(out, "+ ") {
			t.Fatalf("no answer to %q; server said %q", line, out)
		}
	})
}
