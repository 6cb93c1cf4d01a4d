package integration

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
)

// Hostile input (issue 8, item 2): a table of malformed, oversized, lying
// and abusive IMAP and POP3 inputs sent over loopback TCP to the real
// daemon (`postern serve --demo`: real backend, Maildir). Each case asserts
// the answer's class (tagged BAD/NO/OK, BYE, -ERR/+OK) and the connection's
// fate (still usable, or closed); after each case a second, healthy session
// must still log in, select and fetch; and the daemon's peak RSS over the
// whole table must stay under hostileRSSBound.

// hostileRSSBound is the most resident memory the daemon may reach
// (VmHWM) across the table. Why 200 MiB: the largest buffers the limits
// allow are a 64 KiB line, 256 KiB of literals per command (max_literal_total)
// and streamed APPENDs; a daemon that held an APPEND, a COMPRESS bomb's
// output or a flood's answers in memory would pass 1 GiB, while the Go
// runtime, SQLite and the demo's sessions stay well under 100 MiB.
const hostileRSSBound = 200 << 20

// hostileState is where a case's connection is before its input is sent.
type hostileState int

const (
	stGreeted  hostileState = iota // after the greeting (POP3: AUTHORIZATION)
	stLoggedIn                     // after LOGIN (POP3: TRANSACTION)
	stSelected                     // after SELECT INBOX (IMAP only)
)

// hostileFate is what must become of the connection after the input.
type hostileFate int

const (
	// fateOpen: the connection still answers a sentinel command.
	fateOpen hostileFate = iota
	// fateClosed: the server closes the connection (IMAP: after a BYE).
	fateClosed
	// fateHangup: the client closes right after sending (a lying literal,
	// a half-sent command); only the server's health is checked.
	fateHangup
)

// hostileCase is one row of the table.
type hostileCase struct {
	name  string
	pop   bool // POP3 rather than IMAP
	state hostileState
	send  []byte
	fate  hostileFate
	// want lists, in order, the classes of the answers to the input: for
	// IMAP the status of each line tagged "x" ("OK", "NO", "BAD") or
	// "BYE" for an untagged BYE; for POP3 "+OK" or "-ERR" for each status
	// line. want nil with a check: the check alone decides.
	want []string
	// reason, if set, must match the text of the first answer in want.
	reason string
	// check, if set, is run on the whole output too.
	check func(out string) error
	// quiet: a closed IMAP connection need not end with a BYE (the
	// client broke the framing under TLS or DEFLATE, where none can reach
	// it).
	quiet bool
	// custom, if set, replaces the send-and-read step: the case drives
	// the connection itself (a TLS handshake after STARTTLS).
	custom func(t *testing.T, c *hostileConn)
	// compress turns on COMPRESS=DEFLATE (RFC 4978) before send, which is
	// then written raw: the case builds its own deflate stream.
	compress bool
}

// TestHostile runs the table against one daemon; see the file comment.
func TestHostile(t *testing.T) {
	s := startHostileServer(t)
	cases := hostileCases()
	if len(cases) < 200 {
		t.Fatalf("the hostile table has %d cases, want at least 200", len(cases))
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
	}
	imapCount, popCount := 0, 0
	for i, tc := range cases {
		if tc.pop {
			popCount++
		} else {
			imapCount++
		}
		ok := t.Run(tc.name, func(t *testing.T) {
			runHostile(t, s, tc)
			// Under -short the healthy sessions follow every 25th case and
			// the last only: most of the table's time is theirs.
			if !testing.Short() || i%25 == 24 || i == len(cases)-1 {
				healthyIMAP(t, s)
				healthyPOP3(t, s)
			}
		})
		if !ok && s.exitedEarly() {
			t.Fatalf("postern died during %q\nlog:\n%s", tc.name, s.stderr)
		}
	}
	peak, err := procStatusKiB(s.proc.Pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hostile table: %d cases (%d IMAP, %d POP3); daemon peak RSS (VmHWM) %.1f MiB, bound %d MiB",
		len(cases), imapCount, popCount, float64(peak)/1024, hostileRSSBound>>20)
	if peak*1024 > hostileRSSBound {
		t.Errorf("daemon peak RSS %d KiB exceeds the bound of %d MiB", peak, hostileRSSBound>>20)
	}
}

