package imapwire

import (
	"strings"
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

// decodeMailboxName turns a mailbox name as sent into UTF-8, or gives the
// reason it is invalid.
//
// A name of printable ASCII is modified UTF-7 (RFC 3501 §5.1.3), strictly
// decoded. A name holding 8-bit octets must be Net-Unicode (RFC 6855 §3,
// checkUTF8Name) and is accepted in IMAP4rev1 mode too (RFC 6855 §3: a
// server offering UTF8=ACCEPT SHOULD accept UTF-8 names), with the
// modified UTF-7 runs of its ASCII parts decoded: go-imap v2's client,
// once it sees IMAP4rev2 advertised, sends raw UTF-8 with "&" escaped as
// "&-", ENABLE or not.
//
// In UTF-8 mode (utf8Mode) a name whose ASCII parts are not valid
// modified UTF-7 is taken as it is: for a strict IMAP4rev2 client "&" is
// an ordinary character (RFC 9051 §5.1), so "A&B" is the name "A&B". The
// one ambiguity left, a rev2 client naming a mailbox "&AOQ-" literally,
// is the price of interoperating with both kinds of client.
func decodeMailboxName(s string, utf8Mode bool) (string, string) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		if reason := checkUTF8Name(s); reason != "" {
			return "", reason
		}
	}
	var b strings.Builder
	for rest := s; rest != ""; {
		// The next ASCII run, then the next non-ASCII run.
		i := 0
		for i < len(rest) && rest[i] < 0x80 {
			i++
		}
		if i > 0 {
			v, reason := decodeMUTF7(rest[:i])
			if reason != "" {
				if utf8Mode {
					return s, ""
				}
				return "", reason
			}
			b.WriteString(v)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && rest[j] >= 0x80 {
			j++
		}
		b.WriteString(rest[:j])
		rest = rest[j:]
	}
	return b.String(), ""
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
