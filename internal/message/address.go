package message

import "strings"

// Address is one element of an ENVELOPE address list (RFC 3501 §7.4.2).
//
// Group syntax (RFC 5322 §3.4) is flattened as RFC 3501 does: a group
// starts with an Address whose GroupStart is set and Mailbox holds the group
// name (Host empty), is followed by its members, and ends with an Address
// whose GroupEnd is set and every other field empty.
type Address struct {
	// Name is the display name, unquoted, raw (encoded words kept); a
	// comment stands in for it when there is no display name.
	Name string
	// Route is the obsolete source route ("@a,@b"), without the colon.
	Route string
	// Mailbox is the local part (unquoted), or the group name.
	Mailbox string
	// Host is the domain; "" when the address has none (UW shows
	// ".MISSING-HOST-NAME." there).
	Host                 string
	GroupStart, GroupEnd bool
}

// ParseAddressList parses an RFC 5322 §3.4 address-list leniently:
// quoted display names, comments, groups (including empty ones such as
// "undisclosed-recipients:;"), route addresses, addresses without a host,
// 8-bit and encoded-word names kept raw. Unparsable bits are skipped; it
// never fails.
func ParseAddressList(s string) []Address {
	ap := addrParser{lx: lexer{s: s}}
	return ap.list()
}

type addrParser struct {
	lx      lexer
	out     []Address
	inGroup bool
}

// aTok is one token of an address: an atom (dots included), a quoted
// string, or a special character.
type aTok struct {
	text    string
	special byte // 0 for atoms and quoted strings
	quoted  bool
}

// next returns the next token and the text of the comments before it.
func (ap *addrParser) next() (t aTok, comment string, ok bool) {
	lx := &ap.lx
	for lx.i < len(lx.s) {
		switch c := lx.s[lx.i]; c {
		case ' ', '\t', '\r', '\n':
			lx.i++
		case '(':
			if cm := strings.TrimSpace(lx.comment()); cm != "" && comment == "" {
				comment = cm
			}
		case '"':
			return aTok{text: lx.quoted(), quoted: true}, comment, true
		case ')':
			lx.i++ // a stray close of a comment never opened
		case '<', '>', '@', ',', ';', ':', '[', ']', '\\':
			if c == '[' {
				// A domain literal stays one atom.
				start := lx.i
				for lx.i < len(lx.s) && lx.s[lx.i] != ']' {
					lx.i++
				}
				if lx.i < len(lx.s) {
					lx.i++
				}
				return aTok{text: lx.s[start:lx.i]}, comment, true
			}
			lx.i++
			return aTok{text: lx.s[lx.i-1 : lx.i], special: c}, comment, true
		default:
			start := lx.i
			for lx.i < len(lx.s) && !strings.ContainsRune(" \t\r\n()\"<>@,;:[]\\", rune(lx.s[lx.i])) {
				lx.i++
			}
			return aTok{text: lx.s[start:lx.i]}, comment, true
		}
	}
	return aTok{}, comment, false
}

func (ap *addrParser) list() []Address {
	for {
		var phrase []aTok
		var comment string
		var t aTok
		var ok bool
		for {
			var cm string
			t, cm, ok = ap.next()
			if comment == "" {
				comment = cm
			}
			if !ok || t.special != 0 && t.special != '.' {
				break
			}
			phrase = append(phrase, t)
		}
		switch {
		case !ok || t.special == ',':
			if len(phrase) > 0 {
				ap.bare(phrase, comment)
			}
			if !ok {
				if ap.inGroup {
					ap.out = append(ap.out, Address{GroupEnd: true})
				}
				return ap.out
			}
		case t.special == ';':
			if len(phrase) > 0 {
				ap.bare(phrase, comment)
			}
			if ap.inGroup {
				ap.out = append(ap.out, Address{GroupEnd: true})
				ap.inGroup = false
			}
		case t.special == ':':
			if ap.inGroup {
				// No nested groups (RFC 5322 §3.4): treat as a separator.
				continue
			}
			ap.out = append(ap.out, Address{GroupStart: true, Mailbox: joinPhrase(phrase)})
			ap.inGroup = true
		case t.special == '<':
			ap.angle(joinPhrase(phrase), comment)
		case t.special == '@':
			ap.addrSpec(joinLocal(phrase), comment)
		default:
			// A stray '>' or similar: ignore it.
			if len(phrase) > 0 {
				ap.bare(phrase, comment)
			}
		}
	}
}

