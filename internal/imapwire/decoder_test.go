package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
)

func newTestDecoder(in string, opts DecoderOptions) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(in)), opts)
}

// prodTest is one input of a production: want is the decoded value (fmt
// %v), err the exact error text ("" for none), rest the unread input.
type prodTest struct {
	in, want, err, rest string
}

// noMatch is the err of a non-Expect method that returned false without
// recording an error.
const noMatch = "<no match>"

func runProd(t *testing.T, name string, parse func(d *Decoder) (any, bool), tests []prodTest) {
	t.Helper()
	for _, tt := range tests {
		d := newTestDecoder(tt.in, DecoderOptions{MaxLiteralSize: 16, MaxDepth: 3})
		v, ok := parse(d)
		got, gotErr := "", ""
		if ok {
			got = fmt.Sprint(v)
		}
		switch err := d.Err(); {
		case err != nil:
			gotErr = err.Error()
		case !ok:
			gotErr = noMatch
		}
		if ok && gotErr != "" {
			t.Errorf("%s(%q) returned true with error %q", name, tt.in, gotErr)
		}
		rest, _ := io.ReadAll(d.r)
		if got != tt.want || gotErr != tt.err || string(rest) != tt.rest {
			t.Errorf("%s(%q) = %q, err %q, rest %q; want %q, err %q, rest %q",
				name, tt.in, got, gotErr, rest, tt.want, tt.err, tt.rest)
		}
	}
}

func TestSP(t *testing.T) {
	runProd(t, "SP", func(d *Decoder) (any, bool) { return "", d.SP() }, []prodTest{
		{in: " x", rest: "x"},
		{in: "x", err: noMatch, rest: "x"},
		{in: "", err: "EOF"},
	})
	runProd(t, "ExpectSP", func(d *Decoder) (any, bool) { return "", d.ExpectSP() }, []prodTest{
		{in: " ", rest: ""},
		{in: "\r\n", err: "imapwire: expected SP, found end of line", rest: "\r\n"},
		{in: "(", err: `imapwire: expected SP, found "("`, rest: "("},
		{in: "\x00", err: "imapwire: expected SP, found NUL", rest: "\x00"},
		{in: "\xff", err: "imapwire: expected SP, found octet 0xFF", rest: "\xff"},
	})
}

func TestCRLF(t *testing.T) {
	runProd(t, "CRLF", func(d *Decoder) (any, bool) { return "", d.CRLF() }, []prodTest{
		{in: "\r\nx", rest: "x"},
		{in: "\n", err: noMatch, rest: "\n"},
		{in: "\rx", err: noMatch, rest: "\rx"},
		{in: "\r", err: "EOF", rest: "\r"},
	})
	runProd(t, "ExpectCRLF", func(d *Decoder) (any, bool) { return "", d.ExpectCRLF() }, []prodTest{
		{in: "\r\n", rest: ""},
		{in: " \r\n", err: "imapwire: expected end of line, found SP", rest: " \r\n"},
		{in: "\n", err: "imapwire: expected end of line, found a bare LF (lines end with CRLF)", rest: "\n"},
		{in: "\rx", err: "imapwire: expected end of line, found CR without LF", rest: "\rx"},
	})
}

func TestSpecial(t *testing.T) {
	runProd(t, "ExpectSpecial", func(d *Decoder) (any, bool) { return "", d.ExpectSpecial('[') }, []prodTest{
		{in: "[1]", rest: "1]"},
		{in: "]", err: `imapwire: expected "[", found "]"`, rest: "]"},
	})
	runProd(t, "Special", func(d *Decoder) (any, bool) { return "", d.Special('(') }, []prodTest{
		{in: "()", rest: ")"},
		{in: ")", err: noMatch, rest: ")"},
	})
}

