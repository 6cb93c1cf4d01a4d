package imapserver

import (
	"strconv"

	"github.com/postern/postern/internal/imap"
)

// handleGetQuota is GETQUOTA quota-root (RFC 9208 §4.1.1).
func handleGetQuota(c *conn, cmd *command) error {
	var root string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&root) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	q, err := c.session.(SessionQuota).GetQuota(c.ctx, root)
	if err != nil {
		return errorf(cmd, err)
	}
	c.writeQuota(q)
	return nil
}

// handleGetQuotaRoot is GETQUOTAROOT mailbox (RFC 9208 §4.1.2): the
// QUOTAROOT response, then a QUOTA response per root.
func handleGetQuotaRoot(c *conn, cmd *command) error {
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectMailbox(&name) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	qs, err := c.session.(SessionQuota).GetQuotaRoot(c.ctx, name)
	if err != nil {
		return errorf(cmd, err)
	}
	enc := c.w.enc
	enc.Atom("*").SP().Atom("QUOTAROOT").SP().Mailbox(name)
	for _, q := range qs {
		enc.SP().AString(q.Root)
	}
	c.w.end()
	for _, q := range qs {
		c.writeQuota(q)
	}
	return nil
}

// handleSetQuota is SETQUOTA (RFC 9208 §4.1.3). Limits come from the
// configuration, so it is parsed and refused: QUOTASET is not advertised.
func handleSetQuota(c *conn, cmd *command) error {
	var root string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&root) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	ok := c.dec.ExpectList(func() error {
		var res string
		var limit int64
		if !c.dec.ExpectAtom(&res) || !c.dec.ExpectSP() || !c.dec.ExpectNumber64(&limit) {
			return c.decErr()
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	return imap.NO(imap.CodeNoPerm, "Quota limits are set by the administrator")
}

// writeQuota writes "* QUOTA root (resource usage limit ...)" (RFC 9208
// §4.2.1).
func (c *conn) writeQuota(q *imap.QuotaData) {
	enc := c.w.enc
	enc.Atom("*").SP().Atom("QUOTA").SP().AString(q.Root).SP()
	enc.List(len(q.Resources), func(i int) {
		r := q.Resources[i]
		enc.Atom(r.Name).SP().Atom(strconv.FormatInt(r.Usage, 10)).SP().Atom(strconv.FormatInt(r.Limit, 10))
	})
	c.w.end()
}
