package imapbackend

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
)

// The fetchMsg and discardMsg methods of the message-level extensions
// (BINARY, PREVIEW, OBJECTID).

func binaryName(s *imap.FetchItemBinarySection) string {
	parts := make([]string, len(s.Part))
	for i, p := range s.Part {
		parts[i] = strconv.Itoa(p)
	}
	return "[" + strings.Join(parts, ".") + "]"
}

func (m *fetchMsg) WriteBinarySection(sec *imap.FetchItemBinarySection, size int64, lit8 bool) io.WriteCloser {
	name := "BINARY" + binaryName(sec)
	if sec.Partial != nil {
		name += fmt.Sprintf("<%d>", sec.Partial.Offset)
	}
	tilde := ""
	if lit8 {
		tilde = "~"
	}
	m.item(name + fmt.Sprintf(" %s{%d}\r\n", tilde, size))
	return &literal{w: &m.rec.out, left: size}
}
func (m *fetchMsg) WriteBinarySize(sec *imap.FetchItemBinarySection, size int64) {
	m.item(fmt.Sprintf("BINARY.SIZE%s %d", binaryName(sec), size))
}
func (m *fetchMsg) WritePreview(text string, isNil bool) {
	if isNil {
		m.item("PREVIEW NIL")
		return
	}
	m.item(fmt.Sprintf("PREVIEW %q", text))
}
func (m *fetchMsg) WriteSaveDate(t time.Time) {
	if t.IsZero() {
		m.item("SAVEDATE NIL")
		return
	}
	m.item(`SAVEDATE "` + t.Format("02-Jan-2006 15:04:05 -0700") + `"`)
}
func (discardMsg) WriteSaveDate(time.Time)  {}
func (m *fetchMsg) WriteEmailID(id string)  { m.item("EMAILID (" + id + ")") }
func (m *fetchMsg) WriteThreadID(id string) { m.item("THREADID (" + id + ")") }

func (discardMsg) WriteBinarySection(*imap.FetchItemBinarySection, int64, bool) io.WriteCloser {
	return nopWriteCloser{io.Discard}
}
func (discardMsg) WriteBinarySize(*imap.FetchItemBinarySection, int64) {}
func (discardMsg) WritePreview(string, bool)                           {}
func (discardMsg) WriteEmailID(string)                                 {}
func (discardMsg) WriteThreadID(string)                                {}