func TestAtom(t *testing.T) {
	runProd(t, "Atom", func(d *Decoder) (any, bool) { var s string; return s, d.Atom(&s) }, []prodTest{
		{in: "FETCH 1", want: "FETCH", rest: " 1"},
		{in: "BODY[TEXT] x", want: "BODY[TEXT", rest: "] x"},
		{in: `a"b`, want: "a", rest: `"b`},
		{in: "a{5}", want: "a", rest: "{5}"},
		{in: "a%b*c", want: "a", rest: "%b*c"},
		{in: "a\\b", want: "a", rest: "\\b"},
		{in: "a(b)", want: "a", rest: "(b)"},
		{in: "a\x7fb", want: "a", rest: "\x7fb"},
		{in: "a\x01b", want: "a", rest: "\x01b"},
		{in: "tag\xc3\xa9", want: "tag", rest: "\xc3\xa9"},
		{in: "~!#$&'+,-./:;<=>?@^_`| ", want: "~!#$&'+,-./:;<=>?@^_`|", rest: " "},
		{in: "x", err: "EOF"}, // an atom must end in a delimiter
		{in: "]", err: noMatch, rest: "]"},
		{in: " a", err: noMatch, rest: " a"},
	})
	runProd(t, "ExpectAtom", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectAtom(&s) }, []prodTest{
		{in: "A001 ", want: "A001", rest: " "},
		{in: "\r\n", err: "imapwire: expected atom, found end of line", rest: "\r\n"},
		{in: "*", err: `imapwire: expected atom, found "*"`, rest: "*"},
	})
}

func TestSectionAtom(t *testing.T) {
	runProd(t, "ExpectSectionAtom", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectSectionAtom(&s) }, []prodTest{
		{in: "BODY.PEEK[1.2.HEADER.FIELDS (From)]<0.100>", want: "BODY.PEEK", rest: "[1.2.HEADER.FIELDS (From)]<0.100>"},
		{in: "1.2.HEADER.FIELDS (From)]", want: "1.2.HEADER.FIELDS", rest: " (From)]"},
		{in: "TEXT]<0.100>", want: "TEXT", rest: "]<0.100>"},
		{in: "0.100>", want: "0.100", rest: ">"},
		{in: "RFC822.SIZE)", want: "RFC822.SIZE", rest: ")"},
		{in: "FLAGS\r\n", want: "FLAGS", rest: "\r\n"},
		{in: "X<1", want: "X", rest: "<1"},
		{in: "]", err: `imapwire: expected fetch attribute, found "]"`, rest: "]"},
		{in: "[", err: `imapwire: expected fetch attribute, found "["`, rest: "["},
	})
}

func TestQuoted(t *testing.T) {
	runProd(t, "Quoted", func(d *Decoder) (any, bool) { var s string; return s, d.Quoted(&s) }, []prodTest{
		{in: `"" x`, want: "", rest: " x"},
		{in: `"a b" x`, want: "a b", rest: " x"},
		{in: `"a\"b\\c"`, want: `a"b\c`},
		{in: "\"caf\xc3\xa9\"", want: "caf\xc3\xa9"},
		{in: "\"tab\there\"", want: "tab\there"},
		{in: `x"`, err: noMatch, rest: `x"`},
		{in: `"a\b"`, err: `imapwire: invalid escape \"b" in quoted string`, rest: `b"`},
		{in: "\"a\\\r\n", err: `imapwire: invalid escape \end of line in quoted string`, rest: "\r\n"},
		{in: "\"abc\r\n", err: "imapwire: unterminated quoted string", rest: "\r\n"},
		{in: "\"abc\n", err: "imapwire: unterminated quoted string", rest: "\n"},
		{in: "\"a\x00b\"", err: "imapwire: NUL in quoted string", rest: "\x00b\""},
		{in: `"abc`, err: "EOF"},
	})
	runProd(t, "ExpectQuoted", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectQuoted(&s) }, []prodTest{
		{in: "{3}\r\nabc", err: `imapwire: expected quoted string, found "{"`, rest: "{3}\r\nabc"},
	})
}

