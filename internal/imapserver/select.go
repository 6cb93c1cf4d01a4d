package imapserver

import (
	"strconv"

	"github.com/postern/postern/internal/imap"
)

// handleSelect is SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2), with the
// CONDSTORE and QRESYNC select parameters (RFC 7162 §3.1.8, §3.2.5).
func handleSelect(c *conn, cmd *command) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) {
		return c.decErr()
	}
	var opts imap.SelectOptions
	if c.dec.SP() {
		if err := c.readSelectParams(&opts); err != nil {
			return err
		}
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if opts.CondStore || opts.QResync != nil {
		// A CONDSTORE enabling command (RFC 7162 §3.1); the SELECT
		// itself reports the HIGHESTMODSEQ.
		c.enable(ExtCondStore)
	}
	// Selecting while selected first closes the current mailbox, without
	// expunging; if the new SELECT then fails, no mailbox is selected
	// (RFC 3501 §6.3.1).
	if c.state == imap.StateSelected {
		if err := c.session.Unselect(c.ctx, false); err != nil {
			return errorf(cmd, err)
		}
		c.state = imap.StateAuthenticated
		if _, ok := c.condStore(); ok {
			// RFC 7162 §3.2.11: the boundary between the responses
			// about the old mailbox and the new one.
			c.w.status("*", imap.StatusOK, imap.CodeClosed, "", "Previous mailbox closed")
		}
	}
	readOnly := cmd.name == "EXAMINE"
	data, err := c.session.Select(c.ctx, name, readOnly)
	if err != nil {
		return errorf(cmd, err)
	}
	c.state = imap.StateSelected
	c.writeSelectData(data)
	if c.enabled(ExtIMAP4rev2) {
		c.writeSelectList(name)
	}
	if opts.QResync != nil {
		cs, _ := c.condStore() // readSelectParams checked
		if err := cs.Resync(c.ctx, c.w, opts.QResync); err != nil {
			return errorf(cmd, err)
		}
	}
	cmd.code = imap.CodeReadWrite
	if data.ReadOnly || readOnly {
		cmd.code = imap.CodeReadOnly
	}
	return nil
}

// writeSelectData writes the untagged responses of SELECT (RFC 3501
// §6.3.1), in the order of the RFC's example.
func (c *conn) writeSelectData(d *imap.SelectData) {
	w := c.w
	flags := d.Flags
	if flags == nil {
		flags = imap.SystemFlags
	}
	w.enc.Atom("*").SP().Atom("FLAGS").SP()
	w.flagList(flags)
	w.end()
	w.WriteExists(d.NumMessages)
	w.WriteRecent(d.NumRecent)
	// RFC 9051 Appendix E item 11: no UNSEEN code in IMAP4rev2.
	if d.FirstUnseen != 0 && !c.enabled(ExtIMAP4rev2) {
		w.status("*", imap.StatusOK, imap.CodeUnseen, u32(d.FirstUnseen), "First unseen")
	}
	if d.PermanentFlags != nil {
		w.status("*", imap.StatusOK, imap.CodePermanentFlags, flagListString(w.visibleFlags(d.PermanentFlags)), "Flags permitted")
	}
	w.status("*", imap.StatusOK, imap.CodeUIDValidity, u32(d.UIDValidity), "UIDs valid")
	w.status("*", imap.StatusOK, imap.CodeUIDNext, u32(d.UIDNext), "Predicted next UID")
	if c.enabled(ExtCondStore) {
		// RFC 7162 §3.1.2: one of the two after a CONDSTORE enabling
		// command.
		if d.HighestModSeq > 0 {
			w.status("*", imap.StatusOK, imap.CodeHighestModSeq, strconv.FormatUint(d.HighestModSeq, 10), "Highest")
		} else {
			w.status("*", imap.StatusOK, imap.CodeNoModSeq, "", "No mod-sequences in this mailbox")
		}
	}
	if d.MailboxID != "" {
		// RFC 8474 §4.2: the mailbox's OBJECTID.
		w.status("*", imap.StatusOK, imap.CodeMailboxID, "("+d.MailboxID+")", "Ok")
	}
}

// handleClose is CLOSE (RFC 3501 §6.4.2: expunge silently, then leave the
// selected state) and UNSELECT (RFC 3691: leave it without expunging).
func handleClose(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	err := c.session.Unselect(c.ctx, cmd.name == "CLOSE")
	// Whatever happened, the client now believes no mailbox is selected.
	c.state = imap.StateAuthenticated
	return errorf(cmd, err)
}

// handleCheck is CHECK (RFC 3501 §6.4.1): the store keeps no state that
// needs a checkpoint; the dispatcher's poll reports news.
func handleCheck(c *conn, cmd *command) error {
	return c.endLine(cmd)
}

// handleExpunge is EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE set
// (RFC 4315 §2.1).
func handleExpunge(c *conn, cmd *command) error {
	var uids *imap.NumSet
	if cmd.uid {
		var set imap.NumSet
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
		if err := c.expectNumSet(&set); err != nil {
			return err
		}
		uids = &set
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	vanished := c.w.vanished
	if err := c.session.Expunge(c.ctx, c.w, uids); err != nil {
		return errorf(cmd, err)
	}
	c.setHighestModSeqCode(cmd, vanished) // RFC 7162 §3.2.7, §3.2.9
	return nil
}
