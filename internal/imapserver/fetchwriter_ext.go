package imapserver

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
)

// FETCH response items of the message-level extensions: BINARY (RFC 3516),
// PREVIEW (RFC 8970), OBJECTID (RFC 8474).

// WriteBinarySection names the partial's origin, BINARY[1]<2>, as RFC
// 3516 §4.3 and RFC 9051 §7.5.2 describe (RFC 9051 erratum 8217 fixes the
// ABNF, which had left it out).
func (m *fetchMessageWriter) WriteBinarySection(section *imap.FetchItemBinarySection, size int64, lit8 bool) io.WriteCloser {
	name := "BINARY[" + binaryPart(section) + "]"
	if section.Partial != nil {
		name += "<" + strconv.FormatInt(section.Partial.Offset, 10) + ">"
	}
	m.item(name)
	if lit8 {
		return m.w.enc.Literal8(size)
	}
	return m.w.enc.Literal(size)
}

func (m *fetchMessageWriter) WriteBinarySize(section *imap.FetchItemBinarySection, size int64) {
	m.item("BINARY.SIZE[" + binaryPart(section) + "]")
	m.w.enc.Number64(size)
}

func (m *fetchMessageWriter) WritePreview(text string, isNil bool) {
	m.item("PREVIEW")
	if isNil {
		m.w.enc.Atom("NIL")
		return
	}
	m.w.enc.String(text)
}

func (m *fetchMessageWriter) WriteEmailID(id string) {
	m.item("EMAILID")
	m.w.enc.Special('(').Atom(id).Special(')')
}

func (m *fetchMessageWriter) WriteThreadID(id string) {
	m.item("THREADID")
	if id == "" {
		m.w.enc.Atom("NIL")
		return
	}
	m.w.enc.Special('(').Atom(id).Special(')')
}

func (m *fetchMessageWriter) WriteSaveDate(t time.Time) {
	m.item("SAVEDATE")
	if t.IsZero() {
		m.w.enc.Atom("NIL")
		return
	}
	m.w.enc.DateTime(t)
}

// binaryPart formats section-part (RFC 3516 §7): "1.2.3", "" for the
// whole message.
func binaryPart(s *imap.FetchItemBinarySection) string {
	var b strings.Builder
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}
