package sortthread

import "strings"

// MessageIDs returns the msg-ids in a raw Message-ID, In-Reply-To or
// References header value (RFC 5322 §3.6.4), normalized as RFC 5256
// REFERENCES requires so that quoting makes no difference:
// "<" id-left "@" id-right ">" with comments and folding white space
// removed and quoted strings unquoted, so that
// <"01KF8JCEOCBS0045PS"@xxx.yyy.com> and <01KF8JCEOCBS0045PS@xxx.yyy.com>
// are the same id. Case is kept (msg-id comparison is case-sensitive).
//
// It is lenient the way mail in the wild needs (the obs-id forms of
// RFC 5322 §4.5.4): phrases, comments and quoted strings between ids are
// skipped, and anything between "<" and ">" with a non-empty left and
// right side of an "@" is an id. Text that is not a valid id is skipped;
// it never fails.
func MessageIDs(s string) []string {
	var ids []string
	p := idParser{s: s}
	for {
		id, ok := p.next()
		if !ok {
			return ids
		}
		ids = append(ids, id)
	}
}

// firstMessageID returns the first valid msg-id of s, or "".
func firstMessageID(s string) string {
	p := idParser{s: s}
	id, _ := p.next()
	return id
}

type idParser struct {
	s string
	i int
}

// next returns the next valid id, skipping invalid ones.
func (p *idParser) next() (string, bool) {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '(':
			p.comment()
		case '"':
			p.quoted(nil)
		case '<':
			p.i++
			if id, ok := p.angle(); ok {
				return id, true
			}
		default:
			p.i++
		}
	}
	return "", false
}

// angle reads an id after "<" up to ">". It returns false, leaving p at a
// following "<" if there is one, when the id is malformed.
func (p *idParser) angle() (string, bool) {
	// Fast path: an id with nothing to remove is a substring of the
	// header, "<" and ">" included; no copy.
	start := p.i
	for j := start; j < len(p.s); j++ {
		c := p.s[j]
		if c == '>' {
			id := p.s[start:j]
			at := strings.LastIndexByte(id, '@')
			p.i = j + 1
			if at <= 0 || at == len(id)-1 {
				return "", false
			}
			return p.s[start-1 : j+1], true
		}
		if c == '<' || c == '(' || c == '"' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
	}
	var sb strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '>':
			p.i++
			id := sb.String()
			at := strings.LastIndexByte(id, '@')
			if at <= 0 || at == len(id)-1 {
				return "", false
			}
			return "<" + id + ">", true
		case '<':
			// An unclosed "<": start again at this one.
			return "", false
		case '(':
			p.comment()
		case '"':
			p.quoted(&sb)
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			sb.WriteByte(c)
			p.i++
		}
	}
	return "", false
}

// comment skips a (possibly nested) comment with quoted-pairs.
func (p *idParser) comment() {
	depth := 0
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			p.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				p.i++
				return
			}
		}
		p.i++
	}
}

// quoted reads a quoted string, writing its unquoted content to sb when
// sb is not nil.
func (p *idParser) quoted(sb *strings.Builder) {
	p.i++ // opening quote
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return
		case '\\':
			if p.i+1 < len(p.s) {
				p.i++
				c = p.s[p.i]
			}
		case '\r', '\n':
			// Folding inside a quoted string is not part of the id.
			p.i++
			continue
		}
		if sb != nil {
			sb.WriteByte(c)
		}
		p.i++
	}
}