func TestString(t *testing.T) {
	runProd(t, "ExpectString", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectString(&s) }, []prodTest{
		{in: `"abc" `, want: "abc", rest: " "},
		{in: "{3}\r\nabc ", want: "abc", rest: " "},
		{in: "{0}\r\n)", want: "", rest: ")"},
		{in: "{5+}\r\na\r\nbc)", want: "a\r\nbc", rest: ")"},
		{in: "{4}\r\n\xff\xfe\x01\x7f", want: "\xff\xfe\x01\x7f"},
		{in: "{16}\r\n0123456789abcdef", want: "0123456789abcdef"},
		{in: "{3}\r\na\x00c ", err: "imapwire: NUL in literal", rest: " "},
		{in: "{17}\r\n0123456789abcdefg\r\n", err: "imapwire: literal of 17 octets exceeds the limit of 16", rest: "0123456789abcdefg\r\n"},
		{in: "{17+}\r\n0123456789abcdefg)", err: "imapwire: literal of 17 octets exceeds the limit of 16", rest: ")"},
		{in: "{3}abc", err: `imapwire: expected end of line after literal size, found "a"`, rest: "abc"},
		{in: "{3}\nabc", err: `imapwire: expected end of line after literal size, found a bare LF (lines end with CRLF)`, rest: "\nabc"},
		{in: "{}\r\n", err: `imapwire: expected literal size, found "}"`, rest: "}\r\n"},
		{in: "{3x}\r\n", err: `imapwire: expected "}", found "x"`, rest: "x}\r\n"},
		{in: "{3-}\r\n", err: `imapwire: expected "}", found "-"`, rest: "-}\r\n"},
		{in: "{99999999999999999999}\r\n", err: "imapwire: literal size 99999999999999999999 out of range", rest: "}\r\n"},
		{in: "{5}\r\nab", err: "unexpected EOF"},
		{in: "abc", err: `imapwire: expected string, found "a"`, rest: "abc"},
		{in: "~{3}\r\nabc", err: `imapwire: expected string, found "~"`, rest: "~{3}\r\nabc"},
	})
}

func TestAString(t *testing.T) {
	runProd(t, "ExpectAString", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectAString(&s) }, []prodTest{
		{in: "user pass", want: "user", rest: " pass"},
		{in: "a]b)", want: "a]b", rest: ")"},
		{in: `"a b"`, want: "a b"},
		{in: "{2}\r\nab ", want: "ab", rest: " "},
		{in: "NIL ", want: "NIL", rest: " "},
		{in: "a%b", want: "a", rest: "%b"},
		{in: "(", err: `imapwire: expected string, found "("`, rest: "("},
		{in: "%", err: `imapwire: expected string, found "%"`, rest: "%"},
	})
}

func TestNString(t *testing.T) {
	type res struct {
		s     string
		isNil bool
	}
	runProd(t, "ExpectNString", func(d *Decoder) (any, bool) {
		var r res
		return r, d.ExpectNString(&r.s, &r.isNil)
	}, []prodTest{
		{in: "NIL ", want: "{ true}", rest: " "},
		{in: "nil)", want: "{ true}", rest: ")"},
		{in: `"" `, want: "{ false}", rest: " "},
		{in: `"NIL" `, want: "{NIL false}", rest: " "},
		{in: "{1}\r\nx ", want: "{x false}", rest: " "},
		{in: "NILL ", err: `imapwire: expected string or NIL, found "NILL"`, rest: " "},
		{in: "(", err: `imapwire: expected string or NIL, found "("`, rest: "("},
	})
}

func TestNumber(t *testing.T) {
	runProd(t, "Number", func(d *Decoder) (any, bool) { var n uint32; return n, d.Number(&n) }, []prodTest{
		{in: "0 ", want: "0", rest: " "},
		{in: "007)", want: "7", rest: ")"},
		{in: "4294967295 ", want: "4294967295", rest: " "},
		{in: "4294967296 ", err: "imapwire: number 4294967296 out of range", rest: " "},
		{in: "x", err: noMatch, rest: "x"},
		{in: "-1", err: noMatch, rest: "-1"},
	})
	runProd(t, "ExpectNumber", func(d *Decoder) (any, bool) { var n uint32; return n, d.ExpectNumber(&n) }, []prodTest{
		{in: "12\r\n", want: "12", rest: "\r\n"},
		{in: "x", err: `imapwire: expected number, found "x"`, rest: "x"},
	})
	runProd(t, "ExpectNZNumber", func(d *Decoder) (any, bool) { var n uint32; return n, d.ExpectNZNumber(&n) }, []prodTest{
		{in: "1 ", want: "1", rest: " "},
		{in: "0 ", err: `imapwire: expected non-zero number, found "0"`, rest: " "},
		{in: "01 ", err: `imapwire: expected non-zero number, found "01"`, rest: " "},
		{in: "99999999999 ", err: "imapwire: number 99999999999 out of range", rest: " "},
		{in: "*", err: `imapwire: expected non-zero number, found "*"`, rest: "*"},
	})
	runProd(t, "ExpectNumber64", func(d *Decoder) (any, bool) { var n int64; return n, d.ExpectNumber64(&n) }, []prodTest{
		{in: "9223372036854775807 ", want: "9223372036854775807", rest: " "},
		{in: "9223372036854775808 ", err: "imapwire: number 9223372036854775808 out of range", rest: " "},
		{in: " ", err: "imapwire: expected number, found SP", rest: " "},
	})
}

