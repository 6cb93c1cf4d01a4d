package message

import "strings"

// Part is one node of a message's MIME tree (RFC 2045, RFC 2046). The
// top-level Part returned by Parse is the whole message.
//
// Offsets are byte positions in the message as stored. HeaderStart..BodyStart
// is the header block, including the empty line that ends it (when there is
// one); BodyStart..End is the body. For a part inside a multipart, End stops
// before the line ending that precedes the next delimiter line, because that
// line ending belongs to the delimiter (RFC 2046 §5.1.1).
type Part struct {
	HeaderStart, BodyStart, End int64

	// Header holds the parsed header fields. It is filled by Parse and is
	// zero after UnmarshalPart: read HeaderStart..BodyStart from the message
	// instead.
	Header Header

	// Type and Subtype are lowercased. Without a usable Content-Type they
	// are "text"/"plain" (with Params charset=us-ascii, RFC 2045 §5.2), or
	// "message"/"rfc822" directly inside a multipart/digest (RFC 2046 §5.1.5).
	Type, Subtype string
	// Params are the Content-Type parameters in their original order, names
	// lowercased, RFC 2231 continuations joined and charsets converted to
	// UTF-8 (see Param).
	Params []Param

	// ID, Description are the raw, unfolded Content-ID and
	// Content-Description values (RFC 2045 §7, §8); Description keeps its
	// encoded words. Encoding is the Content-Transfer-Encoding mechanism,
	// lowercased, "" when absent (see TransferEncoding).
	ID, Description, Encoding string

	// Disposition is the lowercased Content-Disposition type (RFC 2183),
	// "" when absent; DispositionParams are decoded like Params.
	Disposition       string
	DispositionParams []Param

	// Language is the Content-Language list (RFC 3282), Location the
	// Content-Location URI (RFC 2557) with folding whitespace removed and MD5
	// the Content-MD5 value (RFC 1864).
	Language []string
	Location string
	MD5      string

	// BodyLines is the number of LF characters in BodyStart..End: the line
	// count RFC 3501 §7.4.2 reports for text/* and message/rfc822 parts. A
	// last line without a line ending is not counted, as in UW and Dovecot.
	BodyLines int64

	// BareLFHeader and BareLFBody count the LFs not preceded by CR in the
	// header and the body. Adding them to the octet counts gives the sizes
	// of the part once converted to CRLF line endings.
	BareLFHeader, BareLFBody int64

	// Children are the body parts of a multipart, in order. A message/rfc822
	// part has exactly one child, the encapsulated message, whose Header is
	// that message's header and whose Envelope is set. Children is empty for
	// leaves, for a multipart without a boundary or without any delimiter
	// line, and for parts at MaxDepth.
	Children []*Part

	// Envelope is set for the top-level part and for the encapsulated
	// message child of every message/rfc822 part (RFC 3501 §7.4.2).
	Envelope *Envelope

	// HeaderSum is set by Parse for the top-level part only: the first 16
	// bytes of the SHA-256 of its header block as stored
	// (HeaderStart..BodyStart). It identifies the message's immutable
	// header without reading it again (IMAP EMAILID, RFC 8474 §5.1); 128
	// bits keep collisions out of reach for any one user's mail.
	HeaderSum [16]byte

	// Preview is a text summary of the message that an adapter computed
	// from its body (IMAP PREVIEW, RFC 8970 §3) and keeps in the encoding
	// so that the body is decoded once; HasPreview tells an empty preview
	// from one not computed yet. Parse never sets them: a preview costs a
	// decode that most messages never need.
	Preview    string
	HasPreview bool
}

// Param is one MIME parameter (RFC 2045 §5.1, RFC 2231).
//
// A parameter written in RFC 2231 extended form (name*=charset'lang'value,
// or continuations name*0*, name*1...) is decoded: Value holds the joined,
// percent-decoded value, converted to UTF-8 when its charset is known.
// Charset then says which charset Value is in ("utf-8" after a conversion,
// else the declared name, its bytes kept), and Language holds the language
// tag, so that a protocol that cannot carry 8-bit values (IMAP4rev1
// BODYSTRUCTURE, RFC 3501 §4.3) can encode the value again. Both are "" for
// a parameter given plainly.
type Param struct {
	Name, Value       string
	Charset, Language string
}

