package imapwire

// HasPrefix reports whether the next octets of the line are s, without
// consuming them. It is for grammar that needs more than one octet of
// lookahead, such as an optional SP "(" modifier list after a FETCH item
// inside the item list (RFC 8970 §3 "PREVIEW" SP "(" "LAZY" ")"), where the
// SP alone would be the list separator. Callers ask for a short s: a line
// always ends with CRLF, so two octets are always there to peek.
func (d *Decoder) HasPrefix(s string) bool {
	if d.err != nil {
		return false
	}
	p, _ := d.r.Peek(len(s))
	return string(p) == s
}