func TestNumSet(t *testing.T) {
	runProd(t, "ExpectNumSet", func(d *Decoder) (any, bool) { var s imap.NumSet; return s, d.ExpectNumSet(&s) }, []prodTest{
		{in: "1 ", want: "1", rest: " "},
		{in: "1:3,5,7:* ", want: "1:3,5,7:*", rest: " "},
		{in: "*:4 ", want: "*:4", rest: " "},
		{in: "* ", want: "*", rest: " "},
		{in: "4:2\r\n", want: "4:2", rest: "\r\n"},
		{in: "4294967295 ", want: "4294967295", rest: " "},
		{in: "$ ", want: "$", rest: " "},
		{in: "$\r\n", want: "$", rest: "\r\n"},
		{in: "$,1 ", err: `imapwire: "$" cannot be combined with other numbers in a sequence set`, rest: ",1 "},
		{in: "1,$ ", err: `imapwire: expected sequence set, found "$"`, rest: "$ "},
		{in: "0 ", err: "imapwire: invalid sequence number 0", rest: " "},
		{in: "1:0 ", err: "imapwire: invalid sequence number 0", rest: " "},
		{in: "01 ", err: "imapwire: invalid sequence number 01", rest: " "},
		{in: "4294967296 ", err: "imapwire: invalid sequence number 4294967296", rest: " "},
		{in: "1, ", err: "imapwire: expected sequence set, found SP", rest: " "},
		{in: "1: ", err: "imapwire: expected sequence set, found SP", rest: " "},
		{in: ",1 ", err: `imapwire: expected sequence set, found ","`, rest: ",1 "},
		{in: "1::2 ", err: `imapwire: expected sequence set, found ":"`, rest: ":2 "},
		{in: "x", err: `imapwire: expected sequence set, found "x"`, rest: "x"},
	})
}

// listString reads a list of atoms and nested lists, for the table.
func listString(d *Decoder) (string, bool) {
	var parts []string
	var item func() error
	item = func() error {
		var s string
		if d.List(func() error { return item() }) {
			parts = append(parts, "<list>")
			return nil
		}
		if d.ExpectAString(&s) {
			parts = append(parts, s)
		}
		return nil
	}
	ok := d.ExpectList(item)
	return strings.Join(parts, ","), ok
}

func TestList(t *testing.T) {
	runProd(t, "ExpectList", func(d *Decoder) (any, bool) { return listString(d) }, []prodTest{
		{in: "() ", want: "", rest: " "},
		{in: "(a) ", want: "a", rest: " "},
		{in: `(a "b c" {1}` + "\r\nd) ", want: "a,b c,d", rest: " "},
		{in: "(a (b c) ()) ", want: "a,b,c,<list>,<list>", rest: " "},
		{in: "(((a)))", want: "a,<list>,<list>"},
		{in: "((((a))))", err: "imapwire: lists nested deeper than 3", rest: "a))))"},
		{in: "(a  b)", err: `imapwire: expected string, found SP`, rest: " b)"},
		{in: "(a b", err: "EOF"},
		{in: "(a\r\n", err: `imapwire: expected SP or ")", found end of line`, rest: "\r\n"},
		{in: "( a)", err: `imapwire: expected string, found SP`, rest: " a)"},
		{in: "(a )", err: `imapwire: expected string, found ")"`, rest: ")"},
		{in: "a", err: `imapwire: expected "(", found "a"`, rest: "a"},
	})
	// An item's error stops the list and becomes the decoder's error.
	d := newTestDecoder("(a b)", DecoderOptions{})
	stop := errors.New("stop")
	if d.ExpectList(func() error { return stop }) || d.Err() != stop {
		t.Errorf("ExpectList(item error) = true or Err %v, want false, %v", d.Err(), stop)
	}
	// List consumes nothing when the next octet is not "(".
	d = newTestDecoder("a", DecoderOptions{})
	if d.List(func() error { return nil }) || d.Err() != nil {
		t.Errorf("List(%q) = true or Err %v, want false, nil", "a", d.Err())
	}
}

