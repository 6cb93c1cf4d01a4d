package imapwire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncoderRoundTrip writes an arbitrary string with each string-writing
// Encoder method (RFC 3501 §9 astring, string, nstring, mailbox; RFC 6855
// §3 in UTF-8 mode) and reads it back with the matching Decoder
// production: the Decoder must accept everything the Encoder writes and
// give back the same string. A NUL is the one octet no string carries
// (RFC 3501 §4.3): the Encoder writes it in a literal anyway, the Decoder
// refuses it. Mailbox names round-trip when they are UTF-8 the Decoder
// takes as a name (§5.1.3 mUTF-7 carries Unicode only; RFC 6855 §3
// Net-Unicode), except for "&" in UTF-8 mode, the ambiguity
// decodeMailboxName documents; INBOX in any case comes back as INBOX.
func FuzzEncoderRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a", "NIL", "nil", "a b", `"\`, "x\r\ny", "café", strings.Repeat("z", 1500), "a]b", "{5}", "~{3}",
		"inbox", "&", "&-", "Entw&APw-rfe", "a\x00b", "\xff\xfe", "(", "%*", "\x7f", "📬"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, utf8Mode bool) {
		if strings.IndexByte(s, 0) >= 0 {
			return
		}
		out, err := encode(func(e *Encoder) {
			e.SetUTF8(utf8Mode)
			e.AString(s).SP().String(s).SP().NString(s).CRLF()
		})
		if err != nil {
			t.Fatalf("encode %q: %v", s, err)
		}
		d := newTestDecoder(out, DecoderOptions{UTF8: utf8Mode})
		var a, b, n, m string
		var isNil bool
		if !d.ExpectAString(&a) || !d.ExpectSP() || !d.ExpectString(&b) || !d.ExpectSP() ||
			!d.ExpectNString(&n, &isNil) || !d.ExpectCRLF() {
			t.Fatalf("decode %q (utf8 %v): %v", out, utf8Mode, d.Err())
		}
		if a != s || b != s || n != s || isNil != (s == "") {
			t.Fatalf("round trip of %q (utf8 %v) via %q = %q, %q, %q (nil %v)", s, utf8Mode, out, a, b, n, isNil)
		}
		if !utf8.ValidString(s) || checkUTF8Name(s) != "" || utf8Mode && strings.Contains(s, "&") {
			return
		}
		out, err = encode(func(e *Encoder) { e.SetUTF8(utf8Mode); e.Mailbox(s).CRLF() })
		if err != nil {
			t.Fatalf("encode mailbox %q: %v", s, err)
		}
		d = newTestDecoder(out, DecoderOptions{UTF8: utf8Mode})
		if !d.ExpectMailbox(&m) || !d.ExpectCRLF() {
			t.Fatalf("decode mailbox %q (utf8 %v): %v", out, utf8Mode, d.Err())
		}
		if strings.EqualFold(s, "INBOX") {
			s = "INBOX"
		}
		if m != s && !strings.EqualFold(m, "INBOX") {
			t.Fatalf("mailbox round trip of %q (utf8 %v) via %q = %q", s, utf8Mode, out, m)
		}
	})
}
