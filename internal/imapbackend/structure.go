package imapbackend

import (
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/message"
)

// missingHost stands for an address without a domain, as UW imapd writes
// it; an empty host would read as the start of a group (RFC 3501 §7.4.2).
const missingHost = ".MISSING-HOST-NAME."

// envelope converts a parsed envelope to its IMAP form (RFC 3501 §7.4.2).
func envelope(e *message.Envelope) *imap.Envelope {
	if e == nil {
		return &imap.Envelope{}
	}
	return &imap.Envelope{
		Date:      e.Date,
		Subject:   e.Subject,
		From:      addresses(e.From),
		Sender:    addresses(e.Sender),
		ReplyTo:   addresses(e.ReplyTo),
		To:        addresses(e.To),
		Cc:        addresses(e.Cc),
		Bcc:       addresses(e.Bcc),
		InReplyTo: e.InReplyTo,
		MessageID: e.MessageID,
	}
}

func addresses(as []message.Address) []imap.Address {
	if len(as) == 0 {
		return nil
	}
	out := make([]imap.Address, len(as))
	for i, a := range as {
		switch {
		case a.GroupStart:
			out[i] = imap.Address{Mailbox: a.Mailbox}
		case a.GroupEnd:
			out[i] = imap.Address{}
		default:
			out[i] = imap.Address{Name: a.Name, Route: a.Route, Mailbox: a.Mailbox, Host: a.Host}
			if a.Host == "" {
				out[i].Host = missingHost
			}
		}
	}
	return out
}

// bodyStructure converts a MIME part to BODYSTRUCTURE (RFC 3501 §7.4.2),
// with types, subtypes, parameter names and dispositions in upper case as
// UW imapd writes them, parameter values as given, and sizes counted with
// CRLF line endings. The extension fields are always filled; the writer
// leaves them out for BODY.
func bodyStructure(p *message.Part) *imap.BodyStructure {
	bs := &imap.BodyStructure{
		Subtype:           strings.ToUpper(p.Subtype),
		Params:            params(p.Params),
		Disposition:       strings.ToUpper(p.Disposition),
		DispositionParams: params(p.DispositionParams),
		Language:          p.Language,
		Location:          p.Location,
	}
	if p.IsMultipart() {
		bs.Type = "MULTIPART"
		bs.Children = make([]*imap.BodyStructure, len(p.Children))
		for i, c := range p.Children {
			bs.Children[i] = bodyStructure(c)
		}
		return bs
	}
	if p.Type == "multipart" {
		// A multipart whose delimiter never appears has no parts, but
		// RFC 3501's body-type-mpart needs at least one: show one empty
		// text/plain part, as Dovecot does, so clients can parse it.
		bs.Type = "MULTIPART"
		if bs.Subtype == "" {
			bs.Subtype = "MIXED"
		}
		bs.Children = []*imap.BodyStructure{{Type: "TEXT", Subtype: "PLAIN", Params: []string{"CHARSET", "US-ASCII"}, Encoding: "7BIT"}}
		return bs
	}
	bs.Type = strings.ToUpper(p.Type)
	bs.ID = p.ID
	bs.Description = p.Description
	bs.Encoding = p.TransferEncoding()
	bs.Size = p.Size() + p.BareLFBody
	bs.MD5 = p.MD5
	if p.Type == "text" && p.Param("charset") == "" {
		// RFC 2045 §5.2: the default charset of text is US-ASCII.
		bs.Params = append(bs.Params, "CHARSET", "US-ASCII")
	}
	switch {
	case p.IsMessage():
		child := p.Children[0]
		bs.Envelope = envelope(child.Envelope)
		bs.Body = bodyStructure(child)
		bs.Lines = p.BodyLines
	case p.Type == "message" && p.Subtype == "rfc822":
		// Not parsed (nested too deep): still the shape the grammar
		// requires for MESSAGE/RFC822.
		bs.Envelope = &imap.Envelope{}
		bs.Body = &imap.BodyStructure{Type: "TEXT", Subtype: "PLAIN", Params: []string{"CHARSET", "US-ASCII"}, Encoding: "7BIT"}
		bs.Lines = p.BodyLines
	case p.Type == "text":
		bs.Lines = p.BodyLines
	}
	return bs
}

// params flattens MIME parameters to name, value pairs with upper-case
// names; nil for none (written as NIL).
//
// A value decoded from RFC 2231 form that is not plain ASCII is sent in
// RFC 2231 form again, as NAME* charset'language'percent-encoded, joined
// across continuations: RFC 3501 §4.3 wants 8-bit characters only where
// their charset is identified, which a bare parameter value cannot do, and
// RFC 9051 §7.5.2 names such a parameter with its "*". Dovecot sends the
// same shape. ASCII results are sent decoded under the plain name.
func params(ps []message.Param) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, 0, 2*len(ps))
	for _, p := range ps {
		name := strings.ToUpper(p.Name)
		if p.Charset != "" && !isPrintableASCII(p.Value) {
			out = append(out, name+"*", p.Charset+"'"+p.Language+"'"+percentEncode(p.Value))
			continue
		}
		out = append(out, name, p.Value)
	}
	return out
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// percentEncode writes s as an RFC 2231 §7 extended value: attribute-char
// octets as they are, every other octet as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("*'%()<>@,;:\\\"/[]?=", rune(c)) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}
