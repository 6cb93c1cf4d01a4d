package imapserver

import (
	"bufio"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imapwire"
)

func TestIDOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  func(*Options)
		want string
	}{
		{"default", nil, `* ID ("name" "Postern")`},
		{"version", func(o *Options) { o.Version = "0.6" }, `* ID ("name" "Postern" "version" "0.6")`},
		{"hidden", func(o *Options) { o.HideID = true; o.Version = "0.6" }, `* ID NIL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.opt)
			tc := ts.dial(t)
			tc.greet()
			tc.send("a ID NIL\r\n")
			tc.expect(tt.want, "a OK ID completed")
		})
	}
}

func TestParseIDParams(t *testing.T) {
	tests := []struct {
		in     string
		want   []idField
		isNil  bool
		errStr string
	}{
		{in: "NIL\r\n", isNil: true},
		{in: "nil\r\n", isNil: true},
		{in: "()\r\n"},
		{in: `("name" "sodr" "version" NIL)` + "\r\n", want: []idField{{Field: "name", Value: "sodr"}, {Field: "version", Nil: true}}},
		{in: "(\"os\" {3}\r\nabc)\r\n", want: []idField{{Field: "os", Value: "abc"}}},
		{in: "NILX\r\n", errStr: "imap: BAD ID expects a list or NIL"},
		{in: "(name \"x\")\r\n", errStr: `imapwire: expected string, found "n"`},
		{in: "(\"name\")\r\n", errStr: `imapwire: expected SP, found ")"`},
		{in: "(\"a\" \"b\"\r\n", errStr: `imapwire: expected SP or ")", found end of line`},
	}
	for _, tt := range tests {
		dec := imapwire.NewDecoder(bufio.NewReader(strings.NewReader(tt.in)), imapwire.DecoderOptions{})
		got, isNil, err := parseIDParams(dec)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tt.errStr || isNil != tt.isNil || len(got) != len(tt.want) {
			t.Errorf("parseIDParams(%q) = %v, %v, %q; want %v, %v, %q", tt.in, got, isNil, gotErr, tt.want, tt.isNil, tt.errStr)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseIDParams(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestIDLogString(t *testing.T) {
	many := make([]idField, 40)
	for i := range many {
		many[i] = idField{Field: "f", Value: "v"}
	}
	tests := []struct {
		name string
		in   []idField
		want string
	}{
		{"plain", []idField{{Field: "name", Value: "Thunderbird"}, {Field: "version", Nil: true}}, "name=Thunderbird, version=NIL"},
		{"control", []idField{{Field: "name", Value: "a\r\nfake log line"}}, "name=a??fake log line"},
		{"long", []idField{{Field: strings.Repeat("f", 40), Value: strings.Repeat("v", 200)}},
			strings.Repeat("f", 30) + "...=" + strings.Repeat("v", 128) + "..."},
		{"many", many, strings.Repeat("f=v, ", 29) + "f=v ..."},
	}
	for _, tt := range tests {
		if got := idLogString(tt.in); got != tt.want {
			t.Errorf("idLogString(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	huge := []idField{}
	for range 30 {
		huge = append(huge, idField{Field: strings.Repeat("f", 30), Value: strings.Repeat("v", 1024)})
	}
	if got := idLogString(huge); len(got) > idMaxLogOctets+200 {
		t.Errorf("idLogString of 30 maximal pairs is %d octets, want about %d", len(got), idMaxLogOctets)
	}
}

// FuzzIDParams checks the ID parser never panics, and that what it
// accepts is bounded by its input.
func FuzzIDParams(f *testing.F) {
	for _, s := range []string{"NIL", "()", `("name" "sodr" "version" "19.34")`, `("a" NIL)`, "(\"os\" {3}\r\nabc)", `("a")`, "(((", `("a" "b" "c" "d"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		dec := imapwire.NewDecoder(bufio.NewReader(strings.NewReader(in+"\r\n")), imapwire.DecoderOptions{MaxLineLength: 1024})
		fields, isNil, err := parseIDParams(dec)
		if err != nil {
			return
		}
		if isNil && fields != nil {
			t.Fatalf("parseIDParams(%q): NIL with fields %v", in, fields)
		}
		total := 0
		for _, f := range fields {
			total += len(f.Field) + len(f.Value)
		}
		if total > len(in) {
			t.Fatalf("parseIDParams(%q): %d octets of fields from %d of input", in, total, len(in))
		}
		idLogString(fields)
	})
}
