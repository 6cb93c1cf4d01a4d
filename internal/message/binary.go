package message

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// binaryVersion is the first byte of the MarshalBinary encoding; bump it
// when the layout changes (the index then re-parses the message). Version 3
// added HeaderSum, Preview and Envelope.References.
const binaryVersion = 3

// maxDecodeDepth bounds recursion in UnmarshalPart against hostile input.
const maxDecodeDepth = 1 << 12

// ErrCorrupt reports an encoding that UnmarshalPart cannot decode.
var ErrCorrupt = errors.New("message: corrupt part encoding")

const (
	flagEnvelope  = 1 << iota
	flagMIME      // ID, Description, Encoding, disposition, language, location, MD5 follow
	flagHeaderSum // HeaderSum follows (16 bytes)
	flagPreview   // Preview follows (HasPreview is true)
)

const (
	addrGroupStart = 1 << iota
	addrGroupEnd
)

// MarshalBinary encodes the part tree compactly for the index, so that a
// message is parsed once (DESIGN.md §4). Everything but Header survives
// UnmarshalPart exactly: offsets, line and bare-LF counts, MIME fields,
// parameters, Envelope (addresses and groups included) and Children. Header
// is not stored: the header bytes are HeaderStart..BodyStart of the message.
// HeaderSum and Preview are stored only when set, so a part without them
// costs nothing more.
func (p *Part) MarshalBinary() ([]byte, error) {
	var c counts
	c.add(p)
	b := make([]byte, 0, 64+32*c.parts)
	b = append(b, binaryVersion)
	b = binary.AppendUvarint(b, uint64(c.parts))
	b = binary.AppendUvarint(b, uint64(c.params))
	b = binary.AppendUvarint(b, uint64(c.langs))
	b = binary.AppendUvarint(b, uint64(c.envs))
	b = binary.AppendUvarint(b, uint64(c.addrs))
	return appendPart(b, p), nil
}

// counts are the totals UnmarshalPart allocates at once.
type counts struct {
	parts, params, langs, envs, addrs int
}

func (c *counts) add(p *Part) {
	c.parts++
	c.params += len(p.Params) + len(p.DispositionParams)
	c.langs += len(p.Language)
	if e := p.Envelope; e != nil {
		c.envs++
		c.addrs += len(e.From) + len(e.To) + len(e.Cc) + len(e.Bcc)
		if !sameAddrs(e.Sender, e.From) {
			c.addrs += len(e.Sender)
		}
		if !sameAddrs(e.ReplyTo, e.From) {
			c.addrs += len(e.ReplyTo)
		}
	}
	for _, ch := range p.Children {
		c.add(ch)
	}
}

func sameAddrs(a, b []Address) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendAddrs writes a list as its length plus one, so that 0 can mean
// "the same as From" and a nil list stays distinct from an empty one.
func appendAddrs(b []byte, as []Address) []byte {
	if as == nil {
		return append(b, 1)
	}
	b = binary.AppendUvarint(b, uint64(len(as))+2)
	for _, a := range as {
		var f byte
		if a.GroupStart {
			f |= addrGroupStart
		}
		if a.GroupEnd {
			f |= addrGroupEnd
		}
		b = append(b, f)
		b = appendString(b, a.Name)
		b = appendString(b, a.Route)
		b = appendString(b, a.Mailbox)
		b = appendString(b, a.Host)
	}
	return b
}

