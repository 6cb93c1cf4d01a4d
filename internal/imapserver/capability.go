package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// capabilities lists what the connection offers now (RFC 3501 §6.1.1,
// §7.2.1): the extensions, then, before login, STARTTLS and either
// LOGINDISABLED or the plaintext SASL mechanisms.
func (c *conn) capabilities() []string {
	caps := []string{"IMAP4rev1", "LITERAL+", "SASL-IR", "UIDPLUS", "UNSELECT", "IDLE", "NAMESPACE", "CHILDREN", "ENABLE"}
	if _, ok := c.session.(SessionMove); ok {
		caps = append(caps, "MOVE")
	}
	caps = append(caps, c.mailboxCapabilities()...)
	if c.state != imap.StateNotAuthenticated {
		return caps
	}
	if c.srv.opts.TLSConfig != nil && !c.info.TLS {
		caps = append(caps, "STARTTLS")
	}
	if c.plaintextAllowed() {
		caps = append(caps, "AUTH=PLAIN", "AUTH=LOGIN")
	} else {
		caps = append(caps, "LOGINDISABLED")
	}
	return caps
}

// plaintextAllowed reports whether a password may be sent in the clear on
// this connection: it is encrypted, local, or the administrator said so
// (DESIGN.md §5; RFC 3501 §6.2.3 LOGINDISABLED).
func (c *conn) plaintextAllowed() bool {
	return c.info.TLS || c.info.Loopback || c.srv.opts.InsecureAuth
}

func capString(caps []string) string { return strings.Join(caps, " ") }

// handleCapability is CAPABILITY (RFC 3501 §6.1.1).
func handleCapability(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	return c.w.capability(c.capabilities())
}

// handleNoop is NOOP (RFC 3501 §6.1.2): the dispatcher's poll does the
// work.
func handleNoop(c *conn, cmd *command) error {
	return c.endLine(cmd)
}

// handleLogout is LOGOUT (RFC 3501 §6.1.3): BYE, then the tagged OK, then
// the connection closes.
func handleLogout(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	c.state = imap.StateLogout
	return c.w.status("*", imap.StatusBYE, "", "", "Logging out")
}
