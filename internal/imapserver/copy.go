package imapserver

import (
	"github.com/postern/postern/internal/imap"
)

// handleCopy is COPY, MOVE and their UID forms set mailbox (RFC 3501
// §6.4.7, RFC 6851 §3), answered with COPYUID (RFC 4315 §3).
func handleCopy(c *conn, cmd *command) error {
	var (
		set  imap.NumSet
		dest string
	)
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	if err := c.expectNumSet(&set); err != nil {
		return err
	}
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&dest) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if cmd.name == "COPY" || cmd.name == "UID COPY" {
		data, err := c.session.Copy(c.ctx, cmd.numKind(), set, dest)
		if err != nil {
			return errorf(cmd, err)
		}
		if arg := copyUIDArg(data); arg != "" {
			cmd.code, cmd.codeArg = imap.CodeCopyUID, arg
		}
		return nil
	}

	// MOVE: the COPYUID goes in an untagged OK before the EXPUNGE
	// responses (RFC 6851 §4.3), so those are held back until the
	// session returns the UIDs.
	mover := c.session.(SessionMove) // the dispatcher checked
	var held deferredUpdates
	vanished := c.w.vanished
	data, err := mover.Move(c.ctx, &held, cmd.numKind(), set, dest)
	if err == nil {
		if arg := copyUIDArg(data); arg != "" {
			c.w.status("*", imap.StatusOK, imap.CodeCopyUID, arg, "Moved")
		}
	}
	if rerr := held.replay(c.w); rerr != nil {
		return &ioError{rerr}
	}
	if err == nil {
		c.setHighestModSeqCode(cmd, vanished) // RFC 6851 §4.4
	}
	return errorf(cmd, err)
}

// copyUIDArg formats the COPYUID argument, or "" when the store has no
// stable UIDs to report.
func copyUIDArg(d *imap.CopyData) string {
	if d == nil || d.UIDValidity == 0 || len(d.SourceUIDs.Ranges) == 0 {
		return ""
	}
	return u32(d.UIDValidity) + " " + d.SourceUIDs.String() + " " + d.DestUIDs.String()
}
