package imapbackend

import (
	"errors"
	"fmt"
	"io"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// span is the content of a body section: bytes start..end of the stored
// message, of which bare LFs are sent as CRLF, or data already in memory
// (HEADER.FIELDS), already in CRLF form.
type span struct {
	start, end int64
	bare       int64
	data       []byte
	inMemory   bool
}

// size is the number of octets the span has once converted to CRLF.
func (sp span) size() int64 {
	if sp.inMemory {
		return int64(len(sp.data))
	}
	return sp.end - sp.start + sp.bare
}

var emptySpan = span{inMemory: true}

// sectionSpan finds the bytes of a BODY[section] (RFC 3501 §6.4.5) in a
// message whose structure is root. A part number that does not exist, and
// HEADER or TEXT of a part that is not MESSAGE/RFC822, give the empty
// string, as Dovecot does. header reads raw header bytes when a field
// selection needs them.
func sectionSpan(root *message.Part, sec *imap.FetchItemBodySection, header func(p *message.Part) ([]byte, error)) (span, error) {
	target := root
	if len(sec.Part) > 0 {
		var ok bool
		if target, ok = root.Section(sec.Part); !ok {
			return emptySpan, nil
		}
	}
	if sec.Specifier == imap.PartSpecifierNone {
		if len(sec.Part) == 0 {
			return span{start: root.HeaderStart, end: root.End, bare: root.BareLFHeader + root.BareLFBody}, nil
		}
		return span{start: target.BodyStart, end: target.End, bare: target.BareLFBody}, nil
	}
	if sec.Specifier == imap.PartSpecifierMIME {
		if len(sec.Part) == 0 {
			return emptySpan, nil
		}
		return span{start: target.HeaderStart, end: target.BodyStart, bare: target.BareLFHeader}, nil
	}
	m := root
	if len(sec.Part) > 0 {
		if !target.IsMessage() {
			return emptySpan, nil
		}
		m = target.Children[0]
	}
	switch sec.Specifier {
	case imap.PartSpecifierText:
		return span{start: m.BodyStart, end: m.End, bare: m.BareLFBody}, nil
	case imap.PartSpecifierHeader:
		if sec.HeaderFields == nil && sec.HeaderFieldsNot == nil {
			return span{start: m.HeaderStart, end: m.BodyStart, bare: m.BareLFHeader}, nil
		}
		raw, err := header(m)
		if err != nil {
			return span{}, err
		}
		var out []byte
		if sec.HeaderFields != nil {
			out = message.FilterHeader(raw, sec.HeaderFields, false)
		} else {
			out = message.FilterHeader(raw, sec.HeaderFieldsNot, true)
		}
		return span{data: message.ToCRLF(out), inMemory: true}, nil
	}
	return span{}, fmt.Errorf("imapbackend: unknown section specifier %q", sec.Specifier)
}

// partialRange applies <origin.count> to a section of size octets: where to
// start and how many octets to send. An origin past the end gives the
// empty string (RFC 3501 §6.4.5).
func partialRange(p *imap.SectionPartial, size int64) (off, n int64) {
	if p == nil {
		return 0, size
	}
	off = p.Offset
	if off > size {
		off = size
	}
	n = size - off
	if p.Size < n {
		n = p.Size
	}
	return off, n
}

// writeSpan sends octets off..off+n of the CRLF form of sp to w.
func writeSpan(w io.Writer, r io.ReaderAt, sp span, off, n int64) error {
	if n <= 0 {
		return nil
	}
	if sp.inMemory {
		_, err := w.Write(sp.data[off : off+n])
		return err
	}
	if sp.bare == 0 {
		var src io.Reader
		if s, ok := r.(mailstore.StreamReader); ok {
			var err error
			if src, err = s.Stream(sp.start+off, n); err != nil {
				return err
			}
		} else {
			src = io.NewSectionReader(r, sp.start+off, n)
		}
		_, err := io.Copy(w, src)
		return err
	}
	cw := &message.CRLFWriter{W: w, Skip: off, Limit: n}
	_, err := io.Copy(cw, io.NewSectionReader(r, sp.start, sp.end-sp.start))
	if errors.Is(err, message.ErrCRLFLimit) {
		err = nil
	}
	if err == nil && cw.Limit > 0 {
		err = fmt.Errorf("imapbackend: message shorter than its structure says")
	}
	return err
}
