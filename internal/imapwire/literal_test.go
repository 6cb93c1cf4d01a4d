package imapwire

import (
	"bufio"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// patternReader yields n octets of a repeating pattern without NUL.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte('a' + (p.off+int64(i))%26)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestLiteralReaderStreams10MiB(t *testing.T) {
	const size = 10 << 20
	src := io.MultiReader(strings.NewReader("{10485760}\r\n"), &patternReader{n: size}, strings.NewReader(" next\r\n"))
	conts := 0
	// The smallest bufio.Reader: the literal cannot be buffered whole.
	d := NewDecoder(bufio.NewReaderSize(src, 16), DecoderOptions{Continue: func() error { conts++; return nil }})
	r, n, ok := d.ExpectLiteralReader(64<<20, false)
	if !ok || n != size {
		t.Fatalf("ExpectLiteralReader = %v, %d, err %v; want true, %d", ok, n, d.Err(), size)
	}
	if conts != 1 {
		t.Errorf("Continue called %d times, want 1", conts)
	}
	h := crc32.NewIEEE()
	got, err := io.CopyBuffer(h, r, make([]byte, 1000))
	if err != nil || got != size {
		t.Fatalf("copy literal = %d, %v; want %d, nil", got, err, size)
	}
	want := crc32.NewIEEE()
	io.Copy(want, &patternReader{n: size})
	if h.Sum32() != want.Sum32() {
		t.Errorf("literal checksum = %08x, want %08x", h.Sum32(), want.Sum32())
	}
	var s string
	if !d.ExpectSP() || !d.ExpectAtom(&s) || s != "next" || !d.ExpectCRLF() {
		t.Errorf("after literal: atom %q, err %v; want %q", s, d.Err(), "next")
	}
}

func TestLiteralReader(t *testing.T) {
	tests := []struct {
		in      string
		max     int64
		lit8    bool
		want    string // literal contents
		readErr string // error reading the literal
		err     string // decoder error
		rest    string
		conts   int
	}{
		{in: "{5}\r\nhello)", max: 5, want: "hello", rest: ")", conts: 1},
		{in: "{5+}\r\nhello)", max: 5, want: "hello", rest: ")"},
		{in: "{0}\r\n)", max: 5, want: "", rest: ")", conts: 1},
		{in: "~{3}\r\na\x00b)", max: 5, lit8: true, want: "a\x00b", rest: ")", conts: 1},
		{in: "~{3+}\r\na\x00b)", max: 5, lit8: true, want: "a\x00b", rest: ")"},
		{in: "~{3}\r\nabc)", max: 5, err: `imapwire: expected literal, found "~"`, rest: "~{3}\r\nabc)"},
		{in: "{3}\r\na\x00b)", max: 5, want: "a\x00b", readErr: "imapwire: NUL in literal", err: "imapwire: NUL in literal", rest: ")", conts: 1},
		{in: "{6}\r\nhello!)", max: 5, err: "imapwire: literal of 6 octets exceeds the limit of 5", rest: "hello!)"},
		{in: "{6+}\r\nhello!)", max: 5, err: "imapwire: literal of 6 octets exceeds the limit of 5", rest: ")"},
		{in: "{5}\r\nhel", max: 5, want: "hel", readErr: "unexpected EOF", err: "unexpected EOF", conts: 1},
		{in: `"hello"`, max: 5, err: `imapwire: expected literal, found "\""`, rest: `"hello"`},
	}
	for _, tt := range tests {
		conts := 0
		d := NewDecoder(bufio.NewReader(strings.NewReader(tt.in)), DecoderOptions{Continue: func() error { conts++; return nil }})
		r, _, ok := d.ExpectLiteralReader(tt.max, tt.lit8)
		var got []byte
		readErr := ""
		if ok {
			var err error
			got, err = io.ReadAll(r)
			if err != nil {
				readErr = err.Error()
			}
		}
		gotErr := ""
		if d.Err() != nil {
			gotErr = d.Err().Error()
		}
		rest, _ := io.ReadAll(d.r)
		if string(got) != tt.want || readErr != tt.readErr || gotErr != tt.err || string(rest) != tt.rest || conts != tt.conts {
			t.Errorf("ExpectLiteralReader(%q) = %q, read err %q, err %q, rest %q, %d continuations; want %q, %q, %q, %q, %d",
				tt.in, got, readErr, gotErr, rest, conts, tt.want, tt.readErr, tt.err, tt.rest, tt.conts)
		}
	}
}

