package imapserver

import (
	"context"
)

// Mailbox management commands of the authenticated state (RFC 3501
// §6.3.3-§6.3.7): one mailbox name in, OK or NO out.

// handleCreate is CREATE (RFC 3501 §6.3.3), with parameters when the
// session takes them (create.go).
func handleCreate(c *conn, cmd *command) error {
	if _, ok := c.session.(SessionCreateOptions); ok {
		return handleCreateOptions(c, cmd)
	}
	return oneMailbox(c, cmd, c.session.Create)
}

// handleDelete is DELETE (RFC 3501 §6.3.4).
func handleDelete(c *conn, cmd *command) error {
	return oneMailbox(c, cmd, c.session.Delete)
}

// handleSubscribe is SUBSCRIBE (RFC 3501 §6.3.6).
func handleSubscribe(c *conn, cmd *command) error {
	return oneMailbox(c, cmd, c.session.Subscribe)
}

// handleUnsubscribe is UNSUBSCRIBE (RFC 3501 §6.3.7).
func handleUnsubscribe(c *conn, cmd *command) error {
	return oneMailbox(c, cmd, c.session.Unsubscribe)
}

func oneMailbox(c *conn, cmd *command, op func(ctx context.Context, mailbox string) error) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	return errorf(cmd, op(c.ctx, name))
}

// handleRename is RENAME (RFC 3501 §6.3.5).
func handleRename(c *conn, cmd *command) error {
	var from, to string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&from) || !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&to) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	return errorf(cmd, c.session.Rename(c.ctx, from, to))
}
