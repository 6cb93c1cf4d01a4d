package imapbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/message"
)

// maxBinaryCache bounds the decoded sizes a selected mailbox remembers
// (about 40 octets each); when full it starts again.
const maxBinaryCache = 4096

// binaryKey names one section of one message in the binary size cache.
type binaryKey struct {
	uid  uint32
	part string // "1.2"; "" for the whole message
}

// binaryInfo is what a decode pass learns about a section: its decoded size
// and whether it holds NUL (then it goes in a literal8, RFC 3516 §4.3).
type binaryInfo struct {
	size int64
	nul  bool
}

var errUnknownCTE = imap.NO(imap.CodeUnknownCTE, "Unknown Content-Transfer-Encoding")

// binarySource returns a function that writes the decoded content of the
// section (RFC 3516 §4.2) to w: the whole message as BODY[] sends it for no
// part number; for a multipart or message/rfc822 part, its body as it is
// (their encoding is an identity, RFC 2045 §6.4); for a leaf, its body with
// base64 or quoted-printable undone. Textual data (all but base64 and
// binary) goes out with CRLF line ends (RFC 3516 §6). A part number that
// does not exist gives the empty string, as BODY[] does; an encoding we
// cannot undo gives NO [UNKNOWN-CTE].
func binarySource(r io.ReaderAt, root *message.Part, part []int) (func(w io.Writer) error, error) {
	if len(part) == 0 {
		return rawSource(r, root.HeaderStart, root.End, true), nil
	}
	p, ok := root.Section(part)
	if !ok {
		return func(io.Writer) error { return nil }, nil
	}
	if len(p.Children) > 0 {
		return rawSource(r, p.BodyStart, p.End, true), nil
	}
	switch p.Encoding {
	case "", "7bit", "8bit":
		return rawSource(r, p.BodyStart, p.End, true), nil
	case "binary":
		return rawSource(r, p.BodyStart, p.End, false), nil
	case "base64", "quoted-printable":
		text := p.Encoding == "quoted-printable"
		return func(w io.Writer) error {
			if text {
				w = message.NewCRLFWriter(w)
			}
			_, err := io.Copy(w, message.DecodedReader(readErrAt{r}, p))
			var re readErr
			if err != nil && !errors.Is(err, errWindowFull) && !errors.As(err, &re) {
				// Undecodable input ends the data, in the size pass and
				// the write alike, as SEARCH's body text does.
				return nil
			}
			return err
		}, nil
	}
	return nil, errUnknownCTE
}

// rawSource copies octets start..end, bare LFs made CRLF when crlf.
func rawSource(r io.ReaderAt, start, end int64, crlf bool) func(w io.Writer) error {
	return func(w io.Writer) error {
		if crlf {
			w = message.NewCRLFWriter(w)
		}
		_, err := io.Copy(w, io.NewSectionReader(r, start, end-start))
		return err
	}
}

// binaryInfo returns the decoded size of a section and whether it holds
// NUL: a decode pass, remembered for the selected mailbox, since a client
// that asks BINARY.SIZE usually asks BINARY next and every BINARY needs the
// size before its first octet.
func (m *msgSource) binaryInfo(ctx context.Context, root *message.Part, part []int, needSrc bool) (binaryInfo, func(io.Writer) error, error) {
	key := binaryKey{uid: m.uid, part: partString(part)}
	if bi, ok := m.sel.binaryCache[key]; ok && !needSrc {
		return bi, nil, nil // BINARY.SIZE again: no need to open the message
	}
	r, err := m.reader(ctx)
	if err != nil {
		return binaryInfo{}, nil, err
	}
	src, err := binarySource(r, root, part)
	if err != nil {
		return binaryInfo{}, nil, err
	}
	if bi, ok := m.sel.binaryCache[key]; ok {
		return bi, src, nil
	}
	var c nulCounter
	if err := src(&c); err != nil {
		return binaryInfo{}, nil, fmt.Errorf("imapbackend: decode UID %d part %q: %w", m.uid, key.part, err)
	}
	bi := binaryInfo{size: c.n, nul: c.nul}
	if m.sel.binaryCache == nil || len(m.sel.binaryCache) >= maxBinaryCache {
		m.sel.binaryCache = make(map[binaryKey]binaryInfo)
	}
	m.sel.binaryCache[key] = bi
	return bi, src, nil
}

