package imapserver

import (
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// handleFetch is FETCH and UID FETCH set items (RFC 3501 §6.4.5, §6.4.8).
func handleFetch(c *conn, cmd *command) error {
	var set imap.NumSet
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	if err := c.expectNumSet(&set); err != nil {
		return err
	}
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	opts := &imap.FetchOptions{UID: cmd.uid}
	items := 0 // counted against MaxFetchItems
	if b, _ := c.dec.PeekByte(); b == '(' {
		n := 0
		ok := c.dec.ExpectList(func() error {
			n++
			return c.readFetchItem(opts, &items)
		})
		if !ok {
			return c.decErr()
		}
		if n == 0 {
			return imap.BAD("", "Empty FETCH item list")
		}
	} else if err := c.readFetchItem(opts, &items); err != nil {
		return err
	}
	if c.dec.SP() {
		if err := c.readFetchModifiers(cmd, opts); err != nil {
			return err
		}
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if opts.ModSeq {
		c.condStoreEnabling() // RFC 7162 §3.1
	}
	return errorf(cmd, c.session.Fetch(c.ctx, c.w, cmd.numKind(), set, opts))
}

var errBadFetchItem = imap.BAD("", "Unknown FETCH item")

// readFetchItem reads one fetch-att, or a macro (RFC 3501 §6.4.5). Macros
// are accepted inside a list too, as other servers do. items counts the
// items read so far, header field names included (MaxFetchItems): each
// BODY[] costs the session a pass over every message, so a long list
// multiplies the work of one command.
func (c *conn) readFetchItem(opts *imap.FetchOptions, items *int) error {
	if err := c.countFetchItem(items); err != nil {
		return err
	}
	var name string
	if !c.dec.ExpectAtom(&name) {
		return c.decErr()
	}
	name = strings.ToUpper(name)
	// "[" is an ATOM-CHAR, so "BODY[1.MIME" arrives as one atom that
	// stops at "]" (or at the SP before a header list); accept a decoder
	// that stops before "[" as well.
	base, spec, bracket := strings.Cut(name, "[")
	if !bracket && c.dec.Special('[') {
		bracket = true
		if b, _ := c.dec.PeekByte(); b != ']' {
			if !c.dec.ExpectAtom(&spec) {
				return c.decErr()
			}
			spec = strings.ToUpper(spec)
		}
	}
	if bracket {
		if strings.HasPrefix(base, "BINARY") {
			return c.readBinaryItem(opts, base, spec)
		}
		if base != "BODY" && base != "BODY.PEEK" {
			return errBadFetchItem
		}
		sec, err := c.readSection(spec, items)
		if err != nil {
			return err
		}
		sec.Peek = base == "BODY.PEEK"
		opts.BodySection = append(opts.BodySection, sec)
		return nil
	}
	switch base {
	case "ALL", "FAST", "FULL":
		opts.Flags, opts.InternalDate, opts.RFC822Size = true, true, true
		if base != "FAST" {
			opts.Envelope = true
		}
		if base == "FULL" {
			opts.Body = true
		}
	case "UID":
		opts.UID = true
	case "FLAGS":
		opts.Flags = true
	case "INTERNALDATE":
		opts.InternalDate = true
	case "RFC822.SIZE":
		opts.RFC822Size = true
	case "ENVELOPE":
		opts.Envelope = true
	case "BODYSTRUCTURE":
		opts.BodyStructure = true
	case "BODY":
		opts.Body = true
	case "MODSEQ":
		// RFC 7162 §3.1.4.2.
		if _, ok := c.condStore(); !ok {
			return errBadFetchItem
		}
		opts.ModSeq = true
	case "RFC822":
		opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{Legacy: base})
	case "RFC822.HEADER":
		// Equivalent to BODY.PEEK[HEADER] (RFC 3501 §6.4.5).
		opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{
			Specifier: imap.PartSpecifierHeader, Peek: true, Legacy: base})
	case "RFC822.TEXT":
		opts.BodySection = append(opts.BodySection, &imap.FetchItemBodySection{
			Specifier: imap.PartSpecifierText, Legacy: base})
	default:
		return c.readFetchExtItem(opts, base)
	}
	return nil
}

