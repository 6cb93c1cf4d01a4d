package imapserver

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
)

// FetchWriter (session.go): FETCH responses (RFC 3501 §7.4.2).

var (
	_ FetchWriter        = (*writer)(nil)
	_ FetchMessageWriter = (*fetchMessageWriter)(nil)
)

// Message starts "* seq FETCH (".
func (w *writer) Message(seq uint32) FetchMessageWriter {
	w.enc.Atom("*").SP().Number(seq).SP().Atom("FETCH").SP().Special('(')
	w.fetch.n = 0
	return &w.fetch
}

// fetchMessageWriter writes the items of one FETCH response; the encoder's
// sticky error is its error.
type fetchMessageWriter struct {
	w *writer
	n int // items written so far
}

// item writes the separator before the next item and its name.
func (m *fetchMessageWriter) item(name string) {
	if m.n > 0 {
		m.w.enc.SP()
	}
	m.n++
	m.w.enc.Atom(name).SP()
}

func (m *fetchMessageWriter) WriteUID(uid uint32) {
	m.item("UID")
	m.w.enc.Number(uid)
}

func (m *fetchMessageWriter) WriteFlags(flags []imap.Flag) {
	m.item("FLAGS")
	m.w.flagList(flags)
}

func (m *fetchMessageWriter) WriteInternalDate(t time.Time) {
	m.item("INTERNALDATE")
	m.w.enc.DateTime(t)
}

func (m *fetchMessageWriter) WriteRFC822Size(size int64) {
	m.item("RFC822.SIZE")
	m.w.enc.Number64(size)
}

func (m *fetchMessageWriter) WriteEnvelope(env *imap.Envelope) {
	m.item("ENVELOPE")
	m.w.envelope(env)
}

func (m *fetchMessageWriter) WriteBodyStructure(bs *imap.BodyStructure, extended bool) {
	if extended {
		m.item("BODYSTRUCTURE")
	} else {
		m.item("BODY")
	}
	m.w.bodyStructure(bs, extended)
}

func (m *fetchMessageWriter) WriteBodySection(section *imap.FetchItemBodySection, size int64) io.WriteCloser {
	m.item(sectionResponseName(section))
	return m.w.enc.Literal(size)
}

func (m *fetchMessageWriter) WriteModSeq(modSeq uint64) {
	m.item("MODSEQ")
	m.w.enc.Special('(').Atom(strconv.FormatUint(modSeq, 10)).Special(')')
}

func (m *fetchMessageWriter) Close() error {
	m.w.enc.Special(')')
	return m.w.end()
}

// sectionResponseName is the msg-att name of a body section in a response
// (RFC 3501 §7.4.2): the client's RFC822 form, or BODY[section]<origin>
// without ".PEEK" and without the partial's length.
func sectionResponseName(s *imap.FetchItemBodySection) string {
	if s.Legacy != "" {
		return s.Legacy
	}
	var b strings.Builder
	b.WriteString("BODY[")
	b.WriteString(sectionSpec(s))
	b.WriteByte(']')
	if s.Partial != nil {
		b.WriteByte('<')
		b.WriteString(strconv.FormatInt(s.Partial.Offset, 10))
		b.WriteByte('>')
	}
	return b.String()
}

