package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
)

func encode(f func(e *Encoder)) (string, error) {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	e := NewEncoder(w)
	f(e)
	err := e.Flush()
	return b.String(), err
}

func TestEncoder(t *testing.T) {
	long := strings.Repeat("x", 1025)
	tests := []struct {
		name string
		f    func(e *Encoder)
		want string
	}{
		{"atoms", func(e *Encoder) { e.Atom("*").SP().Number(3).SP().Atom("EXISTS").CRLF() }, "* 3 EXISTS\r\n"},
		{"special", func(e *Encoder) { e.Special('[').Atom("READ-WRITE").Special(']') }, "[READ-WRITE]"},
		{"number64", func(e *Encoder) { e.Number64(9223372036854775807) }, "9223372036854775807"},
		{"number max", func(e *Encoder) { e.Number(4294967295) }, "4294967295"},
		{"text", func(e *Encoder) { e.Text("LOGIN completed") }, "LOGIN completed"},
		{"quoted", func(e *Encoder) { e.Quoted(`a "b" \c`) }, `"a \"b\" \\c"`},
		{"quoted empty", func(e *Encoder) { e.Quoted("") }, `""`},
		{"quoted 8-bit", func(e *Encoder) { e.Quoted("é") }, "\"é\""},
		{"string", func(e *Encoder) { e.String("Hello world") }, `"Hello world"`},
		{"string escapes", func(e *Encoder) { e.String(`say "hi"`) }, `"say \"hi\""`},
		{"string CRLF", func(e *Encoder) { e.String("a\r\nb") }, "{4}\r\na\r\nb"},
		{"string 8-bit", func(e *Encoder) { e.String("café") }, "{5}\r\ncafé"},
		{"string NUL", func(e *Encoder) { e.String("a\x00") }, "{2}\r\na\x00"},
		{"string 1024", func(e *Encoder) { e.String(long[:1024]) }, `"` + long[:1024] + `"`},
		{"string 1025", func(e *Encoder) { e.String(long) }, "{1025}\r\n" + long},
		{"astring atom", func(e *Encoder) { e.AString("a]b") }, "a]b"},
		{"astring empty", func(e *Encoder) { e.AString("") }, `""`},
		{"astring space", func(e *Encoder) { e.AString("a b") }, `"a b"`},
		{"astring wildcard", func(e *Encoder) { e.AString("a*") }, `"a*"`},
		{"astring NIL", func(e *Encoder) { e.AString("NIL") }, "NIL"},
		{"nstring nil", func(e *Encoder) { e.NString("") }, "NIL"},
		{"nstring NIL", func(e *Encoder) { e.NString("NIL") }, `"NIL"`},
		{"mailbox inbox", func(e *Encoder) { e.Mailbox("inbox") }, "INBOX"},
		{"mailbox mutf7", func(e *Encoder) { e.Mailbox("Entwürfe") }, "Entw&APw-rfe"},
		{"mailbox space", func(e *Encoder) { e.Mailbox("My Stuff & Co") }, `"My Stuff &- Co"`},
		{"mailbox empty", func(e *Encoder) { e.Mailbox("") }, `""`},
		{"numset", func(e *Encoder) {
			e.NumSet(imap.NumSet{Ranges: []imap.NumRange{{Start: 1, Stop: 3}, {Start: 5, Stop: 5}, {Start: 7, Stop: 0}}})
		}, "1:3,5,7:*"},
		{"numset $", func(e *Encoder) { e.NumSet(imap.NumSet{SearchRes: true}) }, "$"},
		{"flag", func(e *Encoder) { e.Flag(imap.FlagSeen) }, `\Seen`},
		{"datetime", func(e *Encoder) {
			e.DateTime(time.Date(1996, 7, 7, 2, 44, 25, 0, time.FixedZone("", -7*3600)))
		}, `"07-Jul-1996 02:44:25 -0700"`},
		{"list", func(e *Encoder) {
			flags := []imap.Flag{imap.FlagSeen, imap.FlagDeleted}
			e.List(len(flags), func(i int) { e.Flag(flags[i]) })
		}, `(\Seen \Deleted)`},
		{"empty list", func(e *Encoder) { e.List(0, nil) }, "()"},
		{"envelope-like", func(e *Encoder) {
			e.List(3, func(i int) {
				[]func(){func() { e.NString("") }, func() { e.String("Re: hi") }, func() { e.NString("x\r\ny") }}[i]()
			})
		}, "(NIL \"Re: hi\" {4}\r\nx\r\ny)"},
		{"literal", func(e *Encoder) {
			w := e.Literal(5)
			io.WriteString(w, "he")
			io.WriteString(w, "llo")
			w.Close()
			e.CRLF()
		}, "{5}\r\nhello\r\n"},
	}
	for _, tt := range tests {
		got, err := encode(tt.f)
		if got != tt.want || err != nil {
			t.Errorf("%s: encoded %q, %v; want %q, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestEncoderErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func(e *Encoder)
		want string // output: none, Flush stops at the error
		err  string
	}{
		{"quoted CR", func(e *Encoder) { e.Atom("a").Quoted("x\ry").Atom("b") }, "", "imapwire: cannot quote a string holding CR, LF or NUL"},
		{"negative", func(e *Encoder) { e.Number64(-1) }, "", "imapwire: negative number64 -1"},
		{"empty set", func(e *Encoder) { e.NumSet(imap.NumSet{}) }, "", "imapwire: empty sequence set"},
		{"short literal", func(e *Encoder) {
			w := e.Literal(5)
			io.WriteString(w, "abc")
			w.Close()
			e.CRLF()
		}, "", "imapwire: literal shorter than announced by 2 octets"},
		{"long literal", func(e *Encoder) {
			w := e.Literal(2)
			io.WriteString(w, "abc")
			w.Close()
		}, "", "imapwire: literal longer than announced by 1 octets"},
	}
	for _, tt := range tests {
		got, err := encode(tt.f)
		if got != tt.want || err == nil || err.Error() != tt.err {
			t.Errorf("%s: encoded %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestEncoderWriteErrorIsSticky(t *testing.T) {
	e := NewEncoder(bufio.NewWriterSize(failWriter{}, 16))
	e.Atom(strings.Repeat("x", 100)).Atom("more")
	if err := e.Flush(); err == nil || err.Error() != "broken pipe" || e.Err() != err {
		t.Errorf("Flush after write error = %v, Err %v; want broken pipe from both", err, e.Err())
	}
}

// TestEncoderDecoderRoundTrip writes strings with the Encoder and reads
// them back with the Decoder.
func TestEncoderDecoderRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a", "NIL", "a b", `"\`, "x\r\ny", "café", strings.Repeat("z", 3000), "a]b", "{5}"} {
		out, err := encode(func(e *Encoder) { e.AString(s).SP().String(s).SP().Mailbox(s).CRLF() })
		if err != nil {
			t.Fatal(err)
		}
		d := newTestDecoder(out, DecoderOptions{})
		var a, b, m string
		if !d.ExpectAString(&a) || !d.ExpectSP() || !d.ExpectString(&b) || !d.ExpectSP() || !d.ExpectMailbox(&m) || !d.ExpectCRLF() {
			t.Errorf("decode %q: %v", out, d.Err())
			continue
		}
		if a != s || b != s || (m != s && !strings.EqualFold(s, "INBOX")) {
			t.Errorf("round trip of %q = %q, %q, %q", s, a, b, m)
		}
	}
}
