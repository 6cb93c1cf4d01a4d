package pop3server

import (
	"bufio"
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		arg     string
		args    []string
		wantErr error
	}{
		{"STAT", "STAT", "", nil, nil},
		{"stat", "STAT", "", nil, nil},
		{"List 2", "LIST", "2", []string{"2"}, nil},
		{"TOP 1 10", "TOP", "1 10", []string{"1", "10"}, nil},
		{"TOP  1  10 ", "TOP", " 1  10 ", []string{"1", "10"}, nil},
		{"PASS pass word ", "PASS", "pass word ", []string{"pass", "word"}, nil},
		{"PASS caf\xc3\xa9", "PASS", "caf\xc3\xa9", []string{"caf\xc3\xa9"}, nil},
		{"USER", "USER", "", nil, nil},
		{"USER ", "USER", "", nil, nil},
		{"XTND XMIT", "XTND", "XMIT", []string{"XMIT"}, nil},
		{"PASS tab\there", "PASS", "tab\there", []string{"tab", "here"}, nil},
		{"", "", "", nil, errEmptyLine},
		{" STAT", "", "", nil, errBadKeyword},
		{"ST4T", "", "", nil, errBadKeyword},
		{"GET / HTTP/1.1", "GET", "/ HTTP/1.1", []string{"/", "HTTP/1.1"}, nil},
		{"Host: example.org", "", "", nil, errBadKeyword},
		{"ABCDEFGHIJKLMNOPQ", "", "", nil, errBadKeyword},
		{"NOOP\x00", "", "", nil, errControlChar},
		{"PASS a\rb", "", "", nil, errControlChar},
		{"PASS a\x7f", "", "", nil, errControlChar},
		{"\x16\x03\x01", "", "", nil, errControlChar}, // a TLS ClientHello
	}
	for _, tt := range tests {
		got, err := parseCommand([]byte(tt.in))
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("parseCommand(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.name != tt.name || got.arg != tt.arg || !slices.Equal(got.args, tt.args) {
			t.Errorf("parseCommand(%q) = %q %q %q, want %q %q %q", tt.in, got.name, got.arg, got.args, tt.name, tt.arg, tt.args)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true},
		{"0", 0, true},
		{"007", 7, true},
		{"2147483647", 2147483647, true},
		{"2147483648", maxMsgNum, true},
		{"99999999999999999999999", maxMsgNum, true},
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1x", 0, false},
		{"１", 0, false}, // a full-width digit
	}
	for _, tt := range tests {
		got, ok := parseNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseNumber(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseCommand checks the parser's invariants on any line: it never
// panics; a parsed keyword is upper-case letters; the arguments are the
// fields of arg, none empty or holding a space; and line is keyword, SP,
// arg again.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "list 1", "TOP 1 10", "PASS a b  c ", "AUTH PLAIN =", "", " ", "NOOP\x00", "caf\xc3\xa9 x", "Q\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseCommand(line)
		if err != nil {
			if r.name != "" || r.args != nil {
				t.Fatalf("parseCommand(%q) = %+v with error %v", line, r, err)
			}
			return
		}
		if r.name == "" || r.name != strings.ToUpper(r.name) || len(r.name) > maxKeyword {
			t.Fatalf("parseCommand(%q) keyword = %q", line, r.name)
		}
		for _, a := range r.args {
			if a == "" || strings.ContainsAny(a, " \t") {
				t.Fatalf("parseCommand(%q) args = %q", line, r.args)
			}
		}
		if !slices.Equal(r.args, strings.Fields(r.arg)) {
			t.Fatalf("parseCommand(%q) args = %q, arg = %q", line, r.args, r.arg)
		}
		re := r.name
		if bytes.IndexByte(line, ' ') >= 0 {
			re += " " + r.arg
		}
		if !strings.EqualFold(re, string(line)) {
			t.Fatalf("parseCommand(%q) = %q %q, does not rebuild the line", line, r.name, r.arg)
		}
	})
}

func TestDotWriter(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{nil, "+OK\r\n.\r\n"},
		{[]string{""}, "+OK\r\n.\r\n"},
		{[]string{"a\r\n"}, "+OK\r\na\r\n.\r\n"},
		{[]string{"a"}, "+OK\r\na\r\n.\r\n"},
		{[]string{".\r\n"}, "+OK\r\n..\r\n.\r\n"},
		{[]string{"a\r\n.b\r\n..c\r\nd.e\r\n"}, "+OK\r\na\r\n..b\r\n...c\r\nd.e\r\n.\r\n"},
		{[]string{".x"}, "+OK\r\n..x\r\n.\r\n"},
		// Bare LF becomes CRLF; the stuffing follows line starts
		// across writes, and a CR at the end of one write pairs with
		// the LF at the start of the next.
		{[]string{"a\nb\n"}, "+OK\r\na\r\nb\r\n.\r\n"},
		{[]string{"a\r", "\n.b"}, "+OK\r\na\r\n..b\r\n.\r\n"},
		{[]string{"a\r\n", ".", "."}, "+OK\r\na\r\n...\r\n.\r\n"},
		{[]string{"\n"}, "+OK\r\n\r\n.\r\n"},
		{[]string{"a\r"}, "+OK\r\na\r\r\n.\r\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		d := newDotWriter(bw, "+OK")
		for _, w := range tt.writes {
			if n, err := d.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if b.String() != tt.want {
			t.Errorf("dotWriter(%q) = %q, want %q", tt.writes, b.String(), tt.want)
		}
	}
}

// FuzzDotWriter checks that any body, written in two pieces, comes out as
// a valid multi-line response: CRLF lines only, the terminator once at
// the end, and un-stuffing gives the body back with CRLF line endings.
func FuzzDotWriter(f *testing.F) {
	f.Add([]byte("a\r\n.b\r\n"), 3)
	f.Add([]byte(".\r\n.\n."), 1)
	f.Add([]byte("no end"), 0)
	f.Add([]byte("\r\r\n\n"), 2)
	f.Fuzz(func(t *testing.T, body []byte, split int) {
		if split < 0 || split > len(body) {
			split = len(body) / 2
		}
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		d := newDotWriter(bw, "+OK")
		d.Write(body[:split])
		d.Write(body[split:])
		d.close()
		bw.Flush()
		out := b.Bytes()
		if !bytes.HasPrefix(out, []byte("+OK\r\n")) || !bytes.HasSuffix(out, []byte("\r\n.\r\n")) && string(out) != "+OK\r\n.\r\n" {
			t.Fatalf("dotWriter(%q) = %q: bad framing", body, out)
		}
		inner := out[len("+OK\r\n") : len(out)-len(".\r\n")]
		for _, l := range bytes.SplitAfter(inner, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			if !bytes.HasSuffix(l, []byte("\r\n")) {
				t.Fatalf("dotWriter(%q) = %q: line %q without CRLF", body, out, l)
			}
			if string(l) == ".\r\n" {
				t.Fatalf("dotWriter(%q) = %q: terminator inside the body", body, out)
			}
		}
		// The expected body: bare LF -> CRLF, a final CRLF if missing.
		want := bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		want = bytes.ReplaceAll(want, []byte("\n"), []byte("\r\n"))
		if len(want) > 0 && !bytes.HasSuffix(want, []byte("\r\n")) {
			want = append(want, "\r\n"...)
		}
		if got := unstuff(inner); !bytes.Equal(got, want) {
			t.Fatalf("unstuff(dotWriter(%q)) = %q, want %q", body, got, want)
		}
	})
}
