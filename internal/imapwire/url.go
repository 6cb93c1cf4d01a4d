package imapwire

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/imap"
)

// ErrBadURL is the error of ParseMessageURL for a URL it cannot use.
var ErrBadURL = errors.New("imapwire: bad IMAP URL")

// ParseMessageURL parses an IMAP URL naming a message or a part of one:
// the absolute form "imap://" iserver followed by the path, or the path
// alone, "/" enc-mailbox [";UIDVALIDITY=" n] "/;UID=" n ["/;SECTION="
// section] ["/;PARTIAL=" offset ["." length]] (RFC 5092 §3, §9; the form
// CATENATE uses, RFC 4469 §3). user is the absolute URL's user, "" for a
// path or when it names none; the caller checks it against the session.
// Parameter names are case-insensitive. The mailbox is percent-decoded,
// then decoded from modified UTF-7 (RFC 5092 §9 enc-mailbox), and taken as
// UTF-8 when it is not valid modified UTF-7. A section is part numbers
// with HEADER, TEXT or MIME; HEADER.FIELDS is not supported.
func ParseMessageURL(s string) (u *imap.MessageURL, user string, err error) {
	path := s
	if rest, ok := cutPrefixFold(s, "imap://"); ok {
		server, p, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, "", ErrBadURL
		}
		if at := strings.LastIndexByte(server, '@'); at >= 0 {
			userinfo := server[:at]
			userinfo, _, _ = strings.Cut(userinfo, ";") // ";AUTH=..."
			if user, err = percentDecode(userinfo); err != nil {
				return nil, "", ErrBadURL
			}
		}
		path = "/" + p
	}
	if !strings.HasPrefix(path, "/") {
		return nil, "", ErrBadURL
	}
	segs := strings.Split(path[1:], "/")
	if len(segs) < 2 || len(segs) > 4 {
		return nil, "", ErrBadURL
	}
	u = &imap.MessageURL{}
	box, params, _ := strings.Cut(segs[0], ";")
	if box == "" {
		return nil, "", ErrBadURL
	}
	if params != "" {
		v, ok := cutPrefixFold(params, "UIDVALIDITY=")
		if !ok || !nzNumber(v, &u.UIDValidity) {
			return nil, "", ErrBadURL
		}
	}
	if u.Mailbox, err = urlMailbox(box); err != nil {
		return nil, "", err
	}
	v, ok := cutPrefixFold(segs[1], ";UID=")
	if !ok || !nzNumber(v, &u.UID) {
		return nil, "", ErrBadURL
	}
	for _, seg := range segs[2:] {
		switch {
		case hasPrefixFold(seg, ";SECTION=") && u.Section == nil:
			spec, err := percentDecode(seg[len(";SECTION="):])
			if err != nil {
				return nil, "", ErrBadURL
			}
			if u.Section, err = urlSection(spec); err != nil {
				return nil, "", err
			}
		case hasPrefixFold(seg, ";PARTIAL="):
			if u.Section == nil {
				u.Section = &imap.FetchItemBodySection{Peek: true}
			}
			if u.Section.Partial != nil {
				return nil, "", ErrBadURL
			}
			off, n, dot := strings.Cut(seg[len(";PARTIAL="):], ".")
			p := &imap.SectionPartial{Size: math.MaxInt64} // to the end
			o, err := strconv.ParseUint(off, 10, 32)
			if err != nil {
				return nil, "", ErrBadURL
			}
			p.Offset = int64(o)
			if dot {
				var size uint32
				if !nzNumber(n, &size) {
					return nil, "", ErrBadURL
				}
				p.Size = int64(size)
			}
			u.Section.Partial = p
		default:
			return nil, "", ErrBadURL
		}
	}
	return u, user, nil
}

// urlMailbox decodes enc-mailbox.
func urlMailbox(enc string) (string, error) {
	raw, err := percentDecode(enc)
	if err != nil || raw == "" || strings.ContainsAny(raw, "\x00\r\n") {
		return "", ErrBadURL
	}
	if name, err := DecodeMUTF7(raw); err == nil {
		return name, nil
	}
	if !utf8.ValidString(raw) {
		return "", ErrBadURL
	}
	return raw, nil
}

// urlSection parses the section of a URL: part numbers, then HEADER, TEXT
// or MIME (MIME only after a part number).
func urlSection(spec string) (*imap.FetchItemBodySection, error) {
	sec := &imap.FetchItemBodySection{Peek: true}
	spec = strings.ToUpper(spec)
	for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
		num, rest, dot := strings.Cut(spec, ".")
		var n uint32
		if !nzNumber(num, &n) || n > 1<<30 || dot && rest == "" {
			return nil, ErrBadURL
		}
		sec.Part = append(sec.Part, int(n))
		spec = rest
	}
	switch spec {
	case "":
	case "HEADER":
		sec.Specifier = imap.PartSpecifierHeader
	case "TEXT":
		sec.Specifier = imap.PartSpecifierText
	case "MIME":
		if len(sec.Part) == 0 {
			return nil, ErrBadURL
		}
		sec.Specifier = imap.PartSpecifierMIME
	default:
		return nil, ErrBadURL
	}
	return sec, nil
}

// nzNumber parses nz-number (RFC 3501 §9) into n.
func nzNumber(s string, n *uint32) bool {
	if s == "" || s[0] == '0' {
		return false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return false
	}
	*n = uint32(v)
	return true
}

// percentDecode undoes %XX escapes (RFC 3986 §2.1).
func percentDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", ErrBadURL
		}
		h, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", ErrBadURL
		}
		b.WriteByte(byte(h))
		i += 2
	}
	return b.String(), nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if !hasPrefixFold(s, prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