var errBadSection = imap.BAD("", "Invalid body section")

// readSection parses section-spec (RFC 3501 §9) from spec, the text after
// "[" up to "]", SP or the end of the atom; it reads a header list, the
// "]" and a partial from the decoder. items is readFetchItem's count.
func (c *conn) readSection(spec string, items *int) (*imap.FetchItemBodySection, error) {
	sec := &imap.FetchItemBodySection{}
	for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
		num, rest, dot := strings.Cut(spec, ".")
		n, err := strconv.ParseUint(num, 10, 31)
		if err != nil || n == 0 || num[0] == '0' {
			return nil, errBadSection
		}
		sec.Part = append(sec.Part, int(n))
		if dot && rest == "" {
			return nil, errBadSection
		}
		spec = rest
	}
	switch spec {
	case "":
	case "HEADER":
		sec.Specifier = imap.PartSpecifierHeader
	case "TEXT":
		sec.Specifier = imap.PartSpecifierText
	case "MIME":
		if len(sec.Part) == 0 {
			return nil, errBadSection
		}
		sec.Specifier = imap.PartSpecifierMIME
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		sec.Specifier = imap.PartSpecifierHeader
		var fields []string
		if !c.dec.ExpectSP() {
			return nil, c.decErr()
		}
		ok := c.dec.ExpectList(func() error {
			if err := c.countFetchItem(items); err != nil {
				return err
			}
			var f string
			if !c.dec.ExpectAString(&f) {
				return c.decErr()
			}
			if f == "" || strings.ContainsAny(f, ": \t\r\n\x00") {
				return imap.BAD("", "Invalid header field name")
			}
			fields = append(fields, f)
			return nil
		})
		if !ok {
			return nil, c.decErr()
		}
		if len(fields) == 0 {
			return nil, imap.BAD("", "Empty header field list")
		}
		if spec == "HEADER.FIELDS" {
			sec.HeaderFields = fields
		} else {
			sec.HeaderFieldsNot = fields
		}
	default:
		return nil, errBadSection
	}
	if !c.dec.ExpectSpecial(']') {
		return nil, c.decErr()
	}
	if b, _ := c.dec.PeekByte(); b == '<' {
		p, err := c.readPartial()
		if err != nil {
			return nil, err
		}
		sec.Partial = p
	}
	return sec, nil
}

var errBadPartial = imap.BAD("", "Invalid partial range")

// readPartial reads "<" number "." nz-number ">" (RFC 3501 §9 section
// partial); "<" and ">" are ATOM-CHARs, so it is one atom.
func (c *conn) readPartial() (*imap.SectionPartial, error) {
	var a string
	if !c.dec.ExpectAtom(&a) {
		return nil, c.decErr()
	}
	inner, ok1 := strings.CutPrefix(a, "<")
	inner, ok2 := strings.CutSuffix(inner, ">")
	if !ok1 || !ok2 {
		return nil, errBadPartial
	}
	off, size, ok := strings.Cut(inner, ".")
	if !ok {
		return nil, errBadPartial
	}
	o, err1 := strconv.ParseUint(off, 10, 32)
	n, err2 := strconv.ParseUint(size, 10, 32)
	if err1 != nil || err2 != nil || n == 0 {
		return nil, errBadPartial
	}
	return &imap.SectionPartial{Offset: int64(o), Size: int64(n)}, nil
}

// countFetchItem counts one FETCH item against MaxFetchItems.
func (c *conn) countFetchItem(items *int) error {
	*items++
	if max := c.srv.opts.MaxFetchItems; *items > max {
		return imap.BAD(imap.CodeLimit, "More than "+strconv.Itoa(max)+" FETCH items")
	}
	return nil
}
