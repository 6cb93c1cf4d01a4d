package imapserver

import (
	"context"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// SessionCondStore is implemented by sessions that keep per-message
// mod-sequences (RFC 7162). The server advertises CONDSTORE and QRESYNC
// only for them, parses the modifiers and select parameters, and tells the
// session through SessionEnable.Enable when the client turned CONDSTORE or
// QRESYNC on (explicitly with ENABLE, or implicitly with a CONDSTORE
// enabling command, RFC 7162 §3.1). From then on the session writes MODSEQ
// and UID in every unsolicited FETCH (§3.1, §3.2.4) and, once QRESYNC is
// on, VANISHED instead of EXPUNGE (§3.2.10), through the ModSeqWriter
// methods of the writers the server passes.
type SessionCondStore interface {
	Session
	SessionEnable
	// HighestModSeq returns the HIGHESTMODSEQ of the selected mailbox as
	// far as the client has been told about its changes: never above the
	// MODSEQ of an expunge not yet reported (RFC 7162 §3.2), so that a
	// client that loses the connection resynchronizes from there.
	HighestModSeq(ctx context.Context) (uint64, error)
	// StoreConditional is Store with the result of the UNCHANGEDSINCE
	// test (RFC 7162 §3.1.3). Once CONDSTORE is enabled it writes, even
	// for .SILENT, a FETCH with UID and MODSEQ for each changed message.
	StoreConditional(ctx context.Context, w FetchWriter, kind imap.NumKind, numSet imap.NumSet, flags *imap.StoreFlags) (*imap.StoreResult, error)
	// Resync answers the QRESYNC select parameter once the mailbox is
	// selected (RFC 7162 §3.2.5): nothing when the UIDVALIDITY differs,
	// else VANISHED (EARLIER) for the known UIDs expunged since q.ModSeq,
	// then FETCH (UID FLAGS MODSEQ) for the known messages changed since.
	// w implements ModSeqWriter.
	Resync(ctx context.Context, w FetchWriter, q *imap.SelectQResync) error
}

// ModSeqWriter writes the responses RFC 7162 adds. The UpdateWriter and
// FetchWriter the server passes to sessions implement it; sessions find it
// by type assertion.
type ModSeqWriter interface {
	// WriteVanished writes "* VANISHED uids", or with earlier
	// "* VANISHED (EARLIER) uids" (RFC 7162 §3.2.10).
	WriteVanished(uids imap.NumSet, earlier bool) error
	// WriteMessageModSeq writes an unsolicited
	// "* seq FETCH (UID uid FLAGS (...) MODSEQ (n))" (RFC 7162 §3.1.4.2,
	// §3.2.4); UID is left out when uid is 0 and FLAGS when flags is nil.
	WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error
}

var (
	_ ModSeqWriter = (*writer)(nil)
	_ ModSeqWriter = (*deferredUpdates)(nil)
	_ ModSeqWriter = (*idleWriter)(nil)
)

// condStore returns the session's SessionCondStore, if it is one.
func (c *conn) condStore() (SessionCondStore, bool) {
	s, ok := c.session.(SessionCondStore)
	return s, ok
}

// condStoreEnabling runs the effect of a CONDSTORE enabling command
// (RFC 7162 §3.1): the extension is on from now, and the first such
// command with a mailbox selected reports its HIGHESTMODSEQ.
func (c *conn) condStoreEnabling() {
	if c.enabled(ExtCondStore) {
		return
	}
	c.enable(ExtCondStore)
	c.reportHighestModSeq()
}

// reportHighestModSeq writes "* OK [HIGHESTMODSEQ n]" for the selected
// mailbox (RFC 7162 §3.1, example 5).
func (c *conn) reportHighestModSeq() {
	s, ok := c.condStore()
	if !ok || c.state != imap.StateSelected {
		return
	}
	n, err := s.HighestModSeq(c.ctx)
	if err != nil {
		c.log.Warn("imapserver: highest modseq", "err", err)
		return
	}
	if n > 0 {
		c.w.status("*", imap.StatusOK, imap.CodeHighestModSeq, strconv.FormatUint(n, 10), "Highest")
	}
}

// setHighestModSeqCode puts HIGHESTMODSEQ in the tagged OK of a command
// that expunged messages while QRESYNC is on (RFC 7162 §3.2.7, §3.2.9,
// RFC 6851 §4.4); vanishedBefore is the writer's VANISHED count before the
// command ran.
func (c *conn) setHighestModSeqCode(cmd *command, vanishedBefore int) {
	s, ok := c.condStore()
	if !ok || !c.enabled(ExtQResync) || c.w.vanished == vanishedBefore || cmd.code != "" {
		return
	}
	if n, err := s.HighestModSeq(c.ctx); err == nil && n > 0 {
		cmd.code, cmd.codeArg = imap.CodeHighestModSeq, strconv.FormatUint(n, 10)
	}
}

// readModSeq reads a mod-sequence-value (RFC 7162 §7: 1*DIGIT, at most
// 2^63-1); zero is refused unless allowZero (mod-sequence-valzer).
func (c *conn) readModSeq(allowZero bool) (uint64, error) {
	var a string
	if !c.dec.ExpectAtom(&a) {
		return 0, c.decErr()
	}
	n, err := strconv.ParseUint(a, 10, 63)
	if err != nil || a[0] < '0' || a[0] > '9' || (n == 0 && !allowZero) {
		return 0, imap.BAD("", "Invalid mod-sequence")
	}
	return n, nil
}

// readSelectParams reads the optional select parameters after the mailbox
// name (RFC 4466 §2.1): CONDSTORE (RFC 7162 §3.1.8) and QRESYNC
// (§3.2.5). QRESYNC before ENABLE QRESYNC is BAD (§3.2.3).
func (c *conn) readSelectParams(opts *imap.SelectOptions) error {
	if _, ok := c.condStore(); !ok {
		return imap.BAD("", "Unknown SELECT parameter")
	}
	ok := c.dec.ExpectList(func() error {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			opts.CondStore = true
		case "QRESYNC":
			if !c.enabled(ExtQResync) {
				return imap.BAD(imap.CodeClientBug, "QRESYNC must be enabled first")
			}
			if opts.QResync != nil {
				return imap.BAD("", "QRESYNC given twice")
			}
			q := &imap.SelectQResync{}
			if !c.dec.ExpectSP() {
				return c.decErr()
			}
			if !c.dec.ExpectList(func() error { return c.readQResyncParams(q) }) {
				return c.decErr()
			}
			if q.UIDValidity == 0 || q.ModSeq == 0 {
				return imap.BAD("", "QRESYNC needs a UIDVALIDITY and a mod-sequence")
			}
			opts.QResync = q
		default:
			return imap.BAD("", "Unknown SELECT parameter")
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	return nil
}

// readQResyncParams reads the inside of the QRESYNC parameter list:
// uidvalidity SP mod-sequence-value [SP known-uids [SP seq-match-data]]
// (RFC 7162 §7). ExpectList calls it once, at the first element; it
// reads them all.
func (c *conn) readQResyncParams(q *imap.SelectQResync) error {
	if q.UIDValidity != 0 {
		return imap.BAD("", "Invalid QRESYNC parameter")
	}
	if !c.dec.ExpectNZNumber(&q.UIDValidity) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	var err error
	if q.ModSeq, err = c.readModSeq(false); err != nil {
		return err
	}
	if !c.dec.SP() {
		return nil
	}
	if b, _ := c.dec.PeekByte(); b != '(' {
		var known imap.NumSet
		if err := c.expectNumSet(&known); err != nil {
			return err
		}
		q.KnownUIDs = &known
		if !c.dec.SP() {
			return nil
		}
	}
	var seqs, uids imap.NumSet
	ok := c.dec.ExpectList(func() error {
		if len(seqs.Ranges) > 0 {
			return imap.BAD("", "Invalid QRESYNC sequence match data")
		}
		if err := c.expectNumSet(&seqs); err != nil {
			return err
		}
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
		return c.expectNumSet(&uids)
	})
	if !ok {
		return c.decErr()
	}
	if len(seqs.Ranges) == 0 || seqs.Dynamic() || uids.Dynamic() {
		return imap.BAD("", "Invalid QRESYNC sequence match data")
	}
	q.KnownSeqs, q.KnownSeqUIDs = &seqs, &uids
	return nil
}

// readFetchModifiers reads the FETCH modifier list (RFC 4466 §2.4):
// CHANGEDSINCE (RFC 7162 §3.1.4.1) and, for UID FETCH after ENABLE
// QRESYNC, VANISHED (§3.2.6).
func (c *conn) readFetchModifiers(cmd *command, opts *imap.FetchOptions) error {
	if _, ok := c.condStore(); !ok {
		return imap.BAD("", "Unknown FETCH modifier")
	}
	changedSince := false
	ok := c.dec.ExpectList(func() error {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		switch strings.ToUpper(name) {
		case "CHANGEDSINCE":
			if !c.dec.ExpectSP() {
				return c.decErr()
			}
			// 0 is not a mod-sequence-value, but it plainly means
			// "everything": tolerated.
			v, err := c.readModSeq(true)
			if err != nil {
				return err
			}
			opts.ChangedSince, changedSince = v, true
		case "VANISHED":
			opts.Vanished = true
		default:
			return imap.BAD("", "Unknown FETCH modifier")
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	if opts.Vanished {
		switch {
		case !cmd.uid:
			return imap.BAD("", "VANISHED is only allowed with UID FETCH")
		case !c.enabled(ExtQResync):
			return imap.BAD(imap.CodeClientBug, "QRESYNC must be enabled first")
		case !changedSince:
			return imap.BAD("", "VANISHED needs CHANGEDSINCE")
		}
	}
	if changedSince {
		opts.ModSeq = true // RFC 7162 §3.1.4.1: implied
	}
	return nil
}

// readStoreModifiers reads the STORE modifier list (RFC 4466 §2.5):
// UNCHANGEDSINCE (RFC 7162 §3.1.3), whose value may be 0.
func (c *conn) readStoreModifiers(sf *imap.StoreFlags) error {
	if _, ok := c.condStore(); !ok {
		return imap.BAD("", "Unknown STORE modifier")
	}
	ok := c.dec.ExpectList(func() error {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		if !strings.EqualFold(name, "UNCHANGEDSINCE") || sf.Conditional {
			return imap.BAD("", "Unknown STORE modifier")
		}
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
		v, err := c.readModSeq(true)
		if err != nil {
			return err
		}
		sf.UnchangedSince, sf.Conditional = v, true
		return nil
	})
	if !ok {
		return c.decErr()
	}
	return nil
}

// readSearchModSeq reads the rest of the MODSEQ search key
// (RFC 7162 §3.1.5): [entry-name SP entry-type-req SP] mod-sequence-valzer.
// We keep one mod-sequence per message, so the entry is checked and
// ignored, as the RFC says.
func (p *searchParser) readSearchModSeq(crit *imap.SearchCriteria) error {
	dec := p.c.dec
	if _, ok := p.c.condStore(); !ok {
		return imap.BAD("", "Unknown search key")
	}
	if !dec.ExpectSP() {
		return p.c.decErr()
	}
	if b, _ := dec.PeekByte(); b == '"' {
		var entry, typ string
		if !dec.ExpectQuoted(&entry) || !dec.ExpectSP() || !dec.ExpectAtom(&typ) || !dec.ExpectSP() {
			return p.c.decErr()
		}
		if !strings.HasPrefix(strings.ToLower(entry), "/flags/") {
			return imap.BAD("", "Invalid MODSEQ entry name")
		}
		switch strings.ToLower(typ) {
		case "priv", "shared", "all":
		default:
			return imap.BAD("", "Invalid MODSEQ entry type")
		}
	}
	v, err := p.c.readModSeq(true)
	if err != nil {
		return err
	}
	p.modSeq = true
	andCriteria(crit, &imap.SearchCriteria{ModSeq: max(v, 1)})
	return nil
}

// WriteVanished writes "* VANISHED [(EARLIER) ]uids" (RFC 7162 §3.2.10).
func (w *writer) WriteVanished(uids imap.NumSet, earlier bool) error {
	w.vanished++
	w.enc.Atom("*").SP().Atom("VANISHED").SP()
	if earlier {
		w.enc.Special('(').Atom("EARLIER").Special(')').SP()
	}
	w.enc.Atom(uids.String())
	return w.end()
}

// WriteMessageModSeq writes an unsolicited FETCH with UID, FLAGS and
// MODSEQ (RFC 7162 §3.2.4), in the order the RFC's examples use.
func (w *writer) WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error {
	mw := w.Message(seq)
	if uid != 0 {
		mw.WriteUID(uid)
	}
	if flags != nil {
		mw.WriteFlags(flags)
	}
	mw.WriteModSeq(modSeq)
	return mw.Close()
}

func (d *deferredUpdates) WriteVanished(uids imap.NumSet, earlier bool) error {
	return d.add(func(w UpdateWriter) error { return w.(ModSeqWriter).WriteVanished(uids, earlier) })
}

func (d *deferredUpdates) WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error {
	return d.add(func(w UpdateWriter) error { return w.(ModSeqWriter).WriteMessageModSeq(seq, uid, flags, modSeq) })
}

func (iw *idleWriter) WriteVanished(uids imap.NumSet, earlier bool) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteVanished(uids, earlier)
}

func (iw *idleWriter) WriteMessageModSeq(seq, uid uint32, flags []imap.Flag, modSeq uint64) error {
	iw.mu.Lock()
	defer iw.mu.Unlock()
	return iw.w.WriteMessageModSeq(seq, uid, flags, modSeq)
}
