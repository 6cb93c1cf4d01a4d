package sortthread

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Collate returns the i;unicode-casemap key of s (RFC 5051 §2): every
// character replaced by its Unicode simple titlecase mapping, then the
// string put in Normalization Form KD. Two strings collate in the order of
// their keys compared octet by octet, and are equal when the keys are.
// RFC 5256 §7 requires this collation (I18NLEVEL=1) for SORT and THREAD.
//
// Titlecase, not case folding: it is what RFC 5051 specifies, and it keeps
// the results identical to other I18NLEVEL=1 servers (unicode.SimpleFold
// and golang.org/x/text/cases.Fold differ for a few characters such as
// U+01C5). Bytes that are not valid UTF-8 are kept as they are, so
// malformed headers still sort deterministically.
func Collate(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	ascii := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			sb.WriteByte(c)
			i++
			continue
		}
		ascii = false
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sb.WriteByte(s[i])
		} else {
			sb.WriteRune(unicode.ToTitle(r))
		}
		i += size
	}
	if ascii {
		// NFKD leaves ASCII alone; skip the normalizer on the common path.
		return sb.String()
	}
	return norm.NFKD.String(sb.String())
}
