package imapwire

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// mutf7Alphabet is base64 with "," instead of "/" (RFC 3501 §5.1.3).
const mutf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

var mutf7Encoding = base64.NewEncoding(mutf7Alphabet).WithPadding(base64.NoPadding)

// mutf7Value maps an octet to its base64 value, or -1.
var mutf7Value = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(mutf7Alphabet); i++ {
		v[mutf7Alphabet[i]] = int8(i)
	}
	return v
}()

// printable reports whether r stands for itself in modified UTF-7.
func printable(r rune) bool { return r >= 0x20 && r <= 0x7e }

// EncodeMUTF7 encodes a UTF-8 mailbox name as modified UTF-7 (RFC 3501
// §5.1.3): printable ASCII as itself ("&" as "&-"), every other run of
// characters as one "&" modified-BASE64(UTF-16BE) "-" run. Invalid UTF-8
// is encoded as U+FFFD.
func EncodeMUTF7(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] == '&' || !printable(rune(s[i])) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	var units []uint16
	flush := func() {
		if len(units) == 0 {
			return
		}
		raw := make([]byte, 2*len(units))
		for i, u := range units {
			raw[2*i], raw[2*i+1] = byte(u>>8), byte(u)
		}
		b.WriteByte('&')
		b.WriteString(mutf7Encoding.EncodeToString(raw))
		b.WriteByte('-')
		units = units[:0]
	}
	for _, r := range s {
		if !printable(r) {
			units = utf16.AppendRune(units, r)
			continue
		}
		flush()
		if r == '&' {
			b.WriteString("&-")
		} else {
			b.WriteByte(byte(r))
		}
	}
	flush()
	return b.String()
}

// DecodeMUTF7 decodes modified UTF-7 (RFC 3501 §5.1.3); it rejects invalid
// encodings (non-canonical, bad base64, unterminated, encoded ASCII), so
// that EncodeMUTF7 gives back exactly the input of a successful decode.
func DecodeMUTF7(s string) (string, error) {
	v, reason := decodeMUTF7(s)
	if reason != "" {
		return "", fmt.Errorf("imapwire: invalid modified UTF-7 %q: %s", s, reason)
	}
	return v, nil
}

// decodeMUTF7 is DecodeMUTF7 with the failure as a reason ("" on success).
func decodeMUTF7(s string) (string, string) {
	if strings.IndexByte(s, '&') < 0 {
		for i := 0; i < len(s); i++ {
			if !printable(rune(s[i])) {
				return "", fmt.Sprintf("octet 0x%02X must be encoded", s[i])
			}
		}
		return s, ""
	}
	var b strings.Builder
	afterRun := false // the previous octets closed a base64 run
	for i := 0; i < len(s); {
		c := s[i]
		if !printable(rune(c)) {
			return "", fmt.Sprintf("octet 0x%02X must be encoded", c)
		}
		if c != '&' {
			b.WriteByte(c)
			afterRun = false
			i++
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", "unterminated \"&\" run"
		}
		run := s[i+1 : i+1+j]
		i += j + 2
		if run == "" {
			b.WriteByte('&')
			afterRun = false
			continue
		}
		if afterRun {
			return "", "adjacent encoded runs must be merged"
		}
		if reason := decodeRun(&b, run); reason != "" {
			return "", reason
		}
		afterRun = true
	}
	return b.String(), ""
}

// decodeRun decodes the modified BASE64 between "&" and "-", insisting on
// the one canonical form: no superfluous character, zero padding bits, an
// even number of octets, paired surrogates, no printable ASCII.
func decodeRun(b *strings.Builder, run string) string {
	var units []uint16
	var acc uint32
	bits := 0
	for i := 0; i < len(run); i++ {
		v := mutf7Value[run[i]]
		if v < 0 {
			return fmt.Sprintf("invalid base64 character %s", describe(run[i]))
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	switch {
	case bits >= 8:
		return "odd number of UTF-16 octets"
	case bits == 6:
		return "superfluous base64 character"
	case acc != 0:
		return "non-zero padding bits"
	}
	for i := 0; i < len(units); i++ {
		r := rune(units[i])
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00 && i+1 < len(units):
			r = utf16.DecodeRune(r, rune(units[i+1]))
			if r == utf8.RuneError {
				return "unpaired surrogate"
			}
			i++
		case utf16.IsSurrogate(r):
			return "unpaired surrogate"
		case printable(r):
			return fmt.Sprintf("printable ASCII %q must not be encoded", r)
		}
		b.WriteRune(r)
	}
	return ""
}