func TestLiteralLimitErrors(t *testing.T) {
	conts := 0
	d := newTestDecoder("{6}\r\nnext\r\n", DecoderOptions{MaxLiteralSize: 5, Continue: func() error { conts++; return nil }})
	var s string
	d.ExpectString(&s)
	var le *LimitError
	if !errors.As(d.Err(), &le) || le.Code != imap.CodeTooBig || le.Fatal || conts != 0 {
		t.Fatalf("ExpectString(too large) err = %#v, %d continuations; want non-fatal TOOBIG LimitError, none", d.Err(), conts)
	}
	// A refused synchronizing literal ends the line: DiscardLine reads
	// nothing, and the next line is the next command.
	if err := d.DiscardLine(); err != nil {
		t.Fatalf("DiscardLine = %v", err)
	}
	d.Reset()
	if !d.ExpectAtom(&s) || s != "next" {
		t.Errorf("after refused literal: atom %q, err %v; want %q", s, d.Err(), "next")
	}

	d = newTestDecoder("{2000000000+}\r\nxx", DecoderOptions{})
	d.ExpectString(&s)
	if !errors.As(d.Err(), &le) || !le.Fatal || d.DiscardLine() != le {
		t.Errorf("huge LITERAL+ err = %#v, want fatal LimitError from Err and DiscardLine", d.Err())
	}
}

func TestContinueError(t *testing.T) {
	boom := errors.New("write failed")
	d := newTestDecoder("{1}\r\nx", DecoderOptions{Continue: func() error { return boom }})
	var s string
	if d.ExpectString(&s) || d.Err() != boom || d.DiscardLine() != boom {
		t.Errorf("Continue error: Err %v, want %v from Err and DiscardLine", d.Err(), boom)
	}
}

// TestDiscardLine fails a command after its first atom and checks that the
// following line is read as the next command.
func TestDiscardLine(t *testing.T) {
	tests := []struct {
		name, in string
		opts     DecoderOptions
		fail     func(d *Decoder)
	}{
		{name: "rest of line", in: "a1 FOO (bar\r\nnext\r\n"},
		{name: "nothing left", in: "a1\r\nnext\r\n"},
		{name: "empty line", in: "\r\nnext\r\n", fail: func(d *Decoder) { var s string; d.ExpectAtom(&s) }},
		{name: "non-sync literal", in: "a1 X {5+}\r\nhe\r\nl rest\r\nnext\r\n"},
		{name: "two literals", in: "a1 X {1+}\r\n\n {3+}\r\n{1}\r\nnext\r\n"},
		{name: "literal8", in: "a1 X ~{2+}\r\n\x00\n\r\nnext\r\n"},
		{name: "sync literal ends the line", in: "a1 X {5}\r\nnext\r\n"},
		{name: "after error in literal size", in: "a1 {12x+}\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			d.ExpectString(&s)
		}},
		{name: "after error after literal", in: "a1 {2+}\r\nab) {1+}\r\n)\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			d.ExpectString(&s)
			d.ExpectSP()
		}},
		{name: "unread literal", in: "a1 {5+}\r\nhello {1+}\r\n)\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			r, _, _ := d.ExpectLiteralReader(10, false)
			io.CopyN(io.Discard, r, 2)
		}},
		{name: "NUL literal", in: "a1 {1}\r\n\x00 x\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			r, _, _ := d.ExpectLiteralReader(10, false)
			io.ReadAll(r)
		}},
		{name: "refused LITERAL+", in: "a1 {5+}\r\nhello {1+}\r\n)\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			d.ExpectLiteralReader(4, false)
		}},
		{name: "refused sync", in: "a1 {5}\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			d.ExpectLiteralReader(4, false)
		}},
		{name: "quoted with CR", in: "a1 \"x\r\nnext\r\n", fail: func(d *Decoder) {
			var s string
			d.ExpectAtom(&s)
			d.ExpectSP()
			d.ExpectQuoted(&s)
		}},
		{name: "bare LF line end", in: "a1 x\nnext\r\n"},
		{name: "long line", in: "a1 " + strings.Repeat("x", 10000) + "\r\nnext\r\n"},
	}
	for _, tt := range tests {
		d := newTestDecoder(tt.in, tt.opts)
		if tt.fail != nil {
			tt.fail(d)
		} else {
			var s string
			d.ExpectAtom(&s)
		}
		if err := d.DiscardLine(); err != nil {
			t.Errorf("%s: DiscardLine(%q) = %v", tt.name, tt.in, err)
			continue
		}
		d.Reset()
		var s string
		if !d.ExpectAtom(&s) || s != "next" || !d.ExpectCRLF() {
			t.Errorf("%s: after DiscardLine(%q): atom %q, err %v; want %q", tt.name, tt.in, s, d.Err(), "next")
		}
	}
}

