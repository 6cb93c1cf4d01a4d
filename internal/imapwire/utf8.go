package imapwire

import (
	"unicode/utf8"
)

// UTF-8 mode (RFC 6855 §3, RFC 9051 §5.1 and §9): once a client enabled
// UTF8=ACCEPT or IMAP4rev2, quoted strings carry UTF-8 both ways and
// mailbox names travel as UTF-8 instead of modified UTF-7.

// SetUTF8 switches the decoder's UTF-8 mode: quoted strings must then be
// valid UTF-8 (RFC 6855 §3 uQUOTED-CHAR) and mailbox names are read as
// UTF-8, not decoded from modified UTF-7.
func (d *Decoder) SetUTF8(on bool) { d.utf8 = on }

// UTF8 reports whether the decoder is in UTF-8 mode.
func (d *Decoder) UTF8() bool { return d.utf8 }

// SetUTF8 switches the encoder's UTF-8 mode: String quotes valid UTF-8
// instead of sending a literal, and Mailbox writes names as UTF-8 (RFC
// 6855 §3: the server MUST NOT send UTF-8 in quoted strings before the
// client enabled it).
func (e *Encoder) SetUTF8(on bool) { e.utf8 = on }

// utf8Quotable reports whether s can go in a UTF-8 quoted string: valid
// UTF-8, no CR, LF or NUL, and short.
func utf8Quotable(s string) bool {
	if len(s) > maxQuotedLength || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

// checkUTF8Name checks a mailbox name sent in UTF-8 mode against RFC 6855
// §3: valid UTF-8 without control characters (U+0000-U+001F,
// U+007F-U+009F) or the line and paragraph separators (U+2028, U+2029).
// It returns "" or the reason for refusing the name.
func checkUTF8Name(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return "control character in name"
		case r == 0x2028, r == 0x2029:
			return "line or paragraph separator in name"
		}
	}
	return ""
}