func TestFlag(t *testing.T) {
	runProd(t, "ExpectFlag", func(d *Decoder) (any, bool) { var f imap.Flag; return f, d.ExpectFlag(&f) }, []prodTest{
		{in: `\Seen `, want: `\Seen`, rest: " "},
		{in: `\SEEN)`, want: `\Seen`, rest: ")"},
		{in: `\deleted `, want: `\Deleted`, rest: " "},
		{in: `\Recent `, want: `\Recent`, rest: " "},
		{in: `\Custom `, want: `\Custom`, rest: " "},
		{in: `$Forwarded `, want: `$Forwarded`, rest: " "},
		{in: `Junk]`, want: `Junk`, rest: "]"},
		{in: `\* `, err: `imapwire: expected flag name after "\", found "*"`, rest: "* "},
		{in: `\ `, err: `imapwire: expected flag name after "\", found SP`, rest: " "},
		{in: `"Seen" `, err: `imapwire: expected flag, found "\""`, rest: `"Seen" `},
	})
}

func TestMailbox(t *testing.T) {
	runProd(t, "ExpectMailbox", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectMailbox(&s) }, []prodTest{
		{in: "inbox ", want: "INBOX", rest: " "},
		{in: `"InBoX" `, want: "INBOX", rest: " "},
		{in: "INBOX.Sent ", want: "INBOX.Sent", rest: " "},
		{in: "Entw&APw-rfe ", want: "Entwürfe", rest: " "},
		{in: `"A &- B" `, want: "A & B", rest: " "},
		{in: "{10}\r\n&ZeVnLIqe- ", want: "日本語", rest: " "},
		{in: "a]b ", want: "a]b", rest: " "},
		{in: "&Jjo ", err: `imapwire: invalid mailbox name "&Jjo": unterminated "&" run`, rest: " "},
		{in: "&AGE- ", err: `imapwire: invalid mailbox name "&AGE-": printable ASCII 'a' must not be encoded`, rest: " "},
		// UTF-8 names are accepted in IMAP4rev1 mode too (RFC 6855 §3),
		// with mUTF-7 runs decoded (go-imap v2 sends "&-" for "&").
		{in: "\"caf\xc3\xa9\" ", want: "café", rest: " "},
		{in: "\"Caf\xc3\xa8 &- x\" ", want: "Cafè & x", rest: " "},
		{in: "\"caf\xe9\" ", err: `imapwire: invalid mailbox name "caf\xe9": not valid UTF-8`, rest: " "},
		{in: "\"\xc3\xa9&Jjo\" ", err: `imapwire: invalid mailbox name "é&Jjo": unterminated "&" run`, rest: " "},
		{in: "%", err: `imapwire: expected string, found "%"`, rest: "%"},
	})
	runProd(t, "ExpectListMailbox", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectListMailbox(&s) }, []prodTest{
		{in: "* ", want: "*", rest: " "},
		{in: "INBOX.% ", want: "INBOX.%", rest: " "},
		{in: "inbox\r\n", want: "inbox", rest: "\r\n"},
		{in: `"" `, want: "", rest: " "},
		{in: "Entw&APw-rfe*\r\n", want: "Entwürfe*", rest: "\r\n"},
		{in: "a]%b ", want: "a]%b", rest: " "},
		{in: "&- ", want: "&", rest: " "},
		{in: "& ", err: `imapwire: invalid mailbox pattern "&": unterminated "&" run`, rest: " "},
		{in: "(", err: `imapwire: expected mailbox pattern, found "("`, rest: "("},
	})
}

