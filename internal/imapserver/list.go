package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// hierarchyDelim is the one hierarchy delimiter of the personal namespace.
const hierarchyDelim = '/'

// handleList is LIST and LSUB reference mailbox (RFC 3501 §6.3.8, §6.3.9),
// with LIST's extended forms (RFC 5258 §3, RFC 9051 §6.3.9): selection
// options before the reference, a parenthesized list of patterns, and
// return options after them (RFC 5819 STATUS, RFC 6154 SPECIAL-USE).
func handleList(c *conn, cmd *command) error {
	lsub := cmd.name == "LSUB"
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	opts := &imap.ListOptions{SelectSubscribed: lsub, LSUB: lsub}
	if b, _ := c.dec.PeekByte(); b == '(' && !lsub {
		if err := c.readListSelectOptions(opts); err != nil {
			return err
		}
		// RFC 5819 §3 has no space before the reference in its own
		// example: tolerate that.
		c.dec.SP()
	}
	var ref string
	if !c.dec.ExpectMailbox(&ref) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	var patterns []string
	if b, _ := c.dec.PeekByte(); b == '(' && !lsub {
		opts.Extended = true
		ok := c.dec.ExpectList(func() error {
			var p string
			if !c.dec.ExpectListMailbox(&p) {
				return c.decErr()
			}
			patterns = append(patterns, p)
			return nil
		})
		if !ok {
			return c.decErr()
		}
		if len(patterns) == 0 {
			return imap.BAD("", "LIST needs at least one pattern")
		}
	} else {
		var p string
		if !c.dec.ExpectListMailbox(&p) {
			return c.decErr()
		}
		patterns = []string{p}
	}
	var statusItems []string
	if b, _ := c.dec.PeekByte(); b == ' ' && !lsub {
		var err error
		if statusItems, err = c.readListReturnOptions(opts); err != nil {
			return err
		}
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	lw := listWriter{w: c.w, c: c, name: cmd.name, statusItems: statusItems}
	delimRequest := !opts.Extended && patterns[0] == "" && !lsub
	if c.enabled(ExtIMAP4rev2) && !lsub {
		// RFC 9051 §6.3.9: LIST-EXTENDED's semantics are the base LIST
		// of IMAP4rev2 (\NonExistent); LIST ref "" still asks for the
		// delimiter.
		opts.Extended = true
	}
	if delimRequest {
		// LIST ref "" asks for the delimiter and the root name
		// (RFC 3501 §6.3.8); with one flat namespace the root is "".
		// An extended LIST never means this (RFC 5258 §3).
		lw.w.enc.Atom("*").SP().Atom("LIST").SP().Special('(').Atom(string(imap.MailboxAttrNoSelect)).Special(')').
			SP().Quoted(string(hierarchyDelim)).SP().Quoted("")
		return lw.w.end()
	}
	return errorf(cmd, c.session.List(c.ctx, lw, ref, patterns, opts))
}

// readListSelectOptions reads list-select-opts (RFC 5258 §6, RFC 6154 §6).
// Unknown options are answered BAD (RFC 5258 §3), as is RECURSIVEMATCH
// without a base option to modify (§3.1).
func (c *conn) readListSelectOptions(opts *imap.ListOptions) error {
	opts.Extended = true
	ok := c.dec.ExpectList(func() error {
		var o string
		if !c.dec.ExpectAtom(&o) {
			return c.decErr()
		}
		switch strings.ToUpper(o) {
		case "SUBSCRIBED":
			opts.SelectSubscribed = true
		case "REMOTE":
			opts.SelectRemote = true
		case "RECURSIVEMATCH":
			opts.SelectRecursiveMatch = true
		case "SPECIAL-USE":
			opts.SelectSpecialUse = true
		default:
			return imap.BAD("", "Unknown LIST selection option")
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	if opts.SelectRecursiveMatch && !opts.SelectSubscribed && !opts.SelectSpecialUse {
		return imap.BAD("", "RECURSIVEMATCH needs another selection option")
	}
	return nil
}

// readListReturnOptions reads SP list-return-opts (RFC 5258 §6, RFC 5819
// §4, RFC 6154 §6) and returns the STATUS items in the client's order.
func (c *conn) readListReturnOptions(opts *imap.ListOptions) ([]string, error) {
	var kw string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&kw) {
		return nil, c.decErr()
	}
	if !strings.EqualFold(kw, "RETURN") {
		return nil, imap.BAD("", "Expected RETURN after the LIST patterns")
	}
	if !c.dec.ExpectSP() {
		return nil, c.decErr()
	}
	opts.Extended = true
	var statusItems []string
	ok := c.dec.ExpectList(func() error {
		var o string
		if !c.dec.ExpectAtom(&o) {
			return c.decErr()
		}
		switch strings.ToUpper(o) {
		case "SUBSCRIBED":
			opts.ReturnSubscribed = true
		case "CHILDREN":
			opts.ReturnChildren = true
		case "SPECIAL-USE":
			opts.ReturnSpecialUse = true
		case "STATUS":
			if !c.dec.ExpectSP() {
				return c.decErr()
			}
			so, items, err := c.readStatusItems()
			if err != nil {
				return err
			}
			opts.ReturnStatus, statusItems = so, items
		default:
			return imap.BAD("", "Unknown LIST return option")
		}
		return nil
	})
	if !ok {
		return nil, c.decErr()
	}
	return statusItems, nil
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
