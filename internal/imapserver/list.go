package imapserver

import (
	"github.com/postern/postern/internal/imap"
)

// hierarchyDelim is the one hierarchy delimiter of the personal namespace.
const hierarchyDelim = '/'

// handleList is LIST and LSUB reference mailbox (RFC 3501 §6.3.8, §6.3.9).
func handleList(c *conn, cmd *command) error {
	var ref, pattern string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&ref) || !c.dec.ExpectSP() || !c.dec.ExpectListMailbox(&pattern) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	lsub := cmd.name == "LSUB"
	lw := listWriter{w: c.w, name: cmd.name}
	if pattern == "" && !lsub {
		// LIST ref "" asks for the delimiter and the root name
		// (RFC 3501 §6.3.8); with one flat namespace the root is "".
		lw.w.enc.Atom("*").SP().Atom("LIST").SP().Special('(').Atom(string(imap.MailboxAttrNoSelect)).Special(')').
			SP().Quoted(string(hierarchyDelim)).SP().Quoted("")
		return lw.w.end()
	}
	opts := &imap.ListOptions{SelectSubscribed: lsub, LSUB: lsub}
	return errorf(cmd, c.session.List(c.ctx, lw, ref, []string{pattern}, opts))
}

// handleNamespace is NAMESPACE (RFC 2342 §5): one personal namespace, no
// other users' or shared ones.
func handleNamespace(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	c.w.enc.Atom("*").SP().Atom("NAMESPACE").SP().
		Special('(').Special('(').Quoted("").SP().Quoted(string(hierarchyDelim)).Special(')').Special(')').
		SP().Atom("NIL").SP().Atom("NIL")
	return c.w.end()
}
