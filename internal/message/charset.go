package message

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// CharsetDecoder returns a decoder from the named charset to UTF-8 (for
// SEARCH CHARSET, RFC 3501 §6.4.4, MIME charset parameters and encoded
// words). Names are matched as IANA and WHATWG names and aliases,
// case-insensitively; US-ASCII and UTF-8 are always known. ok is false for
// an unknown charset, or one golang.org/x/text names but cannot decode.
func CharsetDecoder(name string) (*encoding.Decoder, bool) {
	if isUTF8(name) {
		// US-ASCII text is UTF-8; 8-bit bytes in it are replaced, not kept,
		// so that comparisons see valid UTF-8.
		return unicode.UTF8.NewDecoder(), true
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil, false
	}
	if e, err := ianaindex.MIME.Encoding(name); err == nil && e != nil {
		return e.NewDecoder(), true
	}
	if e, err := htmlindex.Get(name); err == nil && e != nil {
		return e.NewDecoder(), true
	}
	return nil, false
}

// isUTF8 reports whether CharsetDecoder decodes the named charset as UTF-8
// (UTF-8 itself, or US-ASCII).
func isUTF8(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utf-8", "utf8", "us-ascii", "ascii", "us_ascii", "ansi_x3.4-1968":
		return true
	}
	return false
}

// DecodeHeader decodes the RFC 2047 encoded words in an unfolded header
// value to UTF-8, for SEARCH (RFC 3501 §6.4.4). Whitespace between two
// adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words in
// the same charset are decoded together so a character split between them
// survives. Encoded words that are malformed or name an unknown charset are
// left as they are.
func DecodeHeader(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	var (
		pending   []byte // decoded bytes of adjacent words in one charset
		pendingCS string
		space     = -1 // start of the whitespace after the last encoded word
		afterWord bool
	)
	flush := func() {
		if pending != nil {
			v, _ := convertCharset(pendingCS, pending)
			sb.WriteString(v)
			pending, pendingCS = nil, ""
		}
	}
	for i := 0; i < len(s); {
		if s[i] == '=' && i+1 < len(s) && s[i+1] == '?' {
			if n, cs, text, ok := encodedWord(s[i:]); ok {
				if !afterWord || !strings.EqualFold(cs, pendingCS) {
					flush()
				}
				if pending == nil {
					pending, pendingCS = []byte{}, cs
				}
				pending = append(pending, text...)
				afterWord, space = true, -1
				i += n
				continue
			}
		}
		if afterWord && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			if space < 0 {
				space = i
			}
			i++
			continue
		}
		flush()
		if space >= 0 {
			sb.WriteString(s[space:i])
		}
		space, afterWord = -1, false
		_, size := utf8.DecodeRuneInString(s[i:])
		sb.WriteString(s[i : i+size])
		i += size
	}
	flush()
	if space >= 0 {
		sb.WriteString(s[space:])
	}
	return sb.String()
}

// maxEncodedWord is the longest encoded word DecodeHeader decodes.
const maxEncodedWord = 4096

// encodedWord parses "=?charset?enc?text?=" at the start of s (RFC 2047 §2)
// and returns its length, charset (without an RFC 2231 language suffix) and
// decoded bytes.
func encodedWord(s string) (n int, charset string, text []byte, ok bool) {
	// RFC 2047 §2 limits a word to 75 characters; allow much longer ones,
	// but bound the search so that many "=?" cannot make decoding quadratic.
	if len(s) > maxEncodedWord {
		s = s[:maxEncodedWord]
	}
	i := strings.IndexByte(s[2:], '?')
	if i <= 0 {
		return
	}
	charset = s[2 : 2+i]
	rest := s[2+i+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return
	}
	enc := rest[0]
	rest = rest[2:]
	j := strings.Index(rest, "?=")
	if j < 0 {
		return
	}
	payload := rest[:j]
	if strings.ContainsAny(payload, " \t\r\n") || strings.ContainsAny(charset, " \t\r\n") {
		return
	}
	n = len(s) - len(rest) + j + 2
	if k := strings.IndexByte(charset, '*'); k >= 0 {
		charset = charset[:k]
	}
	if _, known := CharsetDecoder(charset); !known {
		return 0, "", nil, false
	}
	switch enc {
	case 'B', 'b':
		p := strings.TrimRight(payload, "=")
		b, err := base64.RawStdEncoding.DecodeString(p)
		if err != nil {
			return 0, "", nil, false
		}
		text = b
	case 'Q', 'q':
		text = decodeQ(payload)
	default:
		return 0, "", nil, false
	}
	return n, charset, text, true
}

// decodeQ decodes the RFC 2047 §4.2 "Q" encoding; a bad escape is kept.
func decodeQ(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			b = append(b, ' ')
		case c == '=' && i+2 < len(s):
			h, ok1 := unhex(s[i+1])
			l, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, h<<4|l)
				i += 2
			} else {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return b
}
