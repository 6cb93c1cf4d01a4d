package message

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
)

// DefaultMaxDepth is the nesting depth beyond which parts are opaque leaves.
const DefaultMaxDepth = 100

// DefaultMaxHeaderBytes is how much of one header block is parsed into fields.
const DefaultMaxHeaderBytes = 1 << 20

// Parser holds parsing limits. The zero value is ready to use.
type Parser struct {
	// MaxDepth is the deepest nesting parsed: the top-level part has depth
	// 0, its children depth 1, and a multipart or message/rfc822 part at
	// MaxDepth is kept as a leaf with no Children. Zero means
	// DefaultMaxDepth; it also bounds the parser's recursion.
	MaxDepth int
	// MaxHeaderBytes limits the bytes of one header block kept in
	// Part.Header; fields past it are dropped (offsets stay exact). Zero
	// means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// Parse parses the message of size octets in r with the default limits.
// See Parser.Parse.
func Parse(r io.ReaderAt, size int64) (*Part, error) {
	var ps Parser
	return ps.Parse(r, size)
}

// Parse reads the whole message from r (size octets) and returns its MIME
// structure (RFC 5322, RFC 2045, RFC 2046). It never fails on malformed
// input (see the package documentation for the rules); the error is only
// for I/O errors. The time taken is linear in size.
func (ps *Parser) Parse(r io.ReaderAt, size int64) (*Part, error) {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(r, 0, size))
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
	}()
	p := &parser{
		r:         r,
		maxDepth:  ps.MaxDepth,
		maxHeader: ps.MaxHeaderBytes,
	}
	p.sc.br = br
	if p.maxDepth <= 0 {
		p.maxDepth = DefaultMaxDepth
	}
	if p.maxHeader <= 0 {
		p.maxHeader = DefaultMaxHeaderBytes
	}
	root, _ := p.part(0, false)
	if p.sc.err != nil {
		return nil, fmt.Errorf("message: read: %w", p.sc.err)
	}
	if p.err != nil {
		return nil, fmt.Errorf("message: read header: %w", p.err)
	}
	root.Envelope = ParseEnvelope(root.Header)
	return root, nil
}

type parser struct {
	r         io.ReaderAt
	sc        lineScanner
	maxDepth  int
	maxHeader int
	bounds    []string // boundaries of the enclosing multiparts, innermost last
	hbuf      []byte   // header lines of the part being read
	err       error    // first header re-read error
}

// hit is what ended a part: a delimiter line of bounds[k] (a close delimiter
// if close), or the end of input (k == -1). at is where the part ends.
type hit struct {
	k     int
	close bool
	at    pos
}

// part parses one part starting at the scanner's position: its header, then
// its body according to its type.
func (p *parser) part(depth int, inDigest bool) (*Part, hit) {
	hstart := p.sc.cur
	pt := &Part{HeaderStart: hstart.off}
	var (
		bstart pos
		h      hit
		ended  bool // the part ended inside its header
		whole  = true
	)
	p.hbuf = p.hbuf[:0]
	for {
		l, ok := p.sc.next()
		if !ok {
			bstart, h, ended = p.sc.cur, hit{k: -1, at: p.sc.cur}, true
			break
		}
		if k, cl, ok := p.delimiter(l.head); ok {
			at := l.beforeTerm()
			if at.off < hstart.off {
				at = hstart
			}
			bstart, h, ended = at, hit{k: k, close: cl, at: at}, true
			break
		}
		if whole && int64(len(l.head)) == l.n && len(p.hbuf)+len(l.head) <= p.maxHeader {
			p.hbuf = append(p.hbuf, l.head...)
		} else {
			whole = false
		}
		if isBlankLine(l.head) {
			bstart = p.sc.cur
			break
		}
	}
	pt.BodyStart = bstart.off
	pt.Header = parseHeader(p.headerBytes(hstart.off, bstart.off, whole))
	if depth == 0 {
		pt.HeaderSum = p.headerSum(hstart.off, bstart.off, whole)
	}
	fillMIME(pt, inDigest)

	if !ended {
		switch {
		case depth >= p.maxDepth:
			h = p.skipBody()
		case pt.Type == "multipart" && pt.Param("boundary") != "":
			h = p.multipart(pt, depth)
		case pt.Type == "message" && pt.Subtype == "rfc822":
			child, ch := p.part(depth+1, false)
			child.Envelope = ParseEnvelope(child.Header)
			pt.Children = []*Part{child}
			h = ch
		default:
			h = p.skipBody()
		}
	}
	end := h.at
	if end.off < bstart.off {
		// An empty body whose header's empty line is also the line ending
		// before the delimiter: the line ending stays in the header, and
		// the enclosing parts end here too.
		end = bstart
		h.at = end
	}
	pt.End = end.off
	pt.BodyLines = end.lf - bstart.lf
	pt.BareLFHeader = bstart.bare - hstart.bare
	pt.BareLFBody = end.bare - bstart.bare
	return pt, h
}

