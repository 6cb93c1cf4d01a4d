package pop3server

import (
	"bufio"
	"bytes"
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
	"unicode/utf8"
)

// The transcript file format (testdata/*.txt), a POP3 cousin of
// integration/transcript_format_test.go:
//
//	C: text     the client sends text followed by CRLF
//	C~ "..."    the client sends the Go-quoted octets exactly (no CRLF added)
//	S: text     the server sends text followed by CRLF
//	S~ "..."    the server sends the Go-quoted octets exactly: for output
//	            that is not a clean line (trailing blank, control octets)
//	-- tls      the client runs a TLS handshake now (after STLS)
//	-- closed   the server must have closed the connection
//	# ...       a comment; blank lines are ignored
//
// Consecutive C lines form one step and are sent in one write, so that a
// step of several commands tests pipelining (RFC 2449 §6.6) and STLS
// injection. The harness then reads one response per command line: a
// single line, or up to the terminating "." for a +OK to CAPA, RETR, TOP
// and LIST/UIDL without argument; after a "+ " continuation to AUTH, the
// next line sent is the SASL response; after +OK to STLS the rest of the
// step's lines get no response (the server must discard them); after QUIT
// it reads to the end of the connection. The octets read must equal the
// step's S lines exactly. A step with S lines but no C lines reads one
// line (the greeting). Every transcript ends with the connection closed.
//
// The file name picks server options (transcriptOptions). Running the
// tests with -update rewrites the S lines with what the server said:
//
//	go test ./internal/pop3server -run Transcripts -update

type tsLine struct {
	kind byte   // 'C', 'S', '-' (directive), '#' (comment or blank)
	text string // C/S: the octets (unquoted for ~); '-': the directive; '#': the line
	raw  bool   // written with ~
}

var tsLineRE = regexp.MustCompile(`^([CS])([:~])(?: (.*))?$`)

func parseTranscript(data string) ([]tsLine, error) {
	var out []tsLine
	for i, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
			out = append(out, tsLine{kind: '#', text: l})
			continue
		case l == "-- tls" || l == "-- closed":
			out = append(out, tsLine{kind: '-', text: l[3:]})
			continue
		}
		m := tsLineRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("line %d: bad line %q", i+1, l)
		}
		tl := tsLine{kind: m[1][0], text: m[3]}
		if m[2] == "~" {
			s, err := strconv.Unquote(m[3])
			if err != nil {
				return nil, fmt.Errorf("line %d: bad quoted octets %q: %v", i+1, m[3], err)
			}
			tl.text, tl.raw = s, true
		}
		out = append(out, tl)
	}
	return out, nil
}

func (l tsLine) octets() string {
	if l.raw {
		return l.text
	}
	return l.text + "\r\n"
}

func (l tsLine) String() string {
	switch l.kind {
	case '#':
		return l.text
	case '-':
		return "-- " + l.text
	}
	if l.raw {
		return string(l.kind) + "~ " + strconv.Quote(l.text)
	}
	if l.text == "" {
		return string(l.kind) + ":"
	}
	return string(l.kind) + ": " + l.text
}

// renderOutput splits server octets into S lines.
func renderOutput(out []byte) []tsLine {
	var lines []tsLine
	for len(out) > 0 {
		n := bytes.IndexByte(out, '\n') + 1
		if n == 0 {
			n = len(out)
		}
		piece := string(out[:n])
		out = out[n:]
		if body, ok := strings.CutSuffix(piece, "\r\n"); ok && cleanLine(body) {
			lines = append(lines, tsLine{kind: 'S', text: body})
		} else {
			lines = append(lines, tsLine{kind: 'S', text: piece, raw: true})
		}
	}
	return lines
}

