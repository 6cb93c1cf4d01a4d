package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The transcript file format (testdata/transcripts/*.txt).
//
// Each line is one of:
//
//	C: text     the client sends text followed by CRLF
//	C~ "..."    the client sends the Go-quoted octets exactly (no CRLF added):
//	            for bare LF, 8-bit octets, a missing line ending
//	S: text     the server sends text followed by CRLF
//	S~ "..."    the server sends the Go-quoted octets exactly: used for a
//	            piece of output (up to and including a LF, or the end) that
//	            is not "printable UTF-8 without trailing blanks, then CRLF",
//	            such as a literal with bare LF, 8-bit octets, or no final CRLF
//	# ...       a comment; blank lines are ignored
//
// A digit after C or S names the connection (C1:, S2~, ...); without one it
// is connection 1. A connection is opened by its first line; a transcript
// normally starts each connection with its greeting as S lines.
//
// Lines are grouped into steps: the C lines of one command of one
// connection (several lines when the command has literals, or C~ pieces
// without a line ending) and the S lines of the same connection that follow
// them. A step sends its octets (waiting for the "+" continuation after each
// synchronizing literal {n}, as a client must, or for the command's tagged
// response if the server refuses the literal), then reads whole responses,
// literals included, until every command the step started has its tagged
// response; after LOGOUT it reads to the end of the connection, which the
// server must close. The octets read, server continuation
// requests included, must equal the step's S lines exactly. A step with S
// lines but no C lines reads one line (the greeting). Literals are
// therefore part of the response lines: "S: * 1 FETCH (BODY[] {12}" then
// the literal's lines, the last of which goes on with the rest of the
// response ("S: last line)" when the literal ends in CRLF).
//
// UIDVALIDITY is chosen by the store from the clock, so it is not stable.
// Before comparing, every number following "UIDVALIDITY " (SELECT's
// response code and STATUS) or "[COPYUID " or "[APPENDUID " outside literals
// is replaced by "$UIDVALIDITY1", "$UIDVALIDITY2", ...: the first distinct
// value seen in the transcript (on any connection) becomes $UIDVALIDITY1,
// and so on, so that equal values stay equal and a new one stands out.
// In C lines, "$UIDVALIDITYn" is replaced by the value it names, so that a
// client can send a UIDVALIDITY it was told (SELECT ... (QRESYNC (...))).
//
// Running the tests with -update rewrites each file's S lines with what
// the server said; C lines and comments stay. Comments are kept in place
// relative to C lines, so put them before the C lines they describe.
//
//	go test ./integration -run Transcript -update

// tsLine is one line of a transcript file.
type tsLine struct {
	kind     byte   // 'C', 'S', or '#' for a comment or blank line
	conn     int    // 1 or 2 for C and S
	explicit bool   // the connection digit was written
	text     string // C/S: the octets (unquoted for ~); '#': the whole line
	raw      bool   // written with ~: no CRLF appended
}

var tsLineRE = regexp.MustCompile(`^([CS])([1-9]?)([:~])(?: (.*))?$`)

// parseTranscript reads a transcript file.
func parseTranscript(data string) ([]tsLine, error) {
	var out []tsLine
	for i, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			out = append(out, tsLine{kind: '#', text: l})
			continue
		}
		m := tsLineRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("line %d: bad line %q", i+1, l)
		}
		tl := tsLine{kind: m[1][0], conn: 1, text: m[4]}
		if m[2] != "" {
			tl.conn, tl.explicit = int(m[2][0]-'0'), true
		}
		if m[3] == "~" {
			s, err := strconv.Unquote(m[4])
			if err != nil {
				return nil, fmt.Errorf("line %d: bad quoted octets %q: %v", i+1, m[4], err)
			}
			tl.text, tl.raw = s, true
		}
		out = append(out, tl)
	}
	return out, nil
}

// octets returns what a C or S line stands for on the wire.
func (l tsLine) octets() string {
	if l.raw {
		return l.text
	}
	return l.text + "\r\n"
}

// String formats the line as it is written in the file.
func (l tsLine) String() string {
	if l.kind == '#' {
		return l.text
	}
	p := string(l.kind)
	if l.explicit {
		p += strconv.Itoa(l.conn)
	}
	if l.raw {
		return p + "~ " + strconv.Quote(l.text)
	}
	if l.text == "" {
		return p + ":"
	}
	return p + ": " + l.text
}

// renderOutput splits server octets into S lines: a piece up to and
// including each LF, and the rest; pieces that are a clean line with CRLF
// become "S:" lines, others "S~".
func renderOutput(conn int, explicit bool, out []byte) []tsLine {
	var lines []tsLine
	for len(out) > 0 {
		n := bytes.IndexByte(out, '\n') + 1
		if n == 0 {
			n = len(out)
		}
		piece := string(out[:n])
		out = out[n:]
		l := tsLine{kind: 'S', conn: conn, explicit: explicit}
		if body, ok := strings.CutSuffix(piece, "\r\n"); ok && cleanLine(body) {
			l.text = body
		} else {
			l.text, l.raw = piece, true
		}
		lines = append(lines, l)
	}
	return lines
}

// cleanLine reports whether s can be written as the text of an "S:" line
// and read back unchanged (editors strip trailing blanks).
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

// tsStep is a run of C lines of one connection and the S lines after them.
type tsStep struct {
	conn     int
	explicit bool
	send     []byte
	want     []byte
	// anchor is the index of the step's last C line (or, for a step with
	// no C lines, of the line before its first S line): -update writes the
	// step's S lines right after it.
	anchor int
}

// transcriptSteps groups lines into steps.
func transcriptSteps(lines []tsLine) []*tsStep {
	var steps []*tsStep
	var cur *tsStep
	lastKind := byte(0)
	for i, l := range lines {
		switch l.kind {
		case 'C':
			if cur == nil || cur.conn != l.conn || lastKind == 'S' || !continues(cur.send) {
				cur = &tsStep{conn: l.conn, explicit: l.explicit}
				steps = append(steps, cur)
			}
			cur.send = append(cur.send, l.octets()...)
			cur.anchor = i
		case 'S':
			if cur == nil || cur.conn != l.conn {
				cur = &tsStep{conn: l.conn, explicit: l.explicit, anchor: i - 1}
				steps = append(steps, cur)
			}
			cur.want = append(cur.want, l.octets()...)
		default:
			continue
		}
		lastKind = l.kind
	}
	return steps
}

// continues reports whether the octets sent so far end inside a command:
// inside or right after a literal, or without a line ending (a C~ piece).
func continues(send []byte) bool {
	open := false
	for pos := 0; pos < len(send); {
		eol := bytes.IndexByte(send[pos:], '\n')
		if eol < 0 {
			return true
		}
		eol += pos + 1
		n, _, lit := literalAtEnd(strings.TrimRight(string(send[pos:eol]), "\r\n"))
		if !lit {
			pos, open = eol, false
			continue
		}
		pos, open = eol+n, true
	}
	return open
}

// rewriteTranscript returns the file with each step's S lines replaced by
// got[step].
func rewriteTranscript(lines []tsLine, steps []*tsStep, got [][]byte) string {
	after := make(map[int][]tsLine)
	for i, st := range steps {
		after[st.anchor] = append(after[st.anchor], renderOutput(st.conn, st.explicit, got[i])...)
	}
	var b strings.Builder
	emit := func(ls []tsLine) {
		for _, l := range ls {
			b.WriteString(l.String())
			b.WriteByte('\n')
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

// tsConn is one client connection of a transcript.
type tsConn struct {
	t      *testing.T
	c      net.Conn
	r      *bufio.Reader
	closed bool
	uv     *uvMap
}

// tsTimeout only turns a hang into a failure; nothing asserts speed.
const tsTimeout = 10 * time.Second

func dialTranscript(t *testing.T, addr string, uv *uvMap) *tsConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, tsTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &tsConn{t: t, c: c, r: bufio.NewReader(c), uv: uv}
}

// response reads one response: a line and the literals it announces, up to
// the final LF. Line parts have UIDVALIDITY numbers replaced; literals are
// kept as they are. first is the first line part, for tag checks.
func (tc *tsConn) response() (out []byte, first string, err error) {
	tc.c.SetReadDeadline(time.Now().Add(tsTimeout))
	for i := 0; ; i++ {
		line, err := tc.r.ReadString('\n')
		if i == 0 {
			first = line
		}
		out = append(out, tc.uv.rewrite(line)...)
		if err != nil {
			tc.readFailed(err, out)
			return out, first, err
		}
		n, _, ok := literalAtEnd(strings.TrimRight(line, "\r\n"))
		if !ok {
			return out, first, nil
		}
		lit := make([]byte, n)
		if k, err := io.ReadFull(tc.r, lit); err != nil {
			out = append(out, lit[:k]...)
			tc.readFailed(err, out)
			return out, first, err
		}
		out = append(out, lit...)
	}
}

// readFailed fails the test unless err is the end of the connection, which
// the transcript itself may expect (BYE, too many bad commands).
func (tc *tsConn) readFailed(err error, got []byte) {
	tc.t.Helper()
	if !errors.Is(err, io.EOF) {
		tc.t.Fatalf("reading the response: %v (got %q)", err, got)
	}
}

var literalRE = regexp.MustCompile(`\{([0-9]+)(\+?)\}$`)

// literalAtEnd reports whether a line ends with a literal announcement.
func literalAtEnd(line string) (n int, nonSync, ok bool) {
	m := literalRE.FindStringSubmatch(line)
	if m == nil {
		return 0, false, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false, false
	}
	return n, m[2] == "+", true
}

// isTagged reports whether a response line is the tagged answer to tag.
func isTagged(line, tag string) bool {
	return tag != "" && strings.HasPrefix(line, tag+" ")
}

// run performs one step and returns what the server said.
func (tc *tsConn) run(st *tsStep) []byte {
	tc.t.Helper()
	if tc.closed {
		tc.t.Fatalf("connection %d: step after the connection closed:\n%s", st.conn, st.send)
	}
	var out []byte
	if len(st.send) == 0 {
		b, _, err := tc.response()
		if err != nil {
			tc.closed = true
		}
		return b
	}
	pending := map[string]bool{}
	var order []string
	logout := false
	send := tc.uv.expand(st.send)
	pos, from := 0, 0
	lineStart := true
	curTag := ""
	write := func(b []byte) {
		tc.c.SetWriteDeadline(time.Now().Add(tsTimeout))
		if _, err := tc.c.Write(b); err != nil {
			tc.t.Fatalf("connection %d: write: %v", st.conn, err)
		}
	}
	for pos < len(send) {
		eol := bytes.IndexByte(send[pos:], '\n')
		if eol < 0 {
			eol = len(send)
		} else {
			eol += pos + 1
		}
		text := strings.TrimRight(string(send[pos:eol]), "\r\n")
		if lineStart {
			f := strings.Fields(text)
			if len(f) > 0 {
				curTag = f[0]
				if !pending[curTag] {
					pending[curTag] = true
					order = append(order, curTag)
				}
			}
			if len(f) > 1 && strings.EqualFold(f[1], "LOGOUT") {
				logout = true
			}
		}
		n, nonSync, lit := literalAtEnd(text)
		if !lit || eol == len(send) && !strings.HasSuffix(string(send[pos:eol]), "\n") {
			pos, lineStart = eol, true
			continue
		}
		if !nonSync {
			write(send[from:eol])
			from = eol
			for !tc.closed {
				b, first, err := tc.response()
				out = append(out, b...)
				if err != nil {
					tc.closed = true
					break
				}
				if strings.HasPrefix(first, "+") {
					break
				}
				if isTagged(first, curTag) {
					delete(pending, curTag)
					break
				}
			}
		}
		pos, lineStart = min(eol+n, len(send)), false
	}
	if !tc.closed && from < len(send) {
		write(send[from:])
	}
	for len(pending) > 0 && !tc.closed {
		b, first, err := tc.response()
		out = append(out, b...)
		if err != nil {
			tc.closed = true
			break
		}
		for _, tag := range order {
			if isTagged(first, tag) {
				delete(pending, tag)
			}
		}
	}
	if logout && !tc.closed {
		tc.c.SetReadDeadline(time.Now().Add(tsTimeout))
		rest, err := io.ReadAll(tc.r)
		if err != nil {
			tc.t.Fatalf("connection %d: reading to the end after LOGOUT: %v (got %q)", st.conn, err, rest)
		}
		out = append(out, tc.uv.rewrite(string(rest))...)
		tc.closed = true
	}
	return out
}

// uvMap names UIDVALIDITY values in order of appearance.
type uvMap struct {
	names map[string]string
	ids   map[string]string // MAILBOXID values, named the same way
}

// idRE finds RFC 8474 MAILBOXIDs, which the store derives from UIDVALIDITY
// and so are not stable either: they become $MAILBOXID1, $MAILBOXID2, ...
var idRE = regexp.MustCompile(`(MAILBOXID \()([A-Za-z0-9_-]+)`)

var uvRE = regexp.MustCompile(`(UIDVALIDITY |\[COPYUID |\[APPENDUID )([0-9]+)`)

func (m *uvMap) rewrite(line string) string {
	line = idRE.ReplaceAllStringFunc(line, func(s string) string {
		sub := idRE.FindStringSubmatch(s)
		if m.ids == nil {
			m.ids = map[string]string{}
		}
		name, ok := m.ids[sub[2]]
		if !ok {
			name = "$MAILBOXID" + strconv.Itoa(len(m.ids)+1)
			m.ids[sub[2]] = name
		}
		return sub[1] + name
	})
	return uvRE.ReplaceAllStringFunc(line, func(s string) string {
		sub := uvRE.FindStringSubmatch(s)
		name, ok := m.names[sub[2]]
		if !ok {
			name = "$UIDVALIDITY" + strconv.Itoa(len(m.names)+1)
			m.names[sub[2]] = name
		}
		return sub[1] + name
	})
}

var uvNameRE = regexp.MustCompile(`\$UIDVALIDITY[0-9]+`)

// expand replaces the names rewrite gave back by their values, in what a
// client sends.
func (m *uvMap) expand(send []byte) []byte {
	return uvNameRE.ReplaceAllFunc(send, func(name []byte) []byte {
		for v, n := range m.names {
			if n == string(name) {
				return []byte(v)
			}
		}
		return name
	})
}

// runTranscript runs the transcript file at path against the server at
// addr, or rewrites its S lines with -update.
func runTranscript(t *testing.T, path, addr string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := parseTranscript(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	steps := transcriptSteps(lines)
	uv := &uvMap{names: map[string]string{}}
	conns := map[int]*tsConn{}
	got := make([][]byte, len(steps))
	for i, st := range steps {
		c := conns[st.conn]
		if c == nil {
			c = dialTranscript(t, addr, uv)
			conns[st.conn] = c
		}
		got[i] = c.run(st)
		if *updateTranscripts || bytes.Equal(got[i], st.want) {
			continue
		}
		t.Fatalf("%s: step %d (connection %d, after line %d) differs at %s\nsent:\n%s\ngot:\n%s\nwant:\n%s",
			path, i+1, st.conn, st.anchor+1, firstDiff(got[i], st.want),
			indent(renderOutput(st.conn, st.explicit, st.send), 'C'),
			indent(renderOutput(st.conn, st.explicit, got[i]), 'S'),
			indent(renderOutput(st.conn, st.explicit, st.want), 'S'))
	}
	if *updateTranscripts {
		if err := os.WriteFile(path, []byte(rewriteTranscript(lines, steps, got)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for n, c := range conns {
		if !c.closed {
			t.Errorf("%s: connection %d still open at the end; end every connection with LOGOUT", path, n)
		}
	}
}

// firstDiff describes where got first differs from want.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	line := bytes.Count(want[:i], []byte("\n")) + 1
	return fmt.Sprintf("octet %d (response line %d): got %q, want %q", i, line, clip(got[i:]), clip(want[i:]))
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// indent formats lines for a failure message, as kind lines.
func indent(ls []tsLine, kind byte) string {
	var b strings.Builder
	for _, l := range ls {
		l.kind = kind
		b.WriteString("\t" + l.String() + "\n")
	}
	return b.String()
}

// TestTranscriptFormat checks the pieces of the file format: rendering
// server octets into S lines and parsing them back gives the same octets,
// literal continuations group C lines, and UIDVALIDITY values are named in
// order of appearance.
func TestTranscriptFormat(t *testing.T) {
	for _, in := range []string{
		"* OK ready\r\n",
		"* 1 FETCH (BODY[] {5}\r\na\nb\r\r)\r\n",
		"caf\xe9\r\n",
		"trailing blank \r\n",
		"no line ending",
		"\r\n\r\n",
		"tab\there\r\n",
	} {
		got := roundTrip(t, []byte(in))
		if got != in {
			t.Errorf("parse(render(%q)) = %q, want %q", in, got, in)
		}
	}
	for _, tt := range []struct {
		send string
		want bool
	}{
		{"", false},
		{"a NOOP\r\n", false},
		{"a SEARCH SUBJECT {3}\r\n", true},
		{"a SEARCH SUBJECT {3+}\r\nabc", true},
		{"a SEARCH SUBJECT {3+}\r\nabc\r\n", false},
		{"a APPEND x {8+}\r\nA\r\n\r\nB\r\n", true},
		{"a APPEND x {8+}\r\nA\r\n\r\nB\r\n\r\n", false},
		{"a partial", true},
	} {
		if got := continues([]byte(tt.send)); got != tt.want {
			t.Errorf("continues(%q) = %v, want %v", tt.send, got, tt.want)
		}
	}
	uv := &uvMap{names: map[string]string{}}
	for _, tt := range []struct{ in, want string }{
		{"* OK [UIDVALIDITY 1764000000] UIDs valid\r\n", "* OK [UIDVALIDITY $UIDVALIDITY1] UIDs valid\r\n"},
		{"a OK [COPYUID 1764000001 1:2 3:4] done\r\n", "a OK [COPYUID $UIDVALIDITY2 1:2 3:4] done\r\n"},
		{"* STATUS x (UIDVALIDITY 1764000000 UIDNEXT 3)\r\n", "* STATUS x (UIDVALIDITY $UIDVALIDITY1 UIDNEXT 3)\r\n"},
		{"a OK [APPENDUID 1764000001 7] done\r\n", "a OK [APPENDUID $UIDVALIDITY2 7] done\r\n"},
		{"* STATUS x (MAILBOXID (M1-t5x1c0))\r\n", "* STATUS x (MAILBOXID ($MAILBOXID1))\r\n"},
		{"* 1 FETCH (UID 1764000000)\r\n", "* 1 FETCH (UID 1764000000)\r\n"},
	} {
		if got := uv.rewrite(tt.in); got != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// roundTrip renders octets as S lines, formats and parses the file text,
// and returns the octets the parsed lines stand for.
func roundTrip(t testing.TB, out []byte) string {
	t.Helper()
	if len(out) == 0 { // no lines at all
		return ""
	}
	var b strings.Builder
	for _, l := range renderOutput(2, true, out) {
		b.WriteString(l.String() + "\n")
	}
	lines, err := parseTranscript(b.String())
	if err != nil {
		t.Fatalf("parseTranscript(%q): %v", b.String(), err)
	}
	var got strings.Builder
	for _, l := range lines {
		if l.kind != 'S' || l.conn != 2 {
			t.Fatalf("parseTranscript(%q) gave line %+v, want S2 lines only", b.String(), l)
		}
		got.WriteString(l.octets())
	}
	return got.String()
}

// FuzzTranscriptRender checks that any server output survives the trip
// through the file format unchanged.
func FuzzTranscriptRender(f *testing.F) {
	f.Add([]byte("* OK ready\r\n"))
	f.Add([]byte("* 1 FETCH (BODY[] {3}\r\na\nb)\r\n"))
	f.Add([]byte("\xff\xfe\r\r\n \r\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		if got := roundTrip(t, out); got != string(out) {
			t.Errorf("parse(render(%q)) = %q", out, got)
		}
	})
}
