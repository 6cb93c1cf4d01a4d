package loadgen

import (
	"bufio"
	"io"
	"slices"
	"strings"
	"testing"
)

// readAll splits a server's output into responses.
func readAll(in string) ([]string, error) {
	r := respReader{br: bufio.NewReaderSize(strings.NewReader(in), 16)}
	var out []string
	for {
		b, err := r.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, string(b))
	}
}

func TestRespReader(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"* OK hi\r\n", []string{"* OK hi"}},
		{"* OK bare LF\n* 3 EXISTS\r\n", []string{"* OK bare LF", "* 3 EXISTS"}},
		// A literal holding CRLF and "{2}" is read by its count, not parsed.
		{"* 1 FETCH (BODY[] {9}\r\nab\r\n{2}\r\n)\r\na1 OK done\r\n",
			[]string{"* 1 FETCH (BODY[] {9}\r\nab\r\n{2}\r\n)", "a1 OK done"}},
		// Two literals in one response, and a literal8 (RFC 3516).
		{"* 2 FETCH (BODY[1] {1}\r\nx BINARY[2] ~{3}\r\n\x00\x01\x02)\r\n",
			[]string{"* 2 FETCH (BODY[1] {1}\r\nx BINARY[2] ~{3}\r\n\x00\x01\x02)"}},
		// A line longer than the reader's buffer.
		{"* SEARCH " + strings.Repeat("12345 ", 20) + "\r\n", []string{"* SEARCH " + strings.Repeat("12345 ", 20)}},
		{"* OK {0}\r\n\r\n", []string{"* OK {0}\r\n"}},
	}
	for _, tt := range tests {
		got, err := readAll(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("responses(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"* 1 FETCH (BODY[] {10}\r\nshort", "* OK no end"} {
		if got, err := readAll(bad); err == nil {
			t.Errorf("responses(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseFetch(t *testing.T) {
	env := `("Mon, 1 Jan 2026 09:00:00 +0000" "hi (there)" (("A" NIL "a" "example.org")) NIL NIL NIL NIL NIL NIL "<x@y>")`
	in := `(UID 7 FLAGS (\Seen \Flagged) RFC822.SIZE 4 ENVELOPE ` + env +
		` BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1) BODY[HEADER.FIELDS (DATE FROM)] {2}` + "\r\n" +
		`)( BODY[] {4}` + "\r\nab\r\n)"
	f, err := parseFetch(3, []byte(in))
	if err != nil {
		t.Fatalf("parseFetch: %v", err)
	}
	want := fetchData{Seq: 3, UID: 7, Flags: []byte(`\Seen \Flagged`), HasFlags: true, Size: 4, Envelope: true, Structure: true, Body: true, BodyLen: 4}
	if f.Seq != want.Seq || f.UID != want.UID || string(f.Flags) != string(want.Flags) || !f.HasFlags || f.Size != 4 ||
		!f.Envelope || !f.Structure || !f.Body || f.BodyLen != 4 {
		t.Errorf("parseFetch = %+v, want %+v", f, want)
	}
	if !hasFlag(f.Flags, `\flagged`) || hasFlag(f.Flags, `\Deleted`) {
		t.Errorf("hasFlag(%q) wrong", f.Flags)
	}
	for _, bad := range []string{
		`(FLAGS \Seen)`,          // not a list
		`(ENVELOPE (NIL NIL))`,   // not 10 items
		`(UID x)`,                // not a number
		`(BODY[] NILX`,           // unclosed
		`(FLAGS (\Seen)`,         // unclosed
		`(BODY[] {5}` + "\r\nab", // literal longer than the data
		`FLAGS ()`,               // no parenthesis
	} {
		if f, err := parseFetch(1, []byte(bad)); err == nil {
			t.Errorf("parseFetch(%q) = %+v, want an error", bad, f)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want status
	}{
		{"OK [APPENDUID 38505 3955] APPEND completed", status{"OK", "APPENDUID 38505 3955", "APPEND completed"}},
		{"no [SERVERBUG] oops", status{"NO", "SERVERBUG", "oops"}},
		{"BAD", status{"BAD", "", ""}},
	}
	for _, tt := range tests {
		if got, ok := parseStatus([]byte(tt.in)); !ok || got != tt.want {
			t.Errorf("parseStatus(%q) = %+v, %v, want %+v", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := parseStatus([]byte("FETCH (x)")); ok {
		t.Error("parseStatus(FETCH) ok, want not a status")
	}
}

func TestParseNumbers(t *testing.T) {
	if got, err := parseNumbers([]byte("2 84 882")); err != nil || !slices.Equal(got, []uint32{2, 84, 882}) {
		t.Errorf("parseNumbers = %v, %v", got, err)
	}
	if got, err := parseNumbers(nil); err != nil || len(got) != 0 {
		t.Errorf("parseNumbers(empty) = %v, %v", got, err)
	}
	for _, bad := range []string{"1 x", "0", "1 -2", "99999999999"} {
		if got, err := parseNumbers([]byte(bad)); err == nil {
			t.Errorf("parseNumbers(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in         string
		name       string
		selectable bool
	}{
		{`(\HasNoChildren) "/" INBOX`, "INBOX", true},
		{`(\Noselect \HasChildren) "/" "Work"`, `"Work"`, false},
		{`(\HasNoChildren \Sent) "." "Sent \"Items\""`, `"Sent \"Items\""`, true},
		{`() NIL {4}` + "\r\nOdd ", "", true},
	}
	for _, tt := range tests {
		name, sel, err := parseList([]byte(tt.in))
		if err != nil || name != tt.name || sel != tt.selectable {
			t.Errorf("parseList(%q) = %q, %v, %v, want %q, %v", tt.in, name, sel, err, tt.name, tt.selectable)
		}
	}
}

func TestUIDSet(t *testing.T) {
	if got, want := uidSet([]uint32{9, 3, 4, 5, 7, 3}), "3:5,7,9"; got != want {
		t.Errorf("uidSet = %q, want %q", got, want)
	}
}

func TestQuote(t *testing.T) {
	if got, want := quote(`a"b\c`), `"a\"b\\c"`; got != want {
		t.Errorf("quote = %s, want %s", got, want)
	}
}

// FuzzResponse feeds arbitrary server output to the reader and every
// parser the checks use: none may panic, loop or over-allocate.
func FuzzResponse(f *testing.F) {
	f.Add([]byte("* 1 FETCH (UID 3 FLAGS (\\Seen) BODY[] {3}\r\nabc RFC822.SIZE 3)\r\n"))
	f.Add([]byte("* SEARCH 1 2 3\r\n* 4 EXPUNGE\r\na1 OK [APPENDUID 1 2] done\r\n"))
	f.Add([]byte("* LIST (\\Noselect) \"/\" \"a\\\"b\"\r\n* STATUS INBOX (MESSAGES 3)\r\n"))
	f.Add([]byte("* 2 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE ((\"a\") \"mixed\"))\r\n"))
	f.Add([]byte("* 1 FETCH (BINARY[] ~{2}\r\n\x00\x01 BODY[HEADER.FIELDS (A)] NIL)\r\n"))
	f.Add([]byte("* 1 FETCH (" + strings.Repeat("(", 100) + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := respReader{br: bufio.NewReaderSize(strings.NewReader(string(data)), 16)}
		for range 1000 {
			b, err := r.next()
			if err != nil {
				return
			}
			rest, ok := strings.CutPrefix(string(b), "* ")
			if !ok {
				parseStatus(b)
				continue
			}
			u, err := parseUntagged([]byte(rest))
			if err != nil {
				continue
			}
			switch u.Kind {
			case "FETCH":
				parseFetch(u.Num, u.Rest)
			case "SEARCH", "SORT":
				parseNumbers(u.Rest)
			case "LIST":
				parseList(u.Rest)
			default:
				parseStatus([]byte(rest))
				countItems(u.Rest)
			}
		}
	})
}
