package imapbackend

import (
	"io"
	"strings"
	"unicode"

	"github.com/postern/postern/internal/message"
)

const (
	// maxPreview is the longest preview in characters (RFC 8970 §3:
	// "MUST NOT output preview text longer than 256 preview characters").
	maxPreview = 256
	// previewScan bounds the decoded text read for a preview: HTML spends
	// much of it on markup.
	previewScan = 16 << 10
)

// preview computes the PREVIEW of a message (RFC 8970 §3): the start of its
// first text/plain part, else of its first text/html part with the markup
// removed, decoded and converted to UTF-8, whitespace runs collapsed to one
// space, at most 256 characters. Attachments are not previewed. A message
// without such a part has the empty preview.
func preview(r io.ReaderAt, root *message.Part) (string, error) {
	var plain, html *message.Part
	root.Walk(func(_ []int, q *message.Part) bool {
		if q.Type != "text" || len(q.Children) > 0 || q.Disposition == "attachment" {
			return true
		}
		switch {
		case q.Subtype == "plain" && plain == nil:
			plain = q
		case q.Subtype == "html" && html == nil:
			html = q
		}
		return plain == nil
	})
	p := plain
	if p == nil {
		p = html
	}
	if p == nil {
		return "", nil
	}
	var text []byte
	err := message.PartText(r, p, func(b []byte) bool {
		text = append(text, b[:min(len(b), previewScan-len(text))]...)
		return len(text) < previewScan
	})
	if err != nil {
		return "", err
	}
	s := strings.ToValidUTF8(string(text), "\uFFFD")
	if p == html {
		s = stripTags(s)
	}
	return collapse(s, maxPreview), nil
}

// collapse turns every run of whitespace and control characters into one
// space, trims the ends and keeps at most max characters.
func collapse(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if n == max {
			break
		}
		if space {
			if n+1 == max {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// stripTags removes HTML markup well enough for a preview: tags, comments,
// and the content of head, style and script elements, with the common
// entities decoded.
func stripTags(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			if j := strings.Index(s, "-->"); j >= 0 {
				s = s[j+3:]
			} else {
				s = ""
			}
			continue
		}
		lower := strings.ToLower(s[:min(len(s), 8)])
		skipped := false
		for _, el := range []string{"head", "style", "script", "title"} {
			if strings.HasPrefix(lower, "<"+el) && (len(lower) == len(el)+1 || !isNameChar(lower[len(el)+1])) {
				if j := indexFold(s, "</"+el); j >= 0 {
					s = s[j+2+len(el):]
				} else {
					s = ""
				}
				skipped = true
				break
			}
		}
		inline := !skipped && inlineTag(s)
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[j+1:]
		} else {
			s = ""
		}
		if !skipped && !inline {
			// A block element separates words; an inline one (<b>,
			// <a>...) may sit inside a word.
			b.WriteByte(' ')
		}
	}
	return htmlEntities.Replace(b.String())
}

// inlineTags are the HTML elements that do not break the text flow.
var inlineTags = map[string]bool{"a": true, "abbr": true, "b": true, "big": true, "cite": true, "code": true,
	"em": true, "font": true, "i": true, "q": true, "s": true, "small": true, "span": true, "strong": true,
	"sub": true, "sup": true, "u": true}

// inlineTag reports whether the tag at the start of s ("<b>", "</span ...")
// is an inline element's.
func inlineTag(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "<"), "/")
	n := 0
	for n < len(s) && n < 8 && isNameChar(s[n]|0x20) {
		n++
	}
	return inlineTags[strings.ToLower(s[:n])]
}

// indexFold is strings.Index ignoring ASCII case, for a sub that starts
// with "<"; its cost is proportional to where sub is found, so that many
// elements in a row stay linear.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if i+len(sub) <= len(s) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

var htmlEntities = strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&apos;", "'")
