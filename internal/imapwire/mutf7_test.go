package imapwire

import (
	"testing"
	"unicode/utf8"
)

func TestMUTF7(t *testing.T) {
	// Pairs that convert both ways.
	tests := []struct{ utf8, mutf7 string }{
		{"", ""},
		{"INBOX", "INBOX"},
		{"&", "&-"},
		{"a&b&&", "a&-b&-&-"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"日本語", "&ZeVnLIqe-"},
		{"ü&", "&APw-&-"},
		{"&ü", "&-&APw-"},
		{"\x00\x1f\x7f", "&AAAAHwB,-"},
		{"tab\there", "tab&AAk-here"},
		{"😀", "&2D3eAA-"},
		{"a😀b€", "a&2D3eAA-b&IKw-"},
		{"\ufffd", "&,,0-"},
	}
	for _, tt := range tests {
		if got := EncodeMUTF7(tt.utf8); got != tt.mutf7 {
			t.Errorf("EncodeMUTF7(%q) = %q, want %q", tt.utf8, got, tt.mutf7)
		}
		got, err := DecodeMUTF7(tt.mutf7)
		if got != tt.utf8 || err != nil {
			t.Errorf("DecodeMUTF7(%q) = %q, %v; want %q, nil", tt.mutf7, got, err, tt.utf8)
		}
	}
	if got := EncodeMUTF7("a\xffb"); got != "a&,,0-b" {
		t.Errorf("EncodeMUTF7(invalid UTF-8) = %q, want %q", got, "a&,,0-b")
	}
}

func TestDecodeMUTF7Invalid(t *testing.T) {
	tests := []struct{ in, err string }{
		{"&", `imapwire: invalid modified UTF-7 "&": unterminated "&" run`},
		{"a&APw", `imapwire: invalid modified UTF-7 "a&APw": unterminated "&" run`},
		{"&AP/-", `imapwire: invalid modified UTF-7 "&AP/-": invalid base64 character "/"`},
		{"&AP=-", `imapwire: invalid modified UTF-7 "&AP=-": invalid base64 character "="`},
		{"&A P-", `imapwire: invalid modified UTF-7 "&A P-": invalid base64 character SP`},
		{"&AGE-", `imapwire: invalid modified UTF-7 "&AGE-": printable ASCII 'a' must not be encoded`},
		{"&ACY-", `imapwire: invalid modified UTF-7 "&ACY-": printable ASCII '&' must not be encoded`},
		{"&APx-", `imapwire: invalid modified UTF-7 "&APx-": non-zero padding bits`},
		{"&APw=-", `imapwire: invalid modified UTF-7 "&APw=-": invalid base64 character "="`},
		{"&APwA-", `imapwire: invalid modified UTF-7 "&APwA-": odd number of UTF-16 octets`},
		{"&AP-", `imapwire: invalid modified UTF-7 "&AP-": odd number of UTF-16 octets`},
		{"&A-", `imapwire: invalid modified UTF-7 "&A-": superfluous base64 character`},
		{"&2D0-", `imapwire: invalid modified UTF-7 "&2D0-": unpaired surrogate`},
		{"&3gA-", `imapwire: invalid modified UTF-7 "&3gA-": unpaired surrogate`},
		{"&2D3YPQ-", `imapwire: invalid modified UTF-7 "&2D3YPQ-": unpaired surrogate`},
		{"&2D0AYQ-", `imapwire: invalid modified UTF-7 "&2D0AYQ-": unpaired surrogate`},
		{"&APw-&APw-", `imapwire: invalid modified UTF-7 "&APw-&APw-": adjacent encoded runs must be merged`},
		{"&AGE-&AGE-", `imapwire: invalid modified UTF-7 "&AGE-&AGE-": printable ASCII 'a' must not be encoded`},
		{"caf\xc3\xa9", `imapwire: invalid modified UTF-7 "café": octet 0xC3 must be encoded`},
		{"a\tb", `imapwire: invalid modified UTF-7 "a\tb": octet 0x09 must be encoded`},
		{"&APw-\x7f", `imapwire: invalid modified UTF-7 "&APw-\x7f": octet 0x7F must be encoded`},
	}
	for _, tt := range tests {
		got, err := DecodeMUTF7(tt.in)
		if err == nil || err.Error() != tt.err {
			t.Errorf("DecodeMUTF7(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
		}
	}
}

func FuzzMUTF7(f *testing.F) {
	for _, s := range []string{"", "INBOX", "&-", "Entw&APw-rfe", "&ZeVnLIqe-", "&2D3eAA-", "&APw-&-", "&AGE-", "&APx-", "日本語", "a\xffb", "😀&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// A successful decode is canonical: encoding gives the input back.
		if dec, err := DecodeMUTF7(s); err == nil {
			if enc := EncodeMUTF7(dec); enc != s {
				t.Errorf("EncodeMUTF7(DecodeMUTF7(%q) = %q) = %q, want the input", s, dec, enc)
			}
		}
		// Any valid UTF-8 survives encoding and decoding.
		if utf8.ValidString(s) {
			enc := EncodeMUTF7(s)
			dec, err := DecodeMUTF7(enc)
			if err != nil || dec != s {
				t.Errorf("DecodeMUTF7(EncodeMUTF7(%q) = %q) = %q, %v; want the input", s, enc, dec, err)
			}
		}
	})
}
