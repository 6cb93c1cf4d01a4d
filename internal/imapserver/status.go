package imapserver

import (
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// handleStatus is STATUS mailbox (items) (RFC 3501 §6.3.10). SIZE
// (RFC 8438) and DELETED (RFC 9051) are parsed too.
func handleStatus(c *conn, cmd *command) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	opts, items, err := c.readStatusItems()
	if err != nil {
		return err
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if opts.HighestModSeq {
		c.condStoreEnabling() // RFC 7162 §3.1
	}
	data, err := c.session.Status(c.ctx, name, opts)
	if err != nil {
		return errorf(cmd, err)
	}
	c.writeStatusData(name, items, data)
	return nil
}

// readStatusItems reads "(" status-att *(SP status-att) ")" (RFC 3501
// §6.3.10, RFC 9051 §6.3.11), shared by STATUS and LIST's STATUS return
// option (RFC 5819 §4). It returns the options and the items in the
// client's order, for the response.
func (c *conn) readStatusItems() (*imap.StatusOptions, []string, error) {
	var opts imap.StatusOptions
	var items []string
	ok := c.dec.ExpectList(func() error {
		var item string
		if !c.dec.ExpectAtom(&item) {
			return c.decErr()
		}
		item = strings.ToUpper(item)
		switch item {
		case "MESSAGES":
			opts.NumMessages = true
		case "RECENT":
			opts.NumRecent = true
		case "UIDNEXT":
			opts.UIDNext = true
		case "UIDVALIDITY":
			opts.UIDValidity = true
		case "UNSEEN":
			opts.NumUnseen = true
		case "DELETED":
			opts.NumDeleted = true
		case "SIZE":
			opts.Size = true
		case "HIGHESTMODSEQ":
			if _, ok := c.condStore(); !ok {
				return imap.BAD("", "Unknown STATUS item")
			}
			opts.HighestModSeq = true
		case "MAILBOXID":
			opts.MailboxID = true
		case "APPENDLIMIT":
			// RFC 7889 §3: answered by the server from its own limit.
		case "DELETED-STORAGE":
			opts.DeletedStorage = true
		default:
			return imap.BAD("", "Unknown STATUS item")
		}
		items = append(items, item)
		return nil
	})
	if !ok {
		return nil, nil, c.decErr()
	}
	if len(items) == 0 {
		return nil, nil, imap.BAD("", "STATUS needs at least one item")
	}
	return &opts, items, nil
}

// writeStatusData writes "* STATUS mailbox (...)" (RFC 3501 §7.2.4) with
// the items in the order asked, skipping any the session left unset.
func (c *conn) writeStatusData(name string, items []string, d *imap.StatusData) {
	enc := c.w.enc
	enc.Atom("*").SP().Atom("STATUS").SP().Mailbox(name).SP().Special('(')
	n := 0
	add := func(item, value string) {
		if n > 0 {
			enc.SP()
		}
		n++
		enc.Atom(item).SP().Atom(value)
	}
	seen := map[string]bool{}
	for _, item := range items {
		if seen[item] {
			continue
		}
		seen[item] = true
		switch item {
		case "MESSAGES":
			if d.NumMessages != nil {
				add(item, u32(*d.NumMessages))
			}
		case "RECENT":
			if d.NumRecent != nil {
				add(item, u32(*d.NumRecent))
			}
		case "UIDNEXT":
			add(item, u32(d.UIDNext))
		case "UIDVALIDITY":
			add(item, u32(d.UIDValidity))
		case "UNSEEN":
			if d.NumUnseen != nil {
				add(item, u32(*d.NumUnseen))
			}
		case "DELETED":
			if d.NumDeleted != nil {
				add(item, u32(*d.NumDeleted))
			}
		case "SIZE":
			if d.Size != nil {
				add(item, strconv.FormatInt(*d.Size, 10))
			}
		case "HIGHESTMODSEQ":
			// RFC 7162 §3.1.7.
			add(item, strconv.FormatUint(d.HighestModSeq, 10))
		case "MAILBOXID":
			if d.MailboxID != "" {
				add(item, "("+d.MailboxID+")")
			}
		case "APPENDLIMIT":
			add(item, strconv.FormatInt(appendLimit(c.srv.opts.MaxAppendSize), 10))
		case "DELETED-STORAGE":
			if d.DeletedStorage != nil {
				add(item, strconv.FormatInt(*d.DeletedStorage, 10))
			}
		}
	}
	enc.Special(')')
	c.w.end()
}
