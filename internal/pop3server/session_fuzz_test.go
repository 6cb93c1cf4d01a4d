package pop3server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// memConn is a net.Conn on loopback addresses that reads a fixed input and
// records the output, for fuzzing the command loop without sockets.
type memConn struct {
	mu  sync.Mutex // guards r and out
	r   *bytes.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.r.Read(p)
}

func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.Write(p)
}

func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

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
		conn := &memConn{r: bytes.NewReader([]byte(prefix + line + "\r\nQUIT\r\n"))}
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
		out := conn.out.String()
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
