package imapserver

import (
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// handleStore is STORE and UID STORE set op flags (RFC 3501 §6.4.6,
// §6.4.8).
func handleStore(c *conn, cmd *command) error {
	var (
		set imap.NumSet
		op  string
	)
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	if err := c.expectNumSet(&set); err != nil {
		return err
	}
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	sf := &imap.StoreFlags{}
	if b, _ := c.dec.PeekByte(); b == '(' {
		if err := c.readStoreModifiers(sf); err != nil {
			return err
		}
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
	}
	if !c.dec.ExpectAtom(&op) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	op = strings.ToUpper(op)
	if base, ok := strings.CutSuffix(op, ".SILENT"); ok {
		sf.Silent, op = true, base
	}
	switch op {
	case "FLAGS":
		sf.Op = imap.StoreFlagsSet
	case "+FLAGS":
		sf.Op = imap.StoreFlagsAdd
	case "-FLAGS":
		sf.Op = imap.StoreFlagsDel
	default:
		return imap.BAD("", "Invalid STORE operation")
	}
	flags, err := c.readFlagList(true)
	if err != nil {
		return err
	}
	sf.Flags = flags
	if err := c.endLine(cmd); err != nil {
		return err
	}
	cs, ok := c.condStore()
	if !ok {
		return errorf(cmd, c.session.Store(c.ctx, c.w, cmd.numKind(), set, sf))
	}
	if sf.Conditional {
		c.condStoreEnabling() // RFC 7162 §3.1
	}
	res, err := cs.StoreConditional(c.ctx, c.w, cmd.numKind(), set, sf)
	if err != nil {
		return errorf(cmd, err)
	}
	if res != nil && len(res.Modified.Ranges) > 0 {
		// RFC 7162 §3.1.3: the messages that failed UNCHANGEDSINCE.
		cmd.code, cmd.codeArg = imap.CodeModified, res.Modified.String()
		cmd.text = "Conditional STORE failed"
	}
	return nil
}

// readFlagList reads flag-list, or with bare also a flag list without
// parentheses (RFC 3501 §9 store-att-flags). \Recent is dropped: clients
// cannot set or clear it (RFC 3501 §2.3.2). Unknown system flags and \*
// are refused.
func (c *conn) readFlagList(bare bool) ([]imap.Flag, error) {
	flags := []imap.Flag{}
	n := 0 // flags read, \Recent included (MaxFlags)
	one := func() error {
		var f imap.Flag
		if !c.dec.ExpectFlag(&f) {
			return c.decErr()
		}
		f = imap.CanonicalFlag(f)
		if n++; n > c.srv.opts.MaxFlags {
			return imap.BAD(imap.CodeLimit, "More than "+strconv.Itoa(c.srv.opts.MaxFlags)+" flags")
		}
		switch {
		case f == imap.FlagRecent:
			return nil
		case strings.HasPrefix(string(f), `\`) && !isSystemFlag(f):
			return imap.BAD("", "Invalid system flag "+string(f))
		}
		flags = append(flags, f)
		return nil
	}
	if b, _ := c.dec.PeekByte(); b == '(' || !bare {
		if !c.dec.ExpectList(one) {
			return nil, c.decErr()
		}
		return flags, nil
	}
	for {
		if err := one(); err != nil {
			return nil, err
		}
		if !c.dec.SP() {
			return flags, nil
		}
	}
}

func isSystemFlag(f imap.Flag) bool {
	for _, sf := range imap.SystemFlags {
		if f == sf {
			return true
		}
	}
	return false
}
