package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// handleCreateOptions is CREATE mailbox [SP "(" create-param *(SP
// create-param) ")"] (RFC 4466 §2.2) for a SessionCreateOptions: the USE
// parameter of RFC 6154 §3, and the MAILBOXID response code of RFC 8474
// §4.1 in the tagged OK.
func handleCreateOptions(c *conn, cmd *command) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) {
		return c.decErr()
	}
	var opts imap.CreateOptions
	if b, _ := c.dec.PeekByte(); b == ' ' {
		if err := c.readCreateParams(&opts); err != nil {
			return err
		}
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	data, err := c.session.(SessionCreateOptions).CreateWithOptions(c.ctx, name, &opts)
	if err != nil {
		return errorf(cmd, err)
	}
	if data != nil && data.MailboxID != "" {
		cmd.code, cmd.codeArg = imap.CodeMailboxID, "("+data.MailboxID+")"
	}
	return nil
}

// readCreateParams reads SP "(" create-param *(SP create-param) ")":
// only USE "(" [use-attr *(SP use-attr)] ")" (RFC 6154 §6) is known; any
// other parameter is answered BAD, since its meaning cannot be honoured.
func (c *conn) readCreateParams(opts *imap.CreateOptions) error {
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	ok := c.dec.ExpectList(func() error {
		var p string
		if !c.dec.ExpectAtom(&p) {
			return c.decErr()
		}
		if !strings.EqualFold(p, "USE") {
			return imap.BAD("", "Unknown CREATE parameter")
		}
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
		inner := c.dec.ExpectList(func() error {
			var f imap.Flag
			if !c.dec.ExpectFlag(&f) {
				return c.decErr()
			}
			if !strings.HasPrefix(string(f), `\`) {
				return imap.BAD("", "A special use starts with a backslash")
			}
			opts.SpecialUse = append(opts.SpecialUse, canonicalUse(string(f)))
			return nil
		})
		if !inner {
			return c.decErr()
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	return nil
}

// canonicalUse spells a special-use attribute as RFC 6154 §2 does;
// attributes are case-insensitive (RFC 3501 §7.2.2).
func canonicalUse(a string) imap.MailboxAttr {
	for _, u := range []imap.MailboxAttr{imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts,
		imap.MailboxAttrFlagged, imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash} {
		if strings.EqualFold(a, string(u)) {
			return u
		}
	}
	return imap.MailboxAttr(a)
}