func appendPart(b []byte, p *Part) []byte {
	b = binary.AppendUvarint(b, uint64(p.HeaderStart))
	b = binary.AppendUvarint(b, uint64(p.BodyStart-p.HeaderStart))
	b = binary.AppendUvarint(b, uint64(p.End-p.BodyStart))
	b = binary.AppendUvarint(b, uint64(p.BodyLines))
	b = binary.AppendUvarint(b, uint64(p.BareLFHeader))
	b = binary.AppendUvarint(b, uint64(p.BareLFBody))
	var f byte
	if p.Envelope != nil {
		f |= flagEnvelope
	}
	mime := p.ID != "" || p.Description != "" || p.Encoding != "" || p.Disposition != "" ||
		p.DispositionParams != nil || p.Language != nil || p.Location != "" || p.MD5 != ""
	if mime {
		f |= flagMIME
	}
	if p.HeaderSum != ([16]byte{}) {
		f |= flagHeaderSum
	}
	if p.HasPreview {
		f |= flagPreview
	}
	b = append(b, f)
	b = appendString(b, p.Type)
	b = appendString(b, p.Subtype)
	b = appendParamsNil(b, p.Params)
	if mime {
		b = appendString(b, p.ID)
		b = appendString(b, p.Description)
		b = appendString(b, p.Encoding)
		b = appendString(b, p.Disposition)
		b = appendParamsNil(b, p.DispositionParams)
		b = binary.AppendUvarint(b, uint64(len(p.Language)))
		for _, l := range p.Language {
			b = appendString(b, l)
		}
		b = appendString(b, p.Location)
		b = appendString(b, p.MD5)
	}
	if e := p.Envelope; e != nil {
		b = appendString(b, e.Date)
		b = appendString(b, e.Subject)
		b = appendAddrs(b, e.From)
		for _, as := range [][]Address{e.Sender, e.ReplyTo} {
			if sameAddrs(as, e.From) {
				b = append(b, 0)
			} else {
				b = appendAddrs(b, as)
			}
		}
		b = appendAddrs(b, e.To)
		b = appendAddrs(b, e.Cc)
		b = appendAddrs(b, e.Bcc)
		b = appendString(b, e.InReplyTo)
		b = appendString(b, e.MessageID)
		b = appendString(b, e.References)
	}
	if f&flagHeaderSum != 0 {
		b = append(b, p.HeaderSum[:]...)
	}
	if f&flagPreview != 0 {
		b = appendString(b, p.Preview)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Children)))
	for _, c := range p.Children {
		b = appendPart(b, c)
	}
	return b
}

// appendParamsNil writes a parameter list as its length plus one, 0 for nil.
func appendParamsNil(b []byte, ps []Param) []byte {
	if ps == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ps))+1)
	for _, q := range ps {
		b = appendString(b, q.Name)
		b = appendString(b, q.Value)
		b = appendString(b, q.Charset)
		b = appendString(b, q.Language)
	}
	return b
}

// UnmarshalPart decodes what Part.MarshalBinary encoded. It allocates a
// handful of slices per call, not per part or string: strings share one
// copy of data. The returned Part's Header is zero.
func UnmarshalPart(data []byte) (*Part, error) {
	if len(data) == 0 || data[0] != binaryVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	d := decoder{s: string(data), i: 1}
	var c counts
	c.parts = d.count()
	c.params = d.count()
	c.langs = d.count()
	c.envs = d.count()
	c.addrs = d.count()
	if d.err != nil || c.parts == 0 {
		return nil, fmt.Errorf("%w: bad counts", ErrCorrupt)
	}
	d.parts = make([]Part, c.parts)
	d.ptrs = make([]*Part, c.parts)
	d.params = make([]Param, c.params)
	d.langs = make([]string, c.langs)
	d.envs = make([]Envelope, c.envs)
	d.addrs = make([]Address, c.addrs)
	p := d.part(0)
	if d.err != nil {
		return nil, d.err
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s)-d.i)
	}
	return p, nil
}

type decoder struct {
	s   string
	i   int
	err error

	// Preallocated storage, handed out in order.
	parts  []Part
	ptrs   []*Part
	params []Param
	langs  []string
	envs   []Envelope
	addrs  []Address
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.i)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for k := 0; k < binary.MaxVarintLen64; k++ {
		if d.i >= len(d.s) {
			break
		}
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail("bad varint")
	return 0
}

// count reads a length that cannot exceed the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail("count too large")
		return 0
	}
	return int(n)
}

func (d *decoder) int64() int64 {
	n := d.uvarint()
	if n > 1<<60 {
		d.fail("offset too large")
		return 0
	}
	return int64(n)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.i >= len(d.s) {
		d.fail("short")
		return 0
	}
	d.i++
	return d.s[d.i-1]
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	if n > len(d.s)-d.i {
		d.fail("short string")
		return ""
	}
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *decoder) paramsNil() []Param {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if n > len(d.params) {
		d.fail("too many params")
		return nil
	}
	ps := d.params[:n:n]
	d.params = d.params[n:]
	for k := range ps {
		ps[k].Name = d.string()
		ps[k].Value = d.string()
		ps[k].Charset = d.string()
		ps[k].Language = d.string()
	}
	return ps
}