// sectionSpec formats section-spec (RFC 3501 §9): part numbers, then the
// text specifier with its header list.
func sectionSpec(s *imap.FetchItemBodySection) string {
	var b strings.Builder
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	if s.Specifier == imap.PartSpecifierNone {
		return b.String()
	}
	if len(s.Part) > 0 {
		b.WriteByte('.')
	}
	b.WriteString(string(s.Specifier))
	fields, not := s.HeaderFields, false
	if len(s.HeaderFieldsNot) > 0 {
		fields, not = s.HeaderFieldsNot, true
	}
	if len(fields) > 0 {
		if not {
			b.WriteString(".FIELDS.NOT (")
		} else {
			b.WriteString(".FIELDS (")
		}
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(astringText(f))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// astringText formats a header field name for the echoed section name: an
// atom when it is one (the usual case), else a quoted string. The parser
// refuses names with CR, LF, NUL, SP or ":"; 8-bit octets, which a quoted
// string cannot carry in IMAP4rev1, are dropped here rather than breaking
// the response line.
func astringText(s string) string {
	atom := s != ""
	for i := 0; i < len(s); i++ {
		if !isAtomChar(s[i]) {
			atom = false
			break
		}
	}
	if atom {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\r' || c == '\n' || c == 0 || c >= 0x80:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isAtomChar reports whether c is an ATOM-CHAR (RFC 3501 §9).
func isAtomChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// envelope writes an ENVELOPE (RFC 3501 §7.4.2); "" is NIL.
func (w *writer) envelope(env *imap.Envelope) {
	enc := w.enc
	if env == nil {
		enc.Atom("NIL")
		return
	}
	enc.Special('(')
	enc.NString(env.Date).SP()
	enc.NString(env.Subject).SP()
	w.addressList(env.From)
	enc.SP()
	w.addressList(env.Sender)
	enc.SP()
	w.addressList(env.ReplyTo)
	enc.SP()
	w.addressList(env.To)
	enc.SP()
	w.addressList(env.Cc)
	enc.SP()
	w.addressList(env.Bcc)
	enc.SP()
	enc.NString(env.InReplyTo).SP()
	enc.NString(env.MessageID)
	enc.Special(')')
}

// addressList writes "(" 1*address ")" or NIL; addresses are not separated
// (RFC 3501 §9 env-from).
func (w *writer) addressList(addrs []imap.Address) {
	enc := w.enc
	if len(addrs) == 0 {
		enc.Atom("NIL")
		return
	}
	enc.Special('(')
	for _, a := range addrs {
		enc.Special('(')
		enc.NString(a.Name).SP().NString(a.Route).SP().NString(a.Mailbox).SP().NString(a.Host)
		enc.Special(')')
	}
	enc.Special(')')
}

// bodyStructure writes BODY (extended false) or BODYSTRUCTURE (RFC 3501
// §7.4.2, §9 body).
func (w *writer) bodyStructure(bs *imap.BodyStructure, extended bool) {
	enc := w.enc
	enc.Special('(')
	if bs.IsMultipart() {
		for _, child := range bs.Children {
			w.bodyStructure(child, extended)
		}
		enc.SP().String(bs.Subtype)
		if extended {
			enc.SP()
			w.params(bs.Params)
			w.bodyExtension(bs)
		}
		enc.Special(')')
		return
	}
	enc.String(bs.Type).SP().String(bs.Subtype).SP()
	w.params(bs.Params)
	enc.SP().NString(bs.ID).SP().NString(bs.Description).SP()
	if bs.Encoding == "" {
		enc.String("7BIT")
	} else {
		enc.String(bs.Encoding)
	}
	enc.SP().Number64(bs.Size)
	switch {
	case strings.EqualFold(bs.Type, "MESSAGE") && strings.EqualFold(bs.Subtype, "RFC822") && bs.Body != nil:
		enc.SP()
		w.envelope(bs.Envelope)
		enc.SP()
		w.bodyStructure(bs.Body, extended)
		enc.SP().Number64(bs.Lines)
	case strings.EqualFold(bs.Type, "TEXT"):
		enc.SP().Number64(bs.Lines)
	}
	if extended {
		enc.SP().NString(bs.MD5)
		w.bodyExtension(bs)
	}
	enc.Special(')')
}

// bodyExtension writes SP body-fld-dsp SP body-fld-lang SP body-fld-loc,
// the extension fields common to both body kinds.
func (w *writer) bodyExtension(bs *imap.BodyStructure) {
	enc := w.enc
	enc.SP()
	if bs.Disposition == "" {
		enc.Atom("NIL")
	} else {
		enc.Special('(').String(bs.Disposition).SP()
		w.params(bs.DispositionParams)
		enc.Special(')')
	}
	enc.SP()
	switch len(bs.Language) {
	case 0:
		enc.Atom("NIL")
	case 1:
		enc.String(bs.Language[0])
	default:
		enc.List(len(bs.Language), func(i int) { enc.String(bs.Language[i]) })
	}
	enc.SP().NString(bs.Location)
}

// params writes body-fld-param: "(" name SP value ... ")" or NIL.
func (w *writer) params(p []string) {
	enc := w.enc
	if len(p) < 2 {
		enc.Atom("NIL")
		return
	}
	enc.List(len(p)/2, func(i int) { enc.String(p[2*i]).SP().String(p[2*i+1]) })
}