func TestDateTime(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: `"17-Jul-1996 02:44:25 -0700"`, want: "1996-07-17T02:44:25-07:00"},
		{in: `" 7-jul-1996 02:44:25 +0130"`, want: "1996-07-07T02:44:25+01:30"},
		{in: `"7-JUL-1996 23:59:59 +0000"`, want: "1996-07-07T23:59:59Z"},
		{in: `"29-Feb-2020 00:00:00 +0000"`, want: "2020-02-29T00:00:00Z"},
		{in: `"29-Feb-2021 00:00:00 +0000"`, err: `imapwire: invalid date-time "29-Feb-2021 00:00:00 +0000": no such day`},
		{in: `"32-Jan-2020 00:00:00 +0000"`, err: `imapwire: invalid date-time "32-Jan-2020 00:00:00 +0000": no such day`},
		{in: `"00-Jan-2020 00:00:00 +0000"`, err: `imapwire: invalid date-time "00-Jan-2020 00:00:00 +0000": no such day`},
		{in: `"17-Jux-1996 02:44:25 -0700"`, err: `imapwire: invalid date-time "17-Jux-1996 02:44:25 -0700": unknown month Jux`},
		{in: `"17-Jul-1996 24:00:00 -0700"`, err: `imapwire: invalid date-time "17-Jul-1996 24:00:00 -0700": invalid time`},
		{in: `"17-Jul-1996 02:60:00 -0700"`, err: `imapwire: invalid date-time "17-Jul-1996 02:60:00 -0700": invalid time`},
		{in: `"17-Jul-1996 02:44:25 0700"`, err: `imapwire: invalid date-time "17-Jul-1996 02:44:25 0700": expected dd-Mon-yyyy hh:mm:ss +zzzz`},
		{in: `"17-Jul-1996 02:44:25 *0700"`, err: `imapwire: invalid date-time "17-Jul-1996 02:44:25 *0700": invalid zone`},
		{in: `"17-Jul-1996 02:44:25 -0760"`, err: `imapwire: invalid date-time "17-Jul-1996 02:44:25 -0760": invalid zone`},
		{in: `"17-Jul-96 02:44:25 -0700"`, err: `imapwire: invalid date-time "17-Jul-96 02:44:25 -0700": expected dd-Mon-yyyy hh:mm:ss +zzzz`},
		{in: `"17-Jul-1996"`, err: `imapwire: invalid date-time "17-Jul-1996": expected dd-Mon-yyyy hh:mm:ss +zzzz`},
		{in: `"17-Jul-1996 2:44:25 -0700"`, err: `imapwire: invalid date-time "17-Jul-1996 2:44:25 -0700": expected dd-Mon-yyyy hh:mm:ss +zzzz`},
		{in: `"017-Jul-1996 02:44:25 -0700"`, err: `imapwire: invalid date-time "017-Jul-1996 02:44:25 -0700": expected d-Mon-yyyy`},
		{in: `17-Jul-1996`, err: `imapwire: expected date-time, found "1"`},
	}
	for _, tt := range tests {
		d := newTestDecoder(tt.in, DecoderOptions{})
		var tm time.Time
		ok := d.ExpectDateTime(&tm)
		got, gotErr := "", ""
		if ok {
			got = tm.Format(time.RFC3339)
		}
		if err := d.Err(); err != nil {
			gotErr = err.Error()
		}
		if got != tt.want || gotErr != tt.err {
			t.Errorf("ExpectDateTime(%q) = %q, err %q; want %q, err %q", tt.in, got, gotErr, tt.want, tt.err)
		}
	}
}

func TestDate(t *testing.T) {
	runProd(t, "ExpectDate", func(d *Decoder) (any, bool) {
		var tm time.Time
		ok := d.ExpectDate(&tm)
		return tm.Format(time.RFC3339), ok
	}, []prodTest{
		{in: "1-Feb-1994 ", want: "1994-02-01T00:00:00Z", rest: " "},
		{in: "01-feb-1994)", want: "1994-02-01T00:00:00Z", rest: ")"},
		{in: `"1-FEB-1994" `, want: "1994-02-01T00:00:00Z", rest: " "},
		{in: "31-Dec-2020\r\n", want: "2020-12-31T00:00:00Z", rest: "\r\n"},
		{in: "29-Feb-2000 ", want: "2000-02-29T00:00:00Z", rest: " "},
		{in: "29-Feb-2021 ", err: `imapwire: invalid date "29-Feb-2021": no such day`, rest: " "},
		{in: "31-Apr-2021 ", err: `imapwire: invalid date "31-Apr-2021": no such day`, rest: " "},
		{in: "32-Jan-2020 ", err: `imapwire: invalid date "32-Jan-2020": no such day`, rest: " "},
		{in: "1-Feb-94 ", err: `imapwire: invalid date "1-Feb-94": expected d-Mon-yyyy`, rest: " "},
		{in: "1-February-1994 ", err: `imapwire: invalid date "1-February-1994": expected d-Mon-yyyy`, rest: " "},
		{in: "1-Fex-1994 ", err: `imapwire: invalid date "1-Fex-1994": unknown month Fex`, rest: " "},
		{in: "1994-02-01 ", err: `imapwire: invalid date "1994-02-01": expected d-Mon-yyyy`, rest: " "},
		{in: `"1-Feb-1994 00:00:00 +0000"`, err: `imapwire: invalid date "1-Feb-1994 00:00:00 +0000": expected d-Mon-yyyy`},
		{in: "(", err: `imapwire: expected date, found "("`, rest: "("},
	})
}