// cleanLine reports whether s survives as the text of an "S:" line.
func cleanLine(s string) bool {
	if !utf8.ValidString(s) || strings.HasSuffix(s, " ") || strings.HasSuffix(s, "\t") {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// tsStep is a run of C lines (or a directive) and the S lines after it.
type tsStep struct {
	send      []byte
	want      []byte
	directive string
	anchor    int // index of the line after which -update writes the S lines
}

func transcriptSteps(lines []tsLine) []*tsStep {
	var steps []*tsStep
	var cur *tsStep
	lastKind := byte(0)
	for i, l := range lines {
		switch l.kind {
		case 'C':
			if cur == nil || cur.directive != "" || lastKind == 'S' {
				cur = &tsStep{}
				steps = append(steps, cur)
			}
			cur.send = append(cur.send, l.octets()...)
			cur.anchor = i
		case 'S':
			if cur == nil || cur.directive != "" {
				cur = &tsStep{anchor: i - 1}
				steps = append(steps, cur)
			}
			cur.want = append(cur.want, l.octets()...)
		case '-':
			cur = &tsStep{directive: l.text, anchor: i}
			steps = append(steps, cur)
		default:
			continue
		}
		lastKind = l.kind
	}
	return steps
}

// tsClient is the client side of a transcript.
type tsClient struct {
	t      *testing.T
	c      net.Conn
	r      *bufio.Reader
	closed bool
	// authPending: the last response was an AUTH continuation, so the
	// next line sent is a SASL response, not a command.
	authPending bool
}

// readLine reads one line, LF included; at EOF it marks the connection
// closed.
func (tc *tsClient) readLine() []byte {
	tc.c.SetReadDeadline(time.Now().Add(safetyTimeout))
	b, err := tc.r.ReadBytes('\n')
	if err != nil {
		if !errors.Is(err, io.EOF) {
			tc.t.Fatalf("read: %v (got %q)", err, b)
		}
		tc.closed = true
	}
	return b
}

// response reads a response: its first line, and for multi the lines up to
// and including the terminator.
func (tc *tsClient) response(multi func(first []byte) bool) []byte {
	out := tc.readLine()
	if tc.closed || !multi(out) {
		return out
	}
	for !tc.closed {
		l := tc.readLine()
		out = append(out, l...)
		if string(l) == ".\r\n" {
			break
		}
	}
	return out
}

// multiLine reports whether the command line gets a multi-line answer when
// it succeeds.
func multiLine(name string, args []string) bool {
	switch name {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL":
		return len(args) == 0
	}
	return false
}

func (tc *tsClient) run(st *tsStep) []byte {
	tc.t.Helper()
	switch st.directive {
	case "tls":
		tc.c.SetDeadline(time.Now().Add(safetyTimeout))
		c := tlsClient(tc.c)
		if err := c.Handshake(); err != nil {
			tc.t.Fatalf("TLS handshake: %v", err)
		}
		tc.c, tc.r = c, bufio.NewReader(c)
		return nil
	case "closed":
		if tc.closed {
			return nil
		}
		tc.c.SetReadDeadline(time.Now().Add(safetyTimeout))
		rest, err := io.ReadAll(tc.r)
		if err != nil {
			tc.t.Fatalf("reading to the end: %v", err)
		}
		tc.closed = true
		if len(rest) > 0 {
			tc.t.Errorf("the server said %q, want the connection closed", rest)
		}
		return nil
	}
	if tc.closed {
		tc.t.Fatalf("step after the connection closed:\n%s", st.send)
	}
	if len(st.send) == 0 {
		return tc.readLine()
	}
	tc.c.SetWriteDeadline(time.Now().Add(safetyTimeout))
	if _, err := tc.c.Write(st.send); err != nil {
		tc.t.Fatalf("write: %v", err)
	}
	var out []byte
	for _, l := range strings.SplitAfter(string(st.send), "\n") {
		if !strings.HasSuffix(l, "\n") || tc.closed {
			break
		}
		if tc.authPending {
			b := tc.readLine()
			out = append(out, b...)
			tc.authPending = bytes.HasPrefix(b, []byte("+ "))
			continue
		}
		f := strings.Fields(l)
		name := ""
		if len(f) > 0 {
			name = strings.ToUpper(f[0])
			f = f[1:]
		}
		b := tc.response(func(first []byte) bool {
			return bytes.HasPrefix(first, []byte("+OK")) && multiLine(name, f)
		})
		out = append(out, b...)
		ok := bytes.HasPrefix(b, []byte("+OK"))
		switch {
		case name == "AUTH" && bytes.HasPrefix(b, []byte("+ ")):
			tc.authPending = true
		case name == "STLS" && ok:
			return out
		case name == "QUIT" && !tc.closed:
			tc.c.SetReadDeadline(time.Now().Add(safetyTimeout))
			rest, err := io.ReadAll(tc.r)
			if err != nil {
				tc.t.Fatalf("reading to the end after QUIT: %v", err)
			}
			out = append(out, rest...)
			tc.closed = true
		}
	}
	return out
}

// transcriptOptions gives the server options a transcript needs, by name.
func transcriptOptions(name string) (opt func(*Options), implicitTLS bool) {
	nonLocal := func(o *Options) { o.IsLoopback = func(net.Addr) bool { return false } }
	switch {
	case strings.HasPrefix(name, "nonlocal"):
		return nonLocal, false
	case strings.HasPrefix(name, "insecure"):
		return func(o *Options) { nonLocal(o); o.InsecureAuth = true }, false
	case strings.HasPrefix(name, "pop3s"):
		return nonLocal, true
	case strings.HasPrefix(name, "capaextras"):
		return func(o *Options) {
			o.LoginDelay = 180 * time.Second
			o.Expire = "NEVER"
			o.Implementation = "Postern-test"
			o.TLSConfig = nil
		}, false
	}
	return nil, false
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			runTranscript(t, path, name)
		})
	}
}

