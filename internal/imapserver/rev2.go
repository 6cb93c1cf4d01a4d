package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// IMAP4rev2 mode (RFC 9051), on once the client sent ENABLE IMAP4rev2
// (RFC 9051 §6.3.1; c.enabled(ExtIMAP4rev2)), and UTF-8 mode (RFC 6855).
//
// RFC 9051 Appendix E, item by item, and where each is handled:
//
//  1. 64-bit sizes: imapwire Number64 and literal8; BINARY is the message
//     helper's.
//  2. Folded-in extensions: NAMESPACE, UNSELECT, UIDPLUS, ENABLE, IDLE,
//     SASL-IR, MOVE are here already; LITERAL- is covered by LITERAL+
//     (capability.go, handled by imapwire); ESEARCH and SEARCHRES are the
//     search helper's; LIST-EXTENDED and LIST-STATUS the LIST helper's;
//     the FETCH side of BINARY the message helper's; RFC 5530 codes are
//     in imap.
//  3. STATUS SIZE and DELETED: the LIST/STATUS helper's.
//  4. ESEARCH instead of SEARCH once rev2 is on: the search helper's
//     (c.enabled(ExtIMAP4rev2) in search.go).
//  5. Substring matching of SEARCH keys: imapbackend, unchanged.
//  6. RFC 2231 continuations: internal/message.
//  7. COPYUID for MOVE and UID MOVE: copy.go already.
//  8. COPY/MOVE never create the target, TRYCREATE: the backend already.
//  9. [CLOSED] on SELECT while selected: the CONDSTORE/QRESYNC helper's.
//  10. Untagged LIST in SELECT's answer: writeSelectList (the
//     session's own LIST line, so the attributes are accurate; OLDNAME
//     is not needed, names are not normalised).
//  11. No UNSEEN code in SELECT: writeSelectData (select.go).
//  12. No RECENT response, no \Recent flag: writer.rev2 (WriteRecent,
//     flagList, visibleFlags) covers SELECT, Poll, IDLE, FETCH, STORE,
//     FLAGS and PERMANENTFLAGS. STATUS RECENT and SEARCH NEW/RECENT/OLD
//     are still accepted (harmless, RFC 9051 only deprecates them):
//     \Recent is then never set as far as a rev2 client is told.
//  13. No new PERMANENTFLAGS after a keyword is added under \*: the
//     backend already sends FLAGS only.
//  14. tagged-ext-simple with number64: no tagged-ext parsing yet.
//  15. $MDNSent, $Forwarded, $Junk, $NonJunk, $Phishing: keywords the
//     store keeps like any other.
//  16. UTF-8 mailbox names: applyModes puts the decoder and encoder in
//     UTF-8 mode for rev2 as for UTF8=ACCEPT.
//  17. CHECK removed: still accepted, as NOOP (harmless).
//  18. RFC822.* fetch items deprecated: still served.
//  19. LSUB deprecated: still served.
//  20. IDLE may report other mailboxes: nothing to change (NOTIFY is not
//     offered).
//  21. Unsolicited FETCH must carry UID: UpdateWriter.WriteMessageFlags
//     takes the UID; imapbackend passes it once rev2 (SessionEnable) or
//     CONDSTORE (RFC 7162 §3.2.4 asks the same) is on.
//  22. Unknown response codes: a client rule.
//  23. Empty resp-text: a client rule; we always send text.
//  24. UTF-8 in response text: our texts are ASCII.
//  25-30. TLS, ALERT, PREAUTH, SASL mechanisms, IANA, connection
//     closing: unchanged (TLS 1.2+ already; see DESIGN.md §5).

// errCharsetAfterUTF8 refuses SEARCH CHARSET once UTF8=ACCEPT is enabled
// (RFC 6855 §3: the client MUST NOT send it, and the server SHOULD answer
// BAD, the two charset labels conflicting).
var errCharsetAfterUTF8 = imap.BAD("", "SEARCH CHARSET is not allowed after ENABLE UTF8=ACCEPT")

// utf8Mode reports whether quoted strings and mailbox names travel as
// UTF-8 on this connection: after ENABLE UTF8=ACCEPT (RFC 6855 §3) or
// ENABLE IMAP4rev2 (RFC 9051 §5.1, Appendix E item 16).
//
// It is also the hook for APPEND's UTF8 data extension (RFC 6855 §4: with
// UTF8=ACCEPT enabled a message with UTF-8 headers comes as UTF8 (literal8);
// without it such an APPEND is refused NO): the APPEND code asks
// c.enabled(ExtUTF8Accept).
func (c *conn) utf8Mode() bool {
	return c.enabled(ExtUTF8Accept) || c.enabled(ExtIMAP4rev2)
}

// applyModes puts the decoder and writer in the modes the enabled
// extensions ask for. It is called by enable, and the decoder made after
// STARTTLS or COMPRESS takes the mode from newDecoder.
func (c *conn) applyModes() {
	u := c.utf8Mode()
	if c.dec != nil {
		c.dec.SetUTF8(u)
	}
	if c.w != nil {
		c.w.enc.SetUTF8(u)
		c.w.rev2 = c.enabled(ExtIMAP4rev2)
	}
}

// writeSelectList writes the untagged LIST that SELECT and EXAMINE
// answer with in IMAP4rev2 (RFC 9051 §6.3.2: the mailbox name with
// accurate attributes), before the tagged OK as in the RFC's example. The
// session lists the name as a pattern and only the exact match is kept
// (the name may hold "%" or "*"). A failure is logged, not the client's.
func (c *conn) writeSelectList(name string) {
	lw := &exactListWriter{lw: listWriter{w: c.w, name: "LIST"}, name: name}
	if err := c.session.List(c.ctx, lw, "", []string{name}, &imap.ListOptions{}); err != nil {
		c.log.Warn("imapserver: LIST for SELECT", "err", err)
		return
	}
	if !lw.found {
		// A store that selects what it does not list: still the
		// required response, without attributes.
		lw.lw.WriteList(&imap.ListData{Delim: hierarchyDelim, Mailbox: name})
	}
}

// exactListWriter passes on the LIST line of one mailbox only.
type exactListWriter struct {
	lw    listWriter
	name  string
	found bool
}

func (e *exactListWriter) WriteList(d *imap.ListData) error {
	if d.Mailbox != e.name && !(e.name == "INBOX" && strings.EqualFold(d.Mailbox, "INBOX")) {
		return nil
	}
	if e.found {
		return nil
	}
	e.found = true
	return e.lw.WriteList(d)
}

// visibleFlags returns flags without \Recent in IMAP4rev2 mode (RFC 9051
// Appendix E item 12: the flag does not exist there), flags itself
// otherwise.
func (w *writer) visibleFlags(flags []imap.Flag) []imap.Flag {
	if !w.rev2 {
		return flags
	}
	for i, f := range flags {
		if f != imap.FlagRecent {
			continue
		}
		out := make([]imap.Flag, 0, len(flags)-1)
		out = append(out, flags[:i]...)
		for _, g := range flags[i+1:] {
			if g != imap.FlagRecent {
				out = append(out, g)
			}
		}
		return out
	}
	return flags
}
