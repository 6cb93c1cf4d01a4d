package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// capabilities lists what the connection offers now (RFC 3501 §6.1.1,
// §7.2.1): the extensions, then, before login, STARTTLS and either
// LOGINDISABLED or the plaintext SASL mechanisms.
//
// LITERAL+ and not LITERAL-: RFC 7888 §5 forbids advertising both, and
// LITERAL+ is the superset (non-synchronizing literals of any size up to
// our limits, where LITERAL- caps them at 4096 octets). IMAP4rev2 folds
// in LITERAL- (RFC 9051 §4.3, Appendix E item 2), which a LITERAL+ server
// satisfies: a rev2 client sends at most 4096 octets non-synchronizing,
// and we take those. Over a limit, a non-synchronizing literal is read
// and dropped and the command answered BAD [TOOBIG] (NO [TOOBIG] for
// APPEND, RFC 7889), RFC 7888 §4 choice 1, so the connection stays in
// step; past 1 GiB it is BYE [TOOBIG], choice 2 (imapwire
// maxDiscardLiteral). Dovecot advertises LITERAL+ the same way.
func (c *conn) capabilities() []string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "UIDPLUS", "UNSELECT", "IDLE", "NAMESPACE", "CHILDREN", "ENABLE"}
	if _, ok := c.session.(SessionMove); ok {
		caps = append(caps, "MOVE")
	}
	caps = append(caps, "ESEARCH", "WITHIN") // RFC 4731, RFC 5032
	if _, ok := c.session.(SessionSearchRes); ok {
		caps = append(caps, "SEARCHRES") // RFC 5182
	}
	if _, ok := c.session.(SessionSort); ok {
		// RFC 5256, RFC 5957, RFC 5267 §3.
		caps = append(caps, "SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "ESORT")
	}
	caps = append(caps, "ID", "UTF8=ACCEPT", "COMPRESS=DEFLATE")
	if _, ok := c.session.(SessionCondStore); ok {
		// RFC 7162 §3.1.1, §3.2.2 (QRESYNC needs ENABLE, listed above).
		caps = append(caps, "CONDSTORE", "QRESYNC")
	}
	caps = append(caps, c.mailboxCapabilities()...)
	caps = append(caps, "BINARY")
	if _, ok := c.session.(SessionMultiAppend); ok {
		caps = append(caps, "MULTIAPPEND")
	}
	caps = append(caps, "PREVIEW", "SAVEDATE")
	if _, ok := c.session.(SessionCatenate); ok {
		caps = append(caps, "CATENATE")
	}
	// RFC 8474: MAILBOXID (mailbox commands), EMAILID and THREADID
	// (FETCH, SEARCH).
	caps = append(caps, "OBJECTID")
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