func runTranscript(t *testing.T, path, name string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := parseTranscript(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	steps := transcriptSteps(lines)
	opt, implicitTLS := transcriptOptions(name)
	ts := newTestServerTLS(t, opt, implicitTLS)
	raw := ts.dial(t)
	tc := &tsClient{t: t, c: raw.c, r: raw.br}
	got := make([][]byte, len(steps))
	for i, st := range steps {
		got[i] = tc.run(st)
		if *update || bytes.Equal(got[i], st.want) {
			continue
		}
		t.Fatalf("%s: step %d (after line %d) differs at %s\nsent:\n%s\ngot:\n%s\nwant:\n%s",
			path, i+1, st.anchor+1, firstDiff(got[i], st.want),
			indent(renderOutput(st.send), 'C'), indent(renderOutput(got[i]), 'S'), indent(renderOutput(st.want), 'S'))
	}
	if *update {
		if err := os.WriteFile(path, []byte(rewriteTranscript(lines, steps, got)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !tc.closed {
		t.Errorf("%s: connection still open at the end; end with QUIT or -- closed", path)
	}
}

// newTestServerTLS is newTestServer, optionally on an implicit-TLS
// listener.
func newTestServerTLS(t *testing.T, opt func(*Options), implicitTLS bool) *testServer {
	if !implicitTLS {
		return newTestServer(t, opt)
	}
	st := newFakeStore()
	opts := Options{NewSession: newFakeSessionFunc(st, false), TLSConfig: testTLSConfig(t), Hostname: "pop.example.org"}
	if opt != nil {
		opt(&opts)
	}
	return startServer(t, st, opts, true)
}

// rewriteTranscript returns the file with each step's S lines replaced.
func rewriteTranscript(lines []tsLine, steps []*tsStep, got [][]byte) string {
	after := make(map[int][]tsLine)
	for i, st := range steps {
		after[st.anchor] = append(after[st.anchor], renderOutput(got[i])...)
	}
	var b strings.Builder
	emit := func(ls []tsLine) {
		for _, l := range ls {
			b.WriteString(l.String() + "\n")
		}
	}
	emit(after[-1])
	for i, l := range lines {
		if l.kind != 'S' {
			emit([]tsLine{l})
		}
		emit(after[i])
	}
	return b.String()
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	line := bytes.Count(want[:i], []byte("\n")) + 1
	return fmt.Sprintf("octet %d (line %d): got %q, want %q", i, line, clip(got[i:]), clip(want[i:]))
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func indent(ls []tsLine, kind byte) string {
	var b strings.Builder
	for _, l := range ls {
		l.kind = kind
		b.WriteString("\t" + l.String() + "\n")
	}
	return b.String()
}

// TestTranscriptFormat checks that any server output survives rendering
// into S lines and parsing back.
func TestTranscriptFormat(t *testing.T) {
	for _, in := range []string{"+OK ready\r\n", "+ \r\n", "a\nb\r\r\n", "caf\xe9\r\n", "no end", "\r\n\r\n"} {
		var b strings.Builder
		for _, l := range renderOutput([]byte(in)) {
			b.WriteString(l.String() + "\n")
		}
		lines, err := parseTranscript(b.String())
		if err != nil {
			t.Fatalf("parseTranscript(%q): %v", b.String(), err)
		}
		var got strings.Builder
		for _, l := range lines {
			got.WriteString(l.octets())
		}
		if got.String() != in {
			t.Errorf("parse(render(%q)) = %q, want %q", in, got.String(), in)
		}
	}
}
