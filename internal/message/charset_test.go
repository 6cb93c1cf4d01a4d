package message

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"=?UTF-8?Q?Caf=C3=A9_menu?= for Friday", "Café menu for Friday"},
		{"=?UTF-8?Q?Bj=C3=B6rn_Bob?=", "Björn Bob"},
		{"=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"},
		{"=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"},
		{"=?ISO-8859-1?Q?a?=  \t =?ISO-8859-1?Q?b?= c", "ab c"},
		{"=?ISO-8859-1?Q?a_?= b", "a  b"},
		{"=?utf-8?b?SGVsbG8gV29ybGQ=?=", "Hello World"},
		{"=?utf-8?b?SGVsbG8gV29ybGQ?=", "Hello World"},
		// A UTF-8 character split between two words.
		{"=?UTF-8?B?w6k=?==?UTF-8?B?4oKs?=", "é€"},
		{"=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "é"},
		{"=?KOI8-R?B?8NLJ18XU?=", "Привет"},
		{"=?windows-1252?Q?=80?=", "€"},
		{"=?utf-8*en?Q?lang?=", "lang"},
		{"=?ISO-2022-JP?B?GyRCJEYkOSRIGyhC?=", "てすと"},
		// Left as is: unknown charset, bad encoding, malformed.
		{"=?x-unknown?Q?abc?=", "=?x-unknown?Q?abc?="},
		{"=?utf-8?X?abc?=", "=?utf-8?X?abc?="},
		{"=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="},
		{"=?utf-8?Q?no end", "=?utf-8?Q?no end"},
		{"=?utf-8?Q?has space?=", "=?utf-8?Q?has space?="},
		{"a =?utf-8?Q?x?= b", "a x b"},
		{"8bit Jürgen", "8bit Jürgen"},
	}
	for _, tt := range tests {
		if got := DecodeHeader(tt.in); got != tt.want {
			t.Errorf("DecodeHeader(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCharsetDecoder(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"US-ASCII", "abc", "abc", true},
		{"us-ascii", "abc", "abc", true},
		{"UTF-8", "é", "é", true},
		{"utf8", "é", "é", true},
		{"ISO-8859-1", "\xe9", "é", true},
		{"latin1", "\xe9", "é", true},
		{"ISO-8859-15", "\xa4", "€", true},
		{"windows-1251", "\xcf", "П", true},
		{"Shift_JIS", "\x82\xa0", "あ", true},
		{"GB2312", "\xc4\xe3", "你", true},
		{"no-such-charset", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		dec, ok := CharsetDecoder(tt.name)
		if ok != tt.ok {
			t.Errorf("CharsetDecoder(%q) ok = %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		got, err := dec.String(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CharsetDecoder(%q).String(%q) = %q, %v, want %q", tt.name, tt.in, got, err, tt.want)
		}
	}
}

func FuzzDecodeHeader(f *testing.F) {
	for _, s := range []string{
		"=?UTF-8?Q?Caf=C3=A9_menu?= for Friday", "=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=",
		"=?utf-8?b?SGVsbG8=?=", "=?=?=?", "=??Q??=", "=?utf-8?Q?=?=", "=?utf-8?B?w6k=?==?UTF-8?B?4oKs?=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := DecodeHeader(s)
		if !strings.Contains(s, "=?") && got != s {
			t.Fatalf("DecodeHeader(%q) = %q, want input unchanged", s, got)
		}
		if utf8.ValidString(s) && !strings.Contains(s, "=?") && !utf8.ValidString(got) {
			t.Fatalf("DecodeHeader(%q) = %q, not UTF-8", s, got)
		}
	})
}