// addrs reads a list written by appendAddrs; same is true for the
// "same as From" marker.
func (d *decoder) addrList() (as []Address, same bool) {
	n := d.count()
	switch {
	case d.err != nil:
		return nil, false
	case n == 0:
		return nil, true
	case n == 1:
		return nil, false
	}
	n -= 2
	if n > len(d.addrs) {
		d.fail("too many addresses")
		return nil, false
	}
	as = d.addrs[:n:n]
	d.addrs = d.addrs[n:]
	for k := range as {
		f := d.byte()
		as[k] = Address{
			GroupStart: f&addrGroupStart != 0,
			GroupEnd:   f&addrGroupEnd != 0,
			Name:       d.string(),
			Route:      d.string(),
			Mailbox:    d.string(),
			Host:       d.string(),
		}
	}
	return as, false
}

func (d *decoder) part(depth int) *Part {
	if depth > maxDecodeDepth {
		d.fail("too deep")
		return nil
	}
	if len(d.parts) == 0 {
		d.fail("too many parts")
		return nil
	}
	p := &d.parts[0]
	d.parts = d.parts[1:]
	p.HeaderStart = d.int64()
	p.BodyStart = p.HeaderStart + d.int64()
	p.End = p.BodyStart + d.int64()
	p.BodyLines = d.int64()
	p.BareLFHeader = d.int64()
	p.BareLFBody = d.int64()
	f := d.byte()
	p.Type = d.string()
	p.Subtype = d.string()
	p.Params = d.paramsNil()
	if f&flagMIME != 0 {
		p.ID = d.string()
		p.Description = d.string()
		p.Encoding = d.string()
		p.Disposition = d.string()
		p.DispositionParams = d.paramsNil()
		if n := d.count(); n > 0 && d.err == nil {
			if n > len(d.langs) {
				d.fail("too many languages")
				return nil
			}
			p.Language = d.langs[:n:n]
			d.langs = d.langs[n:]
			for k := range p.Language {
				p.Language[k] = d.string()
			}
		}
		p.Location = d.string()
		p.MD5 = d.string()
	}
	if f&flagEnvelope != 0 {
		if len(d.envs) == 0 {
			d.fail("too many envelopes")
			return nil
		}
		e := &d.envs[0]
		d.envs = d.envs[1:]
		e.Date = d.string()
		e.Subject = d.string()
		e.From, _ = d.addrList()
		var same bool
		if e.Sender, same = d.addrList(); same {
			e.Sender = e.From
		}
		if e.ReplyTo, same = d.addrList(); same {
			e.ReplyTo = e.From
		}
		e.To, _ = d.addrList()
		e.Cc, _ = d.addrList()
		e.Bcc, _ = d.addrList()
		e.InReplyTo = d.string()
		e.MessageID = d.string()
		e.References = d.string()
		p.Envelope = e
	}
	if f&flagHeaderSum != 0 {
		if len(d.s)-d.i < len(p.HeaderSum) {
			d.fail("short header sum")
			return nil
		}
		copy(p.HeaderSum[:], d.s[d.i:])
		d.i += len(p.HeaderSum)
	}
	if f&flagPreview != 0 {
		p.Preview = d.string()
		p.HasPreview = true
	}
	if f&^(flagEnvelope|flagMIME|flagHeaderSum|flagPreview) != 0 {
		d.fail("unknown flags")
		return nil
	}
	n := d.count()
	if d.err != nil {
		return nil
	}
	if n > 0 {
		if n > len(d.ptrs) {
			d.fail("too many children")
			return nil
		}
		p.Children = d.ptrs[:n:n]
		d.ptrs = d.ptrs[n:]
		for k := range p.Children {
			p.Children[k] = d.part(depth + 1)
			if d.err != nil {
				return nil
			}
		}
	}
	return p
}

// RootBareLF returns BareLFHeader + BareLFBody of the top-level part of a
// structure encoded by MarshalBinary, without decoding the rest: what
// RFC822.SIZE adds to the stored size (a bare LF is sent as CRLF), for
// summing it over a whole mailbox (STATUS SIZE, RFC 8438).
func RootBareLF(data []byte) (int64, error) {
	if len(data) == 0 || data[0] != binaryVersion {
		return 0, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	// The version and 11 varints of at most 10 bytes: copy no more.
	d := decoder{s: string(data[:min(len(data), 1+11*binary.MaxVarintLen64)]), i: 1}
	for range 5 { // the counts of parts, params, languages, envelopes, addresses
		d.uvarint()
	}
	for range 4 { // HeaderStart, header and body lengths, BodyLines
		d.uvarint()
	}
	n := d.int64() + d.int64()
	if d.err != nil {
		return 0, d.err
	}
	return n, nil
}