func TestLineTooLong(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		fatal    bool
	}{
		// "a1 NOOP\r" is 8 octets: the LF breaks the limit, and ends the line.
		{name: "LF breaks the limit", in: "a1 NOOP\r\nnext\r\n", max: 8},
		{name: "in the middle", in: "a1 NOOP xxxxxxxxxxxxxxxxxxxxxx\r\nnext\r\n", max: 10},
		// The limit breaks inside "{5+}": the literal is still skipped.
		{name: "in a literal announcement", in: "a1 X {5+}\r\nhe\r\nl\r\nnext\r\n", max: 8},
		{name: "end not found", in: "a1 " + strings.Repeat("x", 100000) + "\r\nnext\r\n", max: 100, fatal: true},
		{name: "EOF", in: "a1 " + strings.Repeat("x", 1000), max: 100, fatal: true},
	}
	for _, tt := range tests {
		d := newTestDecoder(tt.in, DecoderOptions{MaxLineLength: tt.max})
		for i := 0; i < 10; i++ {
			var s string
			if !d.SP() && !d.AString(&s) && !d.ExpectCRLF() {
				break
			}
		}
		var le *LimitError
		if !errors.As(d.Err(), &le) || le.Code != imap.CodeTooBig || le.Fatal != tt.fatal {
			t.Errorf("%s: Err = %#v, want TOOBIG LimitError with Fatal %v", tt.name, d.Err(), tt.fatal)
			continue
		}
		derr := d.DiscardLine()
		if tt.fatal {
			if derr == nil {
				t.Errorf("%s: DiscardLine = nil, want the fatal error", tt.name)
			}
			continue
		}
		if derr != nil {
			t.Errorf("%s: DiscardLine = %v", tt.name, derr)
		}
		d.Reset()
		var s string
		if !d.ExpectAtom(&s) || s != "next" || !d.ExpectCRLF() {
			t.Errorf("%s: after the long line: atom %q, err %v; want %q", tt.name, s, d.Err(), "next")
		}
	}
}

