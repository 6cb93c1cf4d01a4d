package migrate

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mutf7 is the base64 alphabet of modified UTF-7 (RFC 3501 §5.1.3): ","
// in place of "/", no padding.
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// decodeMUTF7 decodes a mailbox name in modified UTF-7 (RFC 3501 §5.1.3),
// as Dovecot stores folder names by default; ok is false for a name that
// is not valid modified UTF-7.
func decodeMUTF7(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			if c < 0x20 || c > 0x7e {
				return "", false
			}
			b.WriteByte(c)
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", false
		}
		enc := s[i+1 : i+1+j]
		i += j + 2
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := mutf7.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", false
		}
		units := make([]uint16, len(raw)/2)
		for k := range units {
			units[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError || (r >= 0x20 && r <= 0x7e) {
				return "", false // a bad surrogate, or ASCII that should not be encoded
			}
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

// folderComponent returns the UTF-8 of one Maildir++ name component:
// modified UTF-7 when it decodes, else the bytes themselves when they are
// UTF-8 (Dovecot's mailbox_list_utf8).
func folderComponent(c string) (string, bool) {
	if d, ok := decodeMUTF7(c); ok {
		return d, true
	}
	return c, utf8.ValidString(c)
}
