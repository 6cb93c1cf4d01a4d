package loadgen

import (
	"bytes"
	"errors"
	"fmt"
)

// maxDepth bounds list nesting in responses (a BODYSTRUCTURE of a deeply
// nested message is the deepest real case).
const maxDepth = 64

// untagged is an untagged response (RFC 3501 §7) split into its leading
// number, if any ("* 3 EXISTS"), its keyword in upper case and the rest.
type untagged struct {
	Num    uint32
	HasNum bool
	Kind   string
	Rest   []byte // after the keyword and one space
}

// parseUntagged splits the part of an untagged response after "* ".
func parseUntagged(b []byte) (untagged, error) {
	var u untagged
	first, rest, _ := bytes.Cut(b, []byte(" "))
	if n, ok := parseNumber(first); ok {
		u.Num, u.HasNum = n, true
		first, rest, _ = bytes.Cut(rest, []byte(" "))
	}
	if len(first) == 0 {
		return u, fmt.Errorf("loadgen: untagged response without a keyword: %.60q", b)
	}
	u.Kind = string(bytes.ToUpper(first))
	u.Rest = rest
	return u, nil
}

// parseNumber parses an RFC 3501 nz-number or 0 (a uint32).
func parseNumber(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// parseNumbers parses the space-separated numbers of a SEARCH or SORT
// response (RFC 3501 §7.2.5, RFC 5256 §4). Anything else is an error: a
// server that answers with garbage does not pass.
func parseNumbers(b []byte) ([]uint32, error) {
	var out []uint32
	for f := range bytes.FieldsSeq(b) {
		n, ok := parseNumber(f)
		if !ok || n == 0 {
			// RFC 7162 §3.1.5 lets SEARCH end with "(MODSEQ n)" when
			// CONDSTORE is on; the tool never enables it.
			return nil, fmt.Errorf("loadgen: %.40q is not a message number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// valueKind says what parser.value found.
type valueKind int

const (
	vAtom valueKind = iota
	vNil
	vString // quoted or literal
	vList
)

// value is one parsed item: an atom's text, a string's content (quoted
// strings still escaped), or a list's bytes between its parentheses.
type value struct {
	Kind valueKind
	Data []byte
}

// parser walks the items of a response (RFC 3501 §4, §9 "astring",
// "nstring", parenthesized lists), literals included.
type parser struct {
	b []byte
	i int
}

var errSyntax = errors.New("loadgen: response syntax")

func (p *parser) done() bool { return p.i >= len(p.b) }

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// atom reads up to a space, a parenthesis or the end; a '[' opens a
// section ("BODY[HEADER.FIELDS (DATE)]") read to its matching ']'.
func (p *parser) atom() []byte {
	start, depth := p.i, 0
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0 && (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n'):
			return p.b[start:p.i]
		}
		p.i++
	}
	return p.b[start:p.i]
}

// value reads one item at p.i.
func (p *parser) value(depth int) (value, error) {
	if p.done() {
		return value{}, errSyntax
	}
	switch c := p.b[p.i]; c {
	case '(':
		if depth >= maxDepth {
			return value{}, fmt.Errorf("%w: lists nested deeper than %d", errSyntax, maxDepth)
		}
		p.i++
		start := p.i
		for !p.consume(')') {
			if p.done() {
				return value{}, fmt.Errorf("%w: unclosed list", errSyntax)
			}
			if p.consume(' ') {
				continue
			}
			if _, err := p.value(depth + 1); err != nil {
				return value{}, err
			}
		}
		return value{Kind: vList, Data: p.b[start : p.i-1]}, nil
	case '"':
		p.i++
		start := p.i
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '\\':
				p.i += 2
				continue
			case '"':
				p.i++
				return value{Kind: vString, Data: p.b[start : p.i-1]}, nil
			}
			p.i++
		}
		return value{}, fmt.Errorf("%w: unterminated quoted string", errSyntax)
	case '{', '~':
		p.consume('~') // RFC 3516 literal8
		if !p.consume('{') {
			return value{}, errSyntax
		}
		end := bytes.Index(p.b[p.i:], []byte("}\r\n"))
		if end < 0 {
			return value{}, fmt.Errorf("%w: bad literal", errSyntax)
		}
		n, ok := parseNumber(bytes.TrimSuffix(p.b[p.i:p.i+end], []byte("+")))
		p.i += end + 3
		if !ok || int(n) > len(p.b)-p.i {
			return value{}, fmt.Errorf("%w: literal length", errSyntax)
		}
		data := p.b[p.i : p.i+int(n)]
		p.i += int(n)
		return value{Kind: vString, Data: data}, nil
	case ')', ' ':
		return value{}, fmt.Errorf("%w: unexpected %q", errSyntax, c)
	}
	a := p.atom()
	if len(a) == 0 {
		return value{}, fmt.Errorf("%w: empty item", errSyntax)
	}
	if bytes.EqualFold(a, []byte("NIL")) {
		return value{Kind: vNil}, nil
	}
	return value{Kind: vAtom, Data: a}, nil
}

// fetchData is what the checks need from one FETCH response (RFC 3501
// §7.4.2).
type fetchData struct {
	Seq       uint32
	UID       uint32
	Flags     []byte // the FLAGS list's content; nil if absent
	HasFlags  bool
	Envelope  bool // an ENVELOPE list of 10 items was present
	Structure bool // a BODYSTRUCTURE list was present
	Body      bool // a BODY[] string was present
	BodyLen   int
	Size      uint32 // RFC822.SIZE
}

// parseFetch parses the rest of "* seq FETCH (...)" (after "FETCH ").
func parseFetch(seq uint32, b []byte) (fetchData, error) {
	f := fetchData{Seq: seq}
	p := &parser{b: b}
	if !p.consume('(') {
		return f, fmt.Errorf("%w: FETCH without '('", errSyntax)
	}
	for !p.consume(')') {
		if p.done() {
			return f, fmt.Errorf("%w: unclosed FETCH", errSyntax)
		}
		p.consume(' ')
		name := bytes.ToUpper(p.atom())
		if len(name) == 0 || !p.consume(' ') {
			return f, fmt.Errorf("%w: FETCH item %.30q", errSyntax, name)
		}
		v, err := p.value(0)
		if err != nil {
			return f, err
		}
		switch {
		case string(name) == "UID":
			n, ok := parseNumber(v.Data)
			if v.Kind != vAtom || !ok || n == 0 {
				return f, fmt.Errorf("%w: UID %.20q", errSyntax, v.Data)
			}
			f.UID = n
		case string(name) == "RFC822.SIZE":
			n, ok := parseNumber(v.Data)
			if v.Kind != vAtom || !ok {
				return f, fmt.Errorf("%w: RFC822.SIZE %.20q", errSyntax, v.Data)
			}
			f.Size = n
		case string(name) == "FLAGS":
			if v.Kind != vList {
				return f, fmt.Errorf("%w: FLAGS is not a list", errSyntax)
			}
			f.Flags, f.HasFlags = v.Data, true
		case string(name) == "ENVELOPE":
			if v.Kind != vList || countItems(v.Data) != 10 {
				return f, fmt.Errorf("%w: ENVELOPE is not a list of 10 items", errSyntax)
			}
			f.Envelope = true
		case string(name) == "BODYSTRUCTURE":
			if v.Kind != vList || len(v.Data) == 0 {
				return f, fmt.Errorf("%w: BODYSTRUCTURE is not a list", errSyntax)
			}
			f.Structure = true
		case string(name) == "BODY[]" || string(name) == "BINARY[]":
			if v.Kind != vString {
				return f, fmt.Errorf("%w: %s is not a string", errSyntax, name)
			}
			f.Body, f.BodyLen = true, len(v.Data)
		}
	}
	return f, nil
}

// countItems counts the items of a list's content (what value returned
// for a vList), or -1 if it does not parse.
func countItems(b []byte) int {
	p := &parser{b: b}
	n := 0
	for !p.done() {
		if p.consume(' ') {
			continue
		}
		if _, err := p.value(1); err != nil {
			return -1
		}
		n++
	}
	return n
}

// hasFlag reports whether a FLAGS list's content holds flag (flags are
// case-insensitive, RFC 3501 §2.3.2).
func hasFlag(list []byte, flag string) bool {
	for f := range bytes.FieldsSeq(list) {
		if bytes.EqualFold(f, []byte(flag)) {
			return true
		}
	}
	return false
}

// parseList parses the rest of "* LIST (attrs) delim name" (RFC 3501
// §7.2.2) and returns the mailbox name as it is sent back in a command
// (an atom, or a quoted string with its escapes) and whether it is
// selectable. A name sent as a literal is returned empty: the tool skips it.
func parseList(b []byte) (name string, selectable bool, err error) {
	p := &parser{b: b}
	attrs, err := p.value(0)
	if err != nil || attrs.Kind != vList || !p.consume(' ') {
		return "", false, fmt.Errorf("%w: LIST attributes", errSyntax)
	}
	if _, err := p.value(0); err != nil || !p.consume(' ') { // delimiter
		return "", false, fmt.Errorf("%w: LIST delimiter", errSyntax)
	}
	start := p.i
	v, err := p.value(0)
	if err != nil || (v.Kind != vAtom && v.Kind != vString) {
		return "", false, fmt.Errorf("%w: LIST name", errSyntax)
	}
	selectable = !hasFlag(attrs.Data, `\Noselect`) && !hasFlag(attrs.Data, `\NonExistent`)
	switch {
	case v.Kind == vAtom:
		name = string(v.Data)
	case b[start] == '"':
		name = `"` + string(v.Data) + `"`
	}
	return name, selectable, nil
}