// bare records an address that has neither '@' nor '<': a local part only.
func (ap *addrParser) bare(phrase []aTok, comment string) {
	ap.add(Address{Name: comment, Mailbox: joinLocal(phrase)})
}

// add records a, unless it is empty: "<>" (a null return path) or "\"\""
// show nothing, and an all-empty entry would read as a group end.
func (ap *addrParser) add(a Address) {
	if a != (Address{}) {
		ap.out = append(ap.out, a)
	}
}

// addrSpec reads the domain after local "@", then trailing comments up to
// the next ',' or ';' (left for list to read).
func (ap *addrParser) addrSpec(local, comment string) {
	host, cm := ap.domain()
	if comment == "" {
		comment = cm
	}
	ap.add(Address{Name: comment, Mailbox: local, Host: host})
}

// domain reads a domain up to ',', ';', '>' or the end, returning it and
// any comment inside or after it. The terminator is not consumed except '>'.
func (ap *addrParser) domain() (string, string) {
	var parts []string
	var comment string
	for {
		save := ap.lx.i
		t, cm, ok := ap.next()
		if comment == "" {
			comment = cm
		}
		if !ok {
			break
		}
		if t.special == ',' || t.special == ';' || t.special == '<' || t.special == ':' {
			ap.lx.i = save
			break
		}
		if t.special == '>' {
			break
		}
		if t.special == '@' {
			continue
		}
		parts = append(parts, t.text)
	}
	return strings.Join(parts, ""), comment
}

// angle reads a route-addr after '<' (RFC 5322 §3.4, §4.4 obs-route).
func (ap *addrParser) angle(name, comment string) {
	a := Address{Name: name}
	var local []aTok
	// Route: "@a,@b:" before the addr-spec.
	save := ap.lx.i
	if t, _, ok := ap.next(); ok && t.special == '@' {
		var route strings.Builder
		route.WriteByte('@')
		for {
			t, _, ok := ap.next()
			if !ok || t.special == '>' {
				// No colon: not a route after all; give up on it.
				ap.finishAngle(a, comment)
				return
			}
			if t.special == ':' {
				break
			}
			route.WriteString(t.text)
		}
		a.Route = route.String()
	} else {
		ap.lx.i = save
	}
	for {
		t, _, ok := ap.next()
		if !ok || t.special == '>' {
			a.Mailbox = joinLocal(local)
			ap.finishAngle(a, comment)
			return
		}
		if t.special == '@' {
			a.Mailbox = joinLocal(local)
			a.Host, _ = ap.domain()
			ap.finishAngle(a, comment)
			return
		}
		if t.special == ',' || t.special == ';' {
			// Unclosed '<': end the address here.
			ap.lx.i--
			a.Mailbox = joinLocal(local)
			ap.finishAngle(a, comment)
			return
		}
		local = append(local, t)
	}
}

// finishAngle records a and skips trailing comments and junk up to the
// next ',' or ';'. A comment stands in for a missing display name.
func (ap *addrParser) finishAngle(a Address, comment string) {
	for {
		save := ap.lx.i
		t, cm, ok := ap.next()
		if comment == "" {
			comment = cm
		}
		if !ok || t.special == ',' || t.special == ';' {
			ap.lx.i = save
			break
		}
	}
	if a.Name == "" {
		a.Name = comment
	}
	ap.add(a)
}

// joinPhrase joins display-name words with single spaces.
func joinPhrase(ts []aTok) string {
	switch len(ts) {
	case 0:
		return ""
	case 1:
		return ts[0].text
	}
	var sb strings.Builder
	for i, t := range ts {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(t.text)
	}
	return sb.String()
}

// joinLocal joins local-part words without spaces (obs-local-part allows
// "a . b").
func joinLocal(ts []aTok) string {
	if len(ts) == 1 {
		return ts[0].text
	}
	var sb strings.Builder
	for _, t := range ts {
		sb.WriteString(t.text)
	}
	return sb.String()
}
