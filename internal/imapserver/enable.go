package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// Extensions a client can turn on with ENABLE (RFC 5161 §3.1): each
// changes what the server may send, so it must wait for the client's word.
const (
	ExtCondStore  = "CONDSTORE"   // RFC 7162 §3.1: MODSEQ in FETCH responses
	ExtQResync    = "QRESYNC"     // RFC 7162 §3.2: VANISHED instead of EXPUNGE
	ExtIMAP4rev2  = "IMAP4REV2"   // RFC 9051 §6.3.1: rev2 semantics
	ExtUTF8Accept = "UTF8=ACCEPT" // RFC 6855 §3: UTF-8 quoted strings
)

// enableable lists, in the spelling the server answers with, the
// extensions ENABLE accepts; a name is accepted only while the
// capability is advertised (enableOffered).
var enableable = []string{"CONDSTORE", "QRESYNC", "IMAP4rev2", "UTF8=ACCEPT"}

// SessionEnable is implemented by sessions that change behaviour when the
// client enables an extension (the backend keeps QRESYNC's state, say).
// Enable is called once per extension, after the server accepted it.
type SessionEnable interface {
	Enable(ext string)
}

// enabled reports whether the client turned ext (one of the Ext
// constants) on.
func (c *conn) enabled(ext string) bool { return c.enabledExt[ext] }

// enable turns ext on, and on the extensions it implies (RFC 7162 §3.2.3:
// QRESYNC implies CONDSTORE). It reports whether ext was newly enabled.
func (c *conn) enable(ext string) bool {
	ext = strings.ToUpper(ext)
	if c.enabledExt[ext] {
		return false
	}
	if c.enabledExt == nil {
		c.enabledExt = make(map[string]bool)
	}
	c.enabledExt[ext] = true
	c.applyModes()
	if s, ok := c.session.(SessionEnable); ok {
		s.Enable(ext)
	}
	if ext == ExtQResync {
		c.enable(ExtCondStore)
	}
	return true
}

// enableOffered reports whether ENABLE may turn ext on: the extension is
// one ENABLE knows and the connection advertises it now.
func (c *conn) enableOffered(ext string) (canonical string, ok bool) {
	for _, e := range enableable {
		if !strings.EqualFold(e, ext) {
			continue
		}
		for _, cp := range c.capabilities() {
			if strings.EqualFold(cp, e) {
				return e, true
			}
		}
	}
	return "", false
}

// handleEnable is ENABLE (RFC 5161 §3.1): unknown or unoffered names are
// ignored, and the untagged ENABLED lists only those newly enabled by this
// command.
func handleEnable(c *conn, cmd *command) error {
	var names []string
	for c.dec.SP() {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return imap.BAD("", "ENABLE needs at least one capability name")
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	var done []string
	wasCondStore := c.enabled(ExtCondStore)
	for _, name := range names {
		canon, ok := c.enableOffered(name)
		if !ok {
			continue
		}
		if c.enable(canon) {
			done = append(done, canon)
		}
	}
	w := c.w
	w.enc.Atom("*").SP().Atom("ENABLED")
	for _, e := range done {
		w.enc.SP().Atom(e)
	}
	if err := w.end(); err != nil {
		return err
	}
	if !wasCondStore && c.enabled(ExtCondStore) {
		// RFC 7162 §3.1: a first CONDSTORE enabling command with a
		// mailbox selected reports its HIGHESTMODSEQ.
		c.reportHighestModSeq()
	}
	return nil
}
