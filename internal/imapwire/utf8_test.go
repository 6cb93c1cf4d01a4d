package imapwire

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// runUTF8 is runProd with the decoder in UTF-8 mode.
func runUTF8(t *testing.T, name string, parse func(d *Decoder) (any, bool), tests []prodTest) {
	t.Helper()
	for _, tt := range tests {
		d := newTestDecoder(tt.in, DecoderOptions{MaxLiteralSize: 16, MaxDepth: 3, UTF8: true})
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
		rest, _ := io.ReadAll(d.r)
		if got != tt.want || gotErr != tt.err || string(rest) != tt.rest {
			t.Errorf("%s(%q) = %q, err %q, rest %q; want %q, err %q, rest %q",
				name, tt.in, got, gotErr, rest, tt.want, tt.err, tt.rest)
		}
	}
}

func TestQuotedUTF8(t *testing.T) {
	runUTF8(t, "Quoted", func(d *Decoder) (any, bool) { var s string; return s, d.Quoted(&s) }, []prodTest{
		{in: "\"caf\xc3\xa9\" ", want: "café", rest: " "},
		{in: "\"\xe6\x97\xa5\xe6\x9c\xac\"", want: "日本"},
		{in: "\"\xf0\x9f\x93\xac\"", want: "📬"},
		{in: "\"a\\\"b\"", want: `a"b`},
		// RFC 6855 §3: octets with the high bit set that are not UTF-8
		// are refused with BAD.
		{in: "\"caf\xe9\" ", err: "imapwire: invalid UTF-8 in quoted string", rest: " "},
		{in: "\"\xc3\" ", err: "imapwire: invalid UTF-8 in quoted string", rest: " "},
		{in: "\"\xed\xa0\x80\"", err: "imapwire: invalid UTF-8 in quoted string"}, // a surrogate
		{in: "\"\xc0\xaf\"", err: "imapwire: invalid UTF-8 in quoted string"},     // overlong
	})
}

func TestMailboxUTF8(t *testing.T) {
	runUTF8(t, "ExpectMailbox", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectMailbox(&s) }, []prodTest{
		{in: "\"Entw\xc3\xbcrfe\" ", want: "Entwürfe", rest: " "},
		{in: "{9}\r\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ", want: "日本語", rest: " "},
		// Valid mUTF-7 is still decoded; a name that is not valid mUTF-7
		// is taken as it is, "&" being an ordinary character for an
		// IMAP4rev2 client (RFC 9051 §5.1).
		{in: "Entw&APw-rfe ", want: "Entwürfe", rest: " "},
		{in: "\"Caf\xc3\xa8 &- x\" ", want: "Cafè & x", rest: " "},
		{in: "A&B ", want: "A&B", rest: " "},
		{in: "&AGE- ", want: "&AGE-", rest: " "},
		{in: "\"\xc3\xa9&Jjo\" ", want: "é&Jjo", rest: " "},
		{in: "inbox ", want: "INBOX", rest: " "},
		{in: "\"a\xc2\x85b\" ", err: `imapwire: invalid mailbox name "a\u0085b": control character in name`, rest: " "},
		{in: "\"a\xe2\x80\xa8b\" ", err: `imapwire: invalid mailbox name "a\u2028b": line or paragraph separator in name`, rest: " "},
		{in: "{2}\r\n\xff\xfe ", err: `imapwire: invalid mailbox name "\xff\xfe": not valid UTF-8`, rest: " "},
	})
	runUTF8(t, "ExpectListMailbox", func(d *Decoder) (any, bool) { var s string; return s, d.ExpectListMailbox(&s) }, []prodTest{
		{in: "\"Entw\xc3\xbc*\" ", want: "Entwü*", rest: " "},
		{in: "&* ", want: "&*", rest: " "},
	})
}

func TestSetUTF8(t *testing.T) {
	d := newTestDecoder("\"caf\xe9\" \"caf\xe9\"", DecoderOptions{})
	var s string
	if !d.Quoted(&s) || s != "caf\xe9" {
		t.Fatalf("Quoted before SetUTF8 = %q, %v; want the octets tolerated", s, d.Err())
	}
	d.SP()
	d.SetUTF8(true)
	if d.Quoted(&s) || d.Err() == nil {
		t.Fatalf("Quoted after SetUTF8 = %q, %v; want an error", s, d.Err())
	}
}

func TestEncoderUTF8(t *testing.T) {
	long := strings.Repeat("é", 600)
	tests := []struct {
		name string
		f    func(e *Encoder)
		want string
	}{
		{"mailbox", func(e *Encoder) { e.Mailbox("Entwürfe") }, "\"Entwürfe\""},
		{"mailbox ascii", func(e *Encoder) { e.Mailbox("A&B") }, "A&B"},
		{"mailbox inbox", func(e *Encoder) { e.Mailbox("inbox") }, "INBOX"},
		{"string", func(e *Encoder) { e.String("café") }, "\"café\""},
		{"string invalid", func(e *Encoder) { e.String("caf\xe9") }, "{4}\r\ncaf\xe9"},
		{"string long", func(e *Encoder) { e.String(long) }, "{1200}\r\n" + long},
	}
	for _, tt := range tests {
		got, err := encode(func(e *Encoder) { e.SetUTF8(true); tt.f(e) })
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// Without the mode, the same name goes out in modified UTF-7.
	if got, _ := encode(func(e *Encoder) { e.Mailbox("Entwürfe") }); got != "Entw&APw-rfe" {
		t.Errorf("Mailbox without UTF-8 mode = %q, want Entw&APw-rfe", got)
	}
}

// FuzzQuotedUTF8 checks the UTF-8 quoted mode: whatever it accepts is
// valid UTF-8 and comes back the same through the encoder; and it accepts
// every quoted string the encoder writes.
func FuzzQuotedUTF8(f *testing.F) {
	for _, s := range []string{"\"café\"", "\"\xc3\"", "\"a\\\"b\"", "\"\xed\xa0\x80\"", "\"📬\"", "\"\"", "\"a\x00\"", "{3}\r\nabc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := newTestDecoder(in, DecoderOptions{UTF8: true})
		var s string
		if d.Quoted(&s) {
			if !utf8.ValidString(s) {
				t.Fatalf("Quoted(%q) = %q, not valid UTF-8", in, s)
			}
			out, err := encode(func(e *Encoder) { e.SetUTF8(true); e.String(s) })
			if err != nil {
				t.Fatalf("String(%q): %v", s, err)
			}
			d2 := newTestDecoder(out, DecoderOptions{UTF8: true})
			var s2 string
			if !d2.ExpectString(&s2) || s2 != s {
				t.Fatalf("round trip of %q: %q -> %q, %v", s, out, s2, d2.Err())
			}
		}
		var name string
		d = newTestDecoder(in+" ", DecoderOptions{UTF8: true})
		if d.ExpectMailbox(&name) && !utf8.ValidString(name) {
			t.Fatalf("ExpectMailbox(%q) accepted %q, not valid UTF-8", in, name)
		}
	})
}