// headerBytes returns a copy of the header block from..to, from the lines
// collected while scanning when they are all there, else read again.
func (p *parser) headerBytes(from, to int64, whole bool) []byte {
	n := to - from
	if n <= 0 {
		return nil
	}
	if whole && int64(len(p.hbuf)) >= n {
		return append([]byte(nil), p.hbuf[:n]...)
	}
	if n > int64(p.maxHeader) {
		n = int64(p.maxHeader)
	}
	raw := make([]byte, n)
	m, err := p.r.ReadAt(raw, from)
	if m < len(raw) && err != nil && err != io.EOF && p.err == nil {
		p.err = err
	}
	raw = raw[:m]
	if int64(m) < to-from {
		// Cut at the last complete line so no field is half kept.
		for len(raw) > 0 && raw[len(raw)-1] != '\n' {
			raw = raw[:len(raw)-1]
		}
	}
	return raw
}

// headerSum returns Part.HeaderSum of the header block from..to: from the
// lines collected while scanning when they are all there, else read again
// (a header past maxHeader), so that the sum covers every byte.
func (p *parser) headerSum(from, to int64, whole bool) [16]byte {
	var sum [16]byte
	h := sha256.New()
	switch n := to - from; {
	case n <= 0:
	case whole && int64(len(p.hbuf)) >= n:
		h.Write(p.hbuf[:n])
	default:
		if _, err := io.Copy(h, io.NewSectionReader(p.r, from, n)); err != nil && p.err == nil {
			p.err = err
		}
	}
	copy(sum[:], h.Sum(nil))
	return sum
}

// multipart parses the body of pt, a multipart with a boundary
// (RFC 2046 §5.1.1): preamble, body parts, epilogue.
func (p *parser) multipart(pt *Part, depth int) hit {
	j := len(p.bounds)
	p.bounds = append(p.bounds, pt.Param("boundary"))
	digest := pt.Subtype == "digest"
	h := p.skipBody() // the preamble
	for h.k == j {
		if h.close {
			p.bounds = p.bounds[:j]
			return p.skipBody() // the epilogue
		}
		var c *Part
		c, h = p.part(depth+1, digest)
		pt.Children = append(pt.Children, c)
	}
	// End of input or an enclosing delimiter: no close delimiter.
	p.bounds = p.bounds[:j]
	return h
}

// skipBody reads lines up to the next delimiter line or the end of input.
func (p *parser) skipBody() hit {
	for {
		l, ok := p.sc.next()
		if !ok {
			return hit{k: -1, at: p.sc.cur}
		}
		if k, cl, ok := p.delimiter(l.head); ok {
			return hit{k: k, close: cl, at: l.beforeTerm()}
		}
	}
}

// delimiter reports whether line is a delimiter line of one of the active
// boundaries, innermost first: "--" boundary, then "--" for the close
// delimiter, or only whitespace (RFC 2046 §5.1.1).
func (p *parser) delimiter(line []byte) (k int, close, ok bool) {
	if len(p.bounds) == 0 || len(line) < 3 || line[0] != '-' || line[1] != '-' {
		return 0, false, false
	}
	rest := line[2:]
	for k := len(p.bounds) - 1; k >= 0; k-- {
		b := p.bounds[k]
		if len(rest) < len(b) || string(rest[:len(b)]) != b {
			continue
		}
		tail := rest[len(b):]
		if len(tail) >= 2 && tail[0] == '-' && tail[1] == '-' {
			return k, true, true
		}
		if onlySpace(tail) {
			return k, false, true
		}
	}
	return 0, false, false
}

func onlySpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