// Size is the body's length in octets as stored (RFC 3501 §7.4.2 body size).
func (p *Part) Size() int64 { return p.End - p.BodyStart }

// HeaderSize is the header block's length in octets, with its empty line.
func (p *Part) HeaderSize() int64 { return p.BodyStart - p.HeaderStart }

// IsMultipart reports whether p has body parts: a multipart that was split
// into children. A multipart without children should be shown as a leaf.
func (p *Part) IsMultipart() bool { return p.Type == "multipart" && len(p.Children) > 0 }

// IsMessage reports whether p is a message/rfc822 part with its encapsulated
// message parsed (RFC 3501 §7.4.2 MESSAGE/RFC822 body type).
func (p *Part) IsMessage() bool {
	return p.Type == "message" && p.Subtype == "rfc822" && len(p.Children) == 1
}

// Param returns the value of the Content-Type parameter name (matched
// case-insensitively), or "".
func (p *Part) Param(name string) string { return paramValue(p.Params, name) }

// TransferEncoding returns the Content-Transfer-Encoding for BODYSTRUCTURE:
// uppercased, "7BIT" when absent (RFC 2045 §6.1).
func (p *Part) TransferEncoding() string {
	if p.Encoding == "" {
		return "7BIT"
	}
	return strings.ToUpper(p.Encoding)
}

func paramValue(ps []Param, name string) string {
	for _, q := range ps {
		if strings.EqualFold(q.Name, name) {
			return q.Value
		}
	}
	return ""
}

// Section finds the part that an IMAP section part number designates
// (RFC 3501 §6.4.5). path holds the dot-separated numbers; an empty path is
// p itself (the whole message).
//
// Numbering rules, applied from p, which is taken as a top-level message:
//   - In a multipart, n selects the n-th child (from 1).
//   - In a message that is not a multipart, only 1 is valid: it is the
//     message itself (not for a multipart without parts: its part 1 is
//     the empty placeholder BODYSTRUCTURE shows, with no bytes), so BODY[1] is the body of a single-part message and
//     the returned Part's BodyStart..End is what to send.
//   - In a message/rfc822 part below the top, the numbers that follow
//     index the encapsulated message (Children[0]) by the two rules above:
//     if 2 is a message/rfc822 holding a single text part, 2.1 is that
//     encapsulated message (its body is the text); if it holds a
//     multipart, 2.1 is the multipart's first child.
//   - Any other number is invalid and Section returns false.
//
// For BODY[n.HEADER] and BODY[n.TEXT] of a message/rfc822 part the caller
// uses the encapsulated message, Children[0]; n.MIME is the returned part's
// own header (HeaderStart..BodyStart).
func (p *Part) Section(path []int) (*Part, bool) {
	cur := p
	top := true // cur is a message: a non-multipart has one part, itself
	for _, n := range path {
		if n < 1 {
			return nil, false
		}
		if !top && cur.IsMessage() {
			cur, top = cur.Children[0], true
		}
		switch {
		case cur.IsMultipart():
			if n > len(cur.Children) {
				return nil, false
			}
			cur = cur.Children[n-1]
		case top && n == 1 && cur.Type != "multipart":
			// The body of a single-part message is part 1. A multipart
			// whose delimiter never appears is not single-part: IMAP shows
			// it with one empty part, which has no bytes to send.
		default:
			return nil, false
		}
		top = false
	}
	return cur, true
}

// Walk calls fn for p and every part below it, depth first in part order,
// with the part's section path (nil for p itself; the encapsulated message of
// a message/rfc822 part gets the path of that part). It stops early when fn
// returns false.
func (p *Part) Walk(fn func(path []int, q *Part) bool) {
	p.walk(nil, fn)
}

func (p *Part) walk(path []int, fn func([]int, *Part) bool) bool {
	if !fn(path, p) {
		return false
	}
	if p.IsMessage() {
		return p.Children[0].walk(path, fn)
	}
	for i, c := range p.Children {
		child := append(path[:len(path):len(path)], i+1)
		if !c.walk(child, fn) {
			return false
		}
	}
	return true
}