// startHostileServer starts a demo daemon whose failed-login delay is a
// millisecond: the table fails logins on purpose, and the real delay
// (2 s doubling to 15 s per address) would only make it slow, as the
// healthy sessions come from the same address.
func startHostileServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	if _, err := demo.Setup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, demo.ConfigName)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(login_delay(?:_max)?) = .*$`)
	b = re.ReplaceAll(b, []byte("$1 = 1ms"))
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	plantSymlinks(t, dir)
	return startServerIn(t, dir)
}

// hostileSecret marks the content of the files outside the user's store
// that plantSymlinks points at: no answer may ever carry it.
const hostileSecret = "HOSTILE-SECRET-7f3a"

// plantSymlinks puts in the demo user's Maildir a folder ".escape" that is
// a symlink to a Maildir outside the data, and a message file in INBOX
// that is a symlink to a file outside (issue 8 item 2: symlinks). The
// daemon must neither show them nor change what they point at.
func plantSymlinks(t *testing.T, dir string) {
	t.Helper()
	outside := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(outside, "box", sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	msg := []byte("Subject: " + hostileSecret + "\r\n\r\n" + hostileSecret + "\r\n")
	files := []string{filepath.Join(outside, "box", "cur", "1000.outside.host:2,"), filepath.Join(outside, "file")}
	for _, f := range files {
		if err := os.WriteFile(f, msg, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	md := filepath.Join(dir, "users", demo.User, "Maildir")
	if err := os.Symlink(filepath.Join(outside, "box"), filepath.Join(md, ".escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(files[1], filepath.Join(md, "cur", "1999999999.evil.host:2,S")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range files {
			if b, err := os.ReadFile(f); err != nil || !bytes.Equal(b, msg) {
				t.Errorf("the file %s outside the store was changed or removed: %v", f, err)
			}
		}
	})
}

// exitedEarly reports whether the daemon has exited.
func (s *server) exitedEarly() bool {
	select {
	case err := <-s.exited:
		s.exited <- err // keep it for stop
		return true
	default:
		return false
	}
}

// procStatusKiB reads a "kB" field of /proc/PID/status.
func procStatusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// hostileConn is a byte-level connection for one case.
type hostileConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	w    io.Writer // conn, or a deflate writer after COMPRESS
}

func (c *hostileConn) line() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		return l, err
	}
	return l, nil
}

// until reads lines until one for which stop returns true, and returns
// them all (stop's line last).
func (c *hostileConn) until(stop func(string) bool) string {
	c.t.Helper()
	var sb strings.Builder
	for {
		l, err := c.line()
		sb.WriteString(l)
		if err != nil {
			c.t.Fatalf("reading: %v; got so far:\n%s", err, hclip(sb.String()))
		}
		if stop(l) {
			return sb.String()
		}
	}
}

// hclip shortens output for failure messages.
func hclip(s string) string {
	if len(s) > 2000 {
		return s[:1000] + fmt.Sprintf("\n...[%d octets]...\n", len(s)-2000) + s[len(s)-1000:]
	}
	return s
}

func tagged(tag string) func(string) bool {
	return func(l string) bool { return strings.HasPrefix(l, tag+" ") }
}

// dialHostile connects and brings the session to state.
func dialHostile(t *testing.T, s *server, tc hostileCase) *hostileConn {
	t.Helper()
	addr := s.IMAP
	if tc.pop {
		addr = s.POP3
	}
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &hostileConn{t: t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: conn}
	g := c.until(func(string) bool { return true })
	if tc.pop {
		if !strings.HasPrefix(g, "+OK") {
			t.Fatalf("POP3 greeting %q", g)
		}
		if tc.state >= stLoggedIn {
			c.send([]byte("USER demo\r\nPASS demo\r\n"))
			for range 2 {
				if l := c.until(func(string) bool { return true }); !strings.HasPrefix(l, "+OK") {
					t.Fatalf("POP3 login: %q", l)
				}
			}
		}
		return c
	}
	if !strings.HasPrefix(g, "* OK") {
		t.Fatalf("IMAP greeting %q", g)
	}
	if tc.state >= stLoggedIn {
		c.send([]byte("P1 LOGIN demo demo\r\n"))
		if l := c.until(tagged("P1")); !strings.Contains(l, "P1 OK") {
			t.Fatalf("LOGIN: %q", l)
		}
	}
	if tc.state >= stSelected {
		c.send([]byte("P2 SELECT INBOX\r\n"))
		if l := c.until(tagged("P2")); !strings.Contains(l, "P2 OK") {
			t.Fatalf("SELECT: %q", l)
		}
	}
	if tc.compress {
		c.send([]byte("P3 COMPRESS DEFLATE\r\n"))
		if l := c.until(tagged("P3")); !strings.Contains(l, "P3 OK") {
			t.Fatalf("COMPRESS: %q", l)
		}
		c.r = bufio.NewReaderSize(flateReader(conn), 64<<10)
	}
	return c
}

func (c *hostileConn) send(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.w.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// runHostile sends one case's input and checks the answers and the fate.
func runHostile(t *testing.T, s *server, tc hostileCase) {
	c := dialHostile(t, s, tc)
	defer c.conn.Close()
	if tc.custom != nil {
		tc.custom(t, c)
		return
	}
	// The input is written while the answers are read: a flood's answers
	// would otherwise fill both socket buffers and block both sides.
	sent := make(chan error, 1)
	go func() {
		_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
		_, err := c.w.Write(tc.send)
		sent <- err
	}()
	if tc.fate == fateHangup {
		<-sent // a write error only means the server closed first
		c.conn.Close()
		return
	}
	var out string
	if tc.fate == fateOpen {
		if err := <-sent; err != nil {
			t.Fatalf("sending: %v", err)
		}
		// A sentinel both protocols answer in every state: the session
		// must still be there and in step.
		if tc.pop {
			// The sentinel's CAPA answer is the last of as many as the
			// input asked for, plus one.
			capas := 1 + strings.Count(strings.ToUpper(string(tc.send)), "CAPA\r\n")
			_, _ = c.w.Write([]byte("CAPA\r\n"))
			out = c.until(func(l string) bool {
				if l == "IMPLEMENTATION Postern\r\n" {
					capas--
				}
				return capas == 0
			})
			if l := c.until(func(string) bool { return true }); l != ".\r\n" {
				t.Fatalf("CAPA sentinel ends with %q", l)
			}
			i := strings.LastIndex(out, "+OK Capability list follows\r\n")
			out = out[:i]
		} else {
			sentinel := []byte("ZZ NOOP\r\n")
			if tc.compress {
				sentinel = deflated(sentinel)
			}
			_, _ = c.w.Write(sentinel)
			out = c.until(tagged("ZZ"))
			i := strings.LastIndex(out, "ZZ ")
			if !strings.HasPrefix(out[i:], "ZZ OK") {
				t.Fatalf("sentinel NOOP: %q\noutput:\n%s", out[i:], hclip(out))
			}
			out = out[:i]
		}
	} else { // fateClosed
		_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		b, err := io.ReadAll(c.r)
		out = string(b)
		// Under DEFLATE a close mid-stream is io.ErrUnexpectedEOF.
		if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("want the server to close; reading: %v\noutput:\n%s", err, hclip(out))
		}
		<-sent
	}
	got := answerClasses(out, tc.pop)
	if tc.want != nil {
		if g := classesOnly(got); !equalStrings(g, tc.want) {
			t.Fatalf("answers %s, want %s\noutput:\n%s", summary(g), summary(tc.want), hclip(out))
		}
		if tc.reason != "" && len(got) > 0 && !regexp.MustCompile(tc.reason).MatchString(got[0].line) {
			t.Errorf("first answer %q does not match %q", got[0].line, tc.reason)
		}
	}
	if tc.fate == fateClosed && !tc.pop && !strings.Contains(out, "* BYE ") && !tc.quiet {
		t.Errorf("closed without a BYE; output:\n%s", hclip(out))
	}
	if tc.check != nil {
		if err := tc.check(out); err != nil {
			t.Errorf("%v\noutput:\n%s", err, hclip(out))
		}
	}
}

// isReset reports a connection reset: the server closed with unread input.
func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// answer is one status line of the output.
type answer struct{ class, line string }

// answerClasses picks the status lines: for IMAP the lines tagged "x" and
// untagged BYEs, for POP3 the +OK/-ERR lines.
func answerClasses(out string, pop bool) []answer {
	var as []answer
	for l := range strings.SplitSeq(out, "\r\n") {
		switch {
		case pop && strings.HasPrefix(l, "+OK"):
			as = append(as, answer{"+OK", l})
		case pop && strings.HasPrefix(l, "-ERR"):
			as = append(as, answer{"-ERR", l})
		case !pop && strings.HasPrefix(l, "* BYE"):
			as = append(as, answer{"BYE", l})
		case !pop && strings.HasPrefix(l, "* BAD"):
			as = append(as, answer{"*BAD", l})
		case !pop && strings.HasPrefix(l, "x "):
			f := strings.Fields(l)
			if len(f) > 1 {
				as = append(as, answer{f[1], l})
			}
		}
	}
	return as
}

// summary shortens a list of classes for failure messages.
func summary(cs []string) string {
	if len(cs) > 12 {
		return fmt.Sprintf("%q...(%d in all)", cs[:12], len(cs))
	}
	return fmt.Sprintf("%q", cs)
}

func classesOnly(as []answer) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.class
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// healthyIMAP is the second session after each case: LOGIN, SELECT,
// FETCH of message 1, LOGOUT.
func healthyIMAP(t *testing.T, s *server) {
	t.Helper()
	c := dialRaw(t, s.IMAP, true)
	c.mustOK("SELECT INBOX")
	u := c.mustOK("FETCH 1 (UID RFC822.SIZE)")
	if len(u) == 0 || !strings.HasPrefix(u[len(u)-1], "* 1 FETCH (UID 1 RFC822.SIZE ") {
		t.Fatalf("healthy session: FETCH 1 = %q", u)
	}
	c.mustOK("LOGOUT")
}

// healthyPOP3 is the healthy POP3 session: USER, PASS, STAT, QUIT.
func healthyPOP3(t *testing.T, s *server) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.POP3, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, "USER demo\r\nPASS demo\r\nSTAT\r\nQUIT\r\n"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"+OK", "+OK", "+OK", "+OK", "+OK"} {
		l, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, want) {
			t.Fatalf("healthy POP3 session: line %d = %q, %v", i, l, err)
		}
	}
}

// flateReader inflates the server's side of a COMPRESS=DEFLATE session
// (RFC 4978 §3: raw deflate).
func flateReader(r io.Reader) io.Reader { return flate.NewReader(r) }

// deflated is b as one raw deflate stream, flushed but not finished, as a
// client under COMPRESS=DEFLATE sends it.
func deflated(parts ...[]byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	for _, p := range parts {
		_, _ = w.Write(p)
	}
	_ = w.Flush()
	return buf.Bytes()
}

// rep is bytes.Repeat on strings, for building inputs.
func rep(s string, n int) string { return strings.Repeat(s, n) }

// seqList is "1,2,...,n".
func seqList(n int) string {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}