// binaryItems decodes, before the FETCH response starts, what its BINARY
// and BINARY.SIZE items need, so that an UNKNOWN-CTE refusal does not leave
// half a response on the wire.
type binaryItems struct {
	sizes    []binaryInfo
	sections []binaryInfo
	srcs     []func(io.Writer) error
}

func (m *msgSource) loadBinary(ctx context.Context, root *message.Part, opts *imap.FetchOptions) (*binaryItems, error) {
	if len(opts.BinarySize) == 0 && len(opts.BinarySection) == 0 {
		return nil, nil
	}
	b := &binaryItems{}
	for _, sec := range opts.BinarySize {
		bi, _, err := m.binaryInfo(ctx, root, sec.Part, false)
		if err != nil {
			return nil, err
		}
		b.sizes = append(b.sizes, bi)
	}
	for _, sec := range opts.BinarySection {
		bi, src, err := m.binaryInfo(ctx, root, sec.Part, true)
		if err != nil {
			return nil, err
		}
		b.sections = append(b.sections, bi)
		b.srcs = append(b.srcs, src)
	}
	return b, nil
}

// write writes the BINARY.SIZE items, then the BINARY items with their
// partial ranges counted in decoded octets (RFC 3516 §4.2).
func (b *binaryItems) write(mw imapserver.FetchMessageWriter, opts *imap.FetchOptions) error {
	if b == nil {
		return nil
	}
	for i, sec := range opts.BinarySize {
		mw.WriteBinarySize(sec, b.sizes[i].size)
	}
	for i, sec := range opts.BinarySection {
		bi := b.sections[i]
		off, n := partialRange(sec.Partial, bi.size)
		lw := mw.WriteBinarySection(sec, n, bi.nul)
		var err error
		if n > 0 {
			err = b.srcs[i](&windowWriter{w: lw, skip: off, limit: n})
			if errors.Is(err, errWindowFull) {
				err = nil
			}
		}
		if cerr := lw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func partString(part []int) string {
	s := make([]string, len(part))
	for i, n := range part {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// nulCounter counts octets and notes a NUL among them.
type nulCounter struct {
	n   int64
	nul bool
}

func (c *nulCounter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if !c.nul {
		for _, b := range p {
			if b == 0 {
				c.nul = true
				break
			}
		}
	}
	return len(p), nil
}

// errWindowFull stops a decode once a windowWriter has all it wants.
var errWindowFull = errors.New("imapbackend: partial range complete")

// windowWriter passes on octets skip..skip+limit of what it is given.
type windowWriter struct {
	w           io.Writer
	skip, limit int64
}

func (ww *windowWriter) Write(p []byte) (int, error) {
	n := len(p)
	if ww.skip > 0 {
		if int64(len(p)) <= ww.skip {
			ww.skip -= int64(len(p))
			return n, nil
		}
		p = p[ww.skip:]
		ww.skip = 0
	}
	if int64(len(p)) >= ww.limit {
		_, err := ww.w.Write(p[:ww.limit])
		ww.limit = 0
		if err != nil {
			return n, err
		}
		return n, errWindowFull
	}
	ww.limit -= int64(len(p))
	_, err := ww.w.Write(p)
	return n, err
}

// readErr marks an error of the message reader, to tell it from a decoding
// error of the content.
type readErr struct{ err error }

func (e readErr) Error() string { return e.err.Error() }
func (e readErr) Unwrap() error { return e.err }

// readErrAt wraps the reader's errors, io.EOF excepted, in readErr.
type readErrAt struct{ r io.ReaderAt }

func (ra readErrAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := ra.r.ReadAt(p, off)
	if err != nil && err != io.EOF {
		err = readErr{err}
	}
	return n, err
}
