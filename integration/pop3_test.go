package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// pop3Form is msg as POP3 sends it: bare LFs as CRLF, ending in CRLF.
func pop3Form(msg []byte) []byte {
	b := bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		b = append(b, "\r\n"...)
	}
	return b
}

// uidValidity is INBOX's UIDVALIDITY, read over IMAP.
func uidValidity(t *testing.T, s *server) uint32 {
	t.Helper()
	c := loginIMAP(t, s.IMAP, nil)
	defer c.Close()
	st, err := c.Status("INBOX", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return st.UIDValidity
}

// pop3Want is what a session over the fresh demo INBOX must see.
func pop3Want(t *testing.T, s *server) (stat []int, list, uidl, digests []string) {
	v := uidValidity(t, s)
	total := 0
	for i, m := range demoMessages {
		b := pop3Form(m)
		total += len(b)
		list = append(list, fmt.Sprintf("%d %d", i+1, len(b)))
		uidl = append(uidl, fmt.Sprintf("%d %08x%08x", i+1, v, i+1))
		sum := sha256.Sum256(b)
		digests = append(digests, hex.EncodeToString(sum[:]))
	}
	return []int{len(demoMessages), total}, list, uidl, digests
}

// TestPOP3Poplib runs Python's poplib against the daemon: plain on
// 127.0.0.1 and ::1, STLS, and pop3s; sizes equal the octets RETR sends,
// UIDL is UW's format, and a DELE applies at QUIT.
func TestPOP3Poplib(t *testing.T) {
	python := needProgram(t, "python3")
	script := filepath.Join(moduleRoot, "integration", "testdata", "poplib_client.py")
	tests := []struct {
		name, mode string
		addr       func(*server) string
		dele       int
	}{
		{"plain", "plain", func(s *server) string { return s.POP3 }, 0},
		{"plain over IPv6", "plain", func(s *server) string { return s.POP36 }, 0},
		{"stls", "stls", func(s *server) string { return s.POP3 }, 0},
		{"pop3s", "ssl", func(s *server) string { return s.POP3S }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t)
			stat, list, uidl, digests := pop3Want(t, s)
			host, port, _ := net.SplitHostPort(tt.addr(s))
			args := []string{script, host, port, tt.mode}
			if tt.dele != 0 {
				args = append(args, strconv.Itoa(tt.dele))
			}
			out := runProgram(t, nil, python, args...)
			var got struct {
				Greeting, User, Pass, Noop, Quit, Stls, Dele, Rset string
				Capa                                               []string
				CapaTLS                                            []string `json:"capa_tls"`
				Stat                                               []int
				StatAfterDele                                      []int `json:"stat_after_dele"`
				List, UIDL, Retr                                   []string
				Top10                                              int `json:"top_1_0_lines"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("poplib_client output %q: %v", out, err)
			}
			if got.Greeting != "+OK" || got.User != "+OK" || got.Pass != "+OK" || got.Noop != "+OK" || got.Quit != "+OK" {
				t.Errorf("responses %+v, want +OK throughout", got)
			}
			if !slices.Equal(got.Stat, stat) || !slices.Equal(got.List, list) || !slices.Equal(got.UIDL, uidl) || !slices.Equal(got.Retr, digests) {
				t.Errorf("STAT %v LIST %q UIDL %q RETR %q\nwant STAT %v LIST %q UIDL %q RETR %q", got.Stat, got.List, got.UIDL, got.Retr, stat, list, uidl, digests)
			}
			headerLines := bytes.Count(pop3Form(demoMessages[0])[:bytes.Index(pop3Form(demoMessages[0]), []byte("\r\n\r\n"))+2], []byte("\r\n"))
			if got.Top10 != headerLines+1 {
				t.Errorf("TOP 1 0 gave %d lines, want the %d header lines and the blank line", got.Top10, headerLines)
			}
			for _, c := range []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING"} {
				if !slices.Contains(got.Capa, c) {
					t.Errorf("CAPA %q lacks %s", got.Capa, c)
				}
			}
			switch tt.mode {
			case "stls":
				if !slices.Contains(got.Capa, "STLS") || slices.Contains(got.CapaTLS, "STLS") || got.Stls != "+OK" {
					t.Errorf("STLS: CAPA before %q, after %q, answer %q", got.Capa, got.CapaTLS, got.Stls)
				}
			case "ssl":
				if slices.Contains(got.Capa, "STLS") {
					t.Errorf("CAPA over implicit TLS offers STLS: %q", got.Capa)
				}
			}
			if tt.dele != 0 {
				if got.Dele != "+OK" || got.Rset != "+OK" || !slices.Equal(got.StatAfterDele, []int{stat[0] - 1, stat[1] - len(pop3Form(demoMessages[tt.dele-1]))}) {
					t.Errorf("DELE %d: %q, RSET %q, STAT after %v", tt.dele, got.Dele, got.Rset, got.StatAfterDele)
				}
				c := loginIMAP(t, s.IMAP, nil)
				defer c.Close()
				if n := statusOf(t, c, "INBOX"); !strings.HasPrefix(n, "messages=4 ") {
					t.Errorf("after QUIT, IMAP STATUS INBOX = %s, want 4 messages", n)
				}
			}
		})
	}
}

// TestPOP3Curl lists, retrieves and deletes with curl over pop3:// (plain
// and STLS) and pop3s://.
func TestPOP3Curl(t *testing.T) {
	curl := needProgram(t, "curl")
	s := startServer(t)
	_, list, _, _ := pop3Want(t, s)
	get := func(args ...string) []byte {
		t.Helper()
		return runProgram(t, nil, curl, append([]string{"-s", "-S", "--max-time", "20", "--user", "demo:demo"}, args...)...)
	}
	if got, want := string(get("pop3://"+s.POP3+"/")), strings.Join(list, "\r\n")+"\r\n"; got != want {
		t.Errorf("curl pop3:// LIST = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		args []string
		n    int
	}{
		{[]string{"pop3://" + s.POP3 + "/1"}, 1},
		{[]string{"--ssl-reqd", "-k", "pop3://" + s.POP3 + "/2"}, 2},
		{[]string{"-k", "pop3s://" + s.POP3S + "/3"}, 3},
		{[]string{"pop3://[::1]:" + s.POP36[strings.LastIndex(s.POP36, ":")+1:] + "/4"}, 4},
	} {
		if got, want := get(tt.args...), pop3Form(demoMessages[tt.n-1]); !bytes.Equal(got, want) {
			t.Errorf("curl %s = %q, want %q", tt.args, got, want)
		}
	}
	get("-X", "DELE", "-I", "pop3://"+s.POP3+"/1")
	var after []string
	for i, m := range demoMessages[1:] {
		after = append(after, fmt.Sprintf("%d %d", i+1, len(pop3Form(m))))
	}
	if got, want := string(get("pop3://"+s.POP3+"/")), strings.Join(after, "\r\n")+"\r\n"; got != want {
		t.Errorf("curl LIST after DELE 1 = %q, want %q", got, want)
	}
	c := loginIMAP(t, s.IMAP, nil)
	defer c.Close()
	if n := statusOf(t, c, "INBOX"); !strings.HasPrefix(n, "messages=4 ") {
		t.Errorf("after curl DELE, IMAP STATUS INBOX = %s, want 4 messages", n)
	}
}

// pop3Conn is a line-level POP3 client.
type pop3Conn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialPOP3(t *testing.T, addr string) *pop3Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &pop3Conn{t: t, conn: conn, r: bufio.NewReader(conn)}
	if g := c.line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("POP3 greeting = %q", g)
	}
	return c
}

func (c *pop3Conn) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("POP3: reading: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// ok sends a command and fails the test unless the answer is +OK.
func (c *pop3Conn) ok(cmd string) string {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	fmt.Fprintf(c.conn, "%s\r\n", cmd)
	l := c.line()
	if !strings.HasPrefix(l, "+OK") {
		c.t.Fatalf("POP3 %s = %q, want +OK", cmd, l)
	}
	return l
}

// TestPOP3WithIMAP: a POP3 session marks messages 2 and 3 while an IMAP
// session appends and flags in the same INBOX; QUIT removes exactly 2 and
// 3. A POP3 session that dies without QUIT removes nothing.
func TestPOP3WithIMAP(t *testing.T) {
	s := startServer(t)
	p := dialPOP3(t, s.POP3)
	p.ok("USER demo")
	p.ok("PASS demo")
	if st := p.ok("STAT"); !strings.HasPrefix(st, "+OK 5 ") {
		t.Fatalf("STAT = %q, want 5 messages", st)
	}
	p.ok("DELE 2")
	p.ok("DELE 3")

	c := loginIMAP(t, s.IMAP, nil)
	defer c.Close()
	msg := "Subject: during POP3\r\n\r\nDelivered while a POP3 session was open.\r\n"
	ac := c.Append("INBOX", int64(len(msg)), nil)
	ac.Write([]byte(msg))
	ac.Close()
	if _, err := ac.Wait(); err != nil {
		t.Fatal(err)
	}
	selectMailbox(t, c, "INBOX", false)
	if err := c.Store(imap.SeqSetNum(4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	p.ok("QUIT")
	// The POP3 session's process or goroutine finishes the update before
	// answering QUIT; IMAP sees it at its next command.
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetch(t, c, imap.SeqSetNum(1, 2, 3, 4), &imap.FetchOptions{UID: true, Flags: true})
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%d %s", m.UID, flagString(m.Flags)))
	}
	want := []string{`1 \Seen`, `4 \Flagged`, `5 `, `6 `}
	if !slices.Equal(got, want) {
		t.Errorf("after POP3 QUIT: UIDs and flags %q, want %q", got, want)
	}

	// A session that dies without QUIT deletes nothing.
	k := dialPOP3(t, s.POP3)
	k.ok("USER demo")
	k.ok("PASS demo")
	k.ok("DELE 1")
	k.conn.Close()
	// Wait (bounded) until the server has closed that session.
	gone := "Unexpected client disconnect, while reading line user=demo"
	for i := 0; i < 500 && !strings.Contains(s.stderr.String(), gone); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.stderr.String(), gone) {
		t.Fatalf("the server did not log the end of the dropped POP3 session (%q)", gone)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if n := statusOf(t, c, "INBOX"); !strings.HasPrefix(n, "messages=4 ") {
		t.Errorf("after a POP3 session closed without QUIT: STATUS INBOX = %s, want still 4", n)
	}
}
