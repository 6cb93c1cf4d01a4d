package imapserver

import (
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// readBinaryItem reads the rest of BINARY[part]<partial>,
// BINARY.PEEK[part]<partial> or BINARY.SIZE[part] (RFC 3516 §4.2, §7:
// section-binary = "[" [section-part] "]"), base being the name before "["
// and spec what the atom held after it.
func (c *conn) readBinaryItem(opts *imap.FetchOptions, base, spec string) error {
	if base != "BINARY" && base != "BINARY.PEEK" && base != "BINARY.SIZE" {
		return errBadFetchItem
	}
	sec := &imap.FetchItemBinarySection{Peek: base == "BINARY.PEEK"}
	if spec != "" {
		for _, num := range strings.Split(spec, ".") {
			n, err := strconv.ParseUint(num, 10, 31)
			if err != nil || n == 0 || num[0] == '0' {
				return errBadSection
			}
			sec.Part = append(sec.Part, int(n))
		}
	}
	if !c.dec.ExpectSpecial(']') {
		return c.decErr()
	}
	if base == "BINARY.SIZE" {
		opts.BinarySize = append(opts.BinarySize, sec)
		return nil
	}
	if b, _ := c.dec.PeekByte(); b == '<' {
		p, err := c.readPartial()
		if err != nil {
			return err
		}
		sec.Partial = p
	}
	opts.BinarySection = append(opts.BinarySection, sec)
	return nil
}

// readFetchExtItem reads the FETCH items of extensions that are plain
// names: PREVIEW with its optional modifiers (RFC 8970 §3), EMAILID and
// THREADID (RFC 8474 §7), SAVEDATE (RFC 8514 §4.2).
func (c *conn) readFetchExtItem(opts *imap.FetchOptions, name string) error {
	switch name {
	case "PREVIEW":
		opts.Preview = true
		if !c.dec.HasPrefix(" (") {
			return nil
		}
		c.dec.ExpectSP()
		ok := c.dec.ExpectList(func() error {
			var mod string
			if !c.dec.ExpectAtom(&mod) {
				return c.decErr()
			}
			// LAZY lets the server answer NIL when the preview is not
			// at hand; ours is always computed, so it changes nothing.
			if !strings.EqualFold(mod, "LAZY") {
				return imap.BAD("", "Unknown PREVIEW modifier")
			}
			return nil
		})
		if !ok {
			return c.decErr()
		}
	case "EMAILID":
		opts.EmailID = true
	case "THREADID":
		opts.ThreadID = true
	case "SAVEDATE":
		opts.SaveDate = true
	default:
		return errBadFetchItem
	}
	return nil
}