func TestLineLengthExcludesLiterals(t *testing.T) {
	in := "a1 {20}\r\n" + strings.Repeat("x", 20) + " {20+}\r\n" + strings.Repeat("y", 20) + "\r\n"
	d := newTestDecoder(in, DecoderOptions{MaxLineLength: 20})
	var a, b, c string
	if !d.ExpectAtom(&a) || !d.ExpectSP() || !d.ExpectString(&b) || !d.ExpectSP() || !d.ExpectString(&c) || !d.ExpectCRLF() {
		t.Errorf("20-octet literals on a line limited to 20: err %v", d.Err())
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		in, want, err, rest string
	}{
		{in: "DONE\r\nnext", want: "DONE", rest: "next"},
		{in: "\r\n", want: ""},
		{in: "dGVzdA==\r\n", want: "dGVzdA=="},
		{in: "DONE\nnext", err: "imapwire: line ends in LF without CR", rest: "next"},
		{in: "DONE", err: "unexpected EOF"},
		{in: "", err: "EOF"},
		{in: strings.Repeat("x", 17) + "\r\nnext", err: "imapwire: line longer than 16 octets", rest: "next"},
		{in: strings.Repeat("x", 15) + "\r\n", err: "imapwire: line longer than 16 octets"},
		{in: strings.Repeat("x", 14) + "\r\n", want: strings.Repeat("x", 14)},
	}
	for _, tt := range tests {
		d := NewDecoder(bufio.NewReaderSize(strings.NewReader(tt.in), 16), DecoderOptions{MaxLineLength: 16})
		got, err := d.ReadLine()
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		rest, _ := io.ReadAll(d.r)
		if got != tt.want || gotErr != tt.err || string(rest) != tt.rest {
			t.Errorf("ReadLine(%q) = %q, err %q, rest %q; want %q, %q, %q", tt.in, got, gotErr, rest, tt.want, tt.err, tt.rest)
		}
	}
	d := NewDecoder(bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", 1000)+"\r\n"), 16), DecoderOptions{MaxLineLength: 16})
	var le *LimitError
	if _, err := d.ReadLine(); !errors.As(err, &le) || !le.Fatal {
		t.Errorf("ReadLine(1000 octets, limit 16) err = %v, want fatal LimitError", err)
	}
}

func TestPeekByteAndReset(t *testing.T) {
	d := newTestDecoder("x", DecoderOptions{})
	if b, ok := d.PeekByte(); !ok || b != 'x' {
		t.Errorf("PeekByte = %q, %v; want 'x', true", b, ok)
	}
	d.ExpectSP()
	if _, ok := d.PeekByte(); ok || d.Err() == nil {
		t.Errorf("PeekByte after error = true or Err nil")
	}
	d.Reset()
	if b, ok := d.PeekByte(); !ok || b != 'x' || d.Err() != nil {
		t.Errorf("PeekByte after Reset = %q, %v, %v; want 'x', true, nil", b, ok, d.Err())
	}
	var s string
	d.Atom(&s)
	if _, ok := d.PeekByte(); ok || d.Err() != io.EOF {
		t.Errorf("PeekByte at EOF: Err %v, want io.EOF", d.Err())
	}
}

func TestDepthLimit(t *testing.T) {
	d := newTestDecoder("((((x))))", DecoderOptions{MaxDepth: 3})
	var item func() error
	item = func() error {
		var s string
		if !d.List(item) {
			d.ExpectAtom(&s)
		}
		return nil
	}
	d.ExpectList(item)
	var le *LimitError
	if !errors.As(d.Err(), &le) || le.Code != imap.CodeLimit || le.Fatal {
		t.Errorf("4 levels with MaxDepth 3: Err = %#v, want non-fatal LIMIT LimitError", d.Err())
	}
	d = newTestDecoder("(((x)))", DecoderOptions{MaxDepth: 3})
	if !d.ExpectList(item) || d.Err() != nil {
		t.Errorf("3 levels with MaxDepth 3: Err = %v, want nil", d.Err())
	}
}

// TestLiteralTotal checks MaxLiteralTotal: the line length does not count
// literals, so without a budget one line of many literals could hold
// thousands of MaxLiteralSize in memory. The literal over budget is
// refused as a too-large one is: a synchronizing one unread (and without
// a continuation request), a non-synchronizing one read and dropped; the
// budget starts again with the next line.
func TestLiteralTotal(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		conts int    // continuation requests sent
		rest  string // what is left after DiscardLine
	}{
		{"sync", "{4}\r\nabcd {4}\r\nefgh {4}\r\nijkl\r\nnext", 2, "ijkl\r\nnext"},
		{"non-sync", "{4+}\r\nabcd {4+}\r\nefgh {4+}\r\nijkl\r\nnext", 0, "next"},
	}
	for _, tt := range tests {
		conts := 0
		br := bufio.NewReader(strings.NewReader(tt.in))
		d := NewDecoder(br, DecoderOptions{MaxLiteralSize: 5, MaxLiteralTotal: 9,
			Continue: func() error { conts++; return nil }})
		var s string
		n := 0
		for d.ExpectString(&s) && d.SP() {
			n++
		}
		var le *LimitError
		if !errors.As(d.Err(), &le) || le.Code != imap.CodeLimit || le.Fatal || n != 2 {
			t.Errorf("%s: strings read = %d, Err = %#v; want 2, non-fatal LIMIT LimitError", tt.name, n, d.Err())
			continue
		}
		if want := "imapwire: literals of one command exceed 9 octets in all"; le.Error() != want {
			t.Errorf("%s: Err = %q, want %q", tt.name, le.Error(), want)
		}
		if conts != tt.conts {
			t.Errorf("%s: %d continuations, want %d", tt.name, conts, tt.conts)
		}
		if err := d.DiscardLine(); err != nil {
			t.Fatalf("%s: DiscardLine() = %v", tt.name, err)
		}
		if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
			t.Errorf("%s: rest after DiscardLine = %q, want %q", tt.name, rest, tt.rest)
		}
		d.Reset()
		br.Reset(strings.NewReader("{5}\r\nabcde {4}\r\nabcd\r\n"))
		if !d.ExpectString(&s) || !d.SP() || !d.ExpectString(&s) || !d.ExpectCRLF() {
			t.Errorf("%s: after Reset, 9 octets of literals: Err = %v, want nil", tt.name, d.Err())
		}
	}
}
