package imapbackend

import (
	"errors"

	"github.com/postern/postern/internal/imap"
)

// expungeIssued ends a FETCH or STORE that met messages another session
// expunged and this one has not been told of yet (it may not be, during
// FETCH and STORE: RFC 9051 §7.5.1): the data that could be given was, and
// the tagged OK [EXPUNGEISSUED] (RFC 5530 §3, RFC 2180 §4.1) says why the
// rest is missing; the next NOOP brings the EXPUNGE. Before, such a FETCH
// answered a plain OK with no data, which reads as an empty message.
var expungeIssued = &imap.Error{Type: imap.StatusOK, Code: imap.CodeExpungeIssued,
	Text: "Some messages were expunged by another session"}

// errExpungeIssued refuses a COPY or MOVE of such messages and copies none
// of the set: COPY is all or nothing (RFC 9051 §6.4.7), and Dovecot
// answers the same. Before, the messages left were copied and the command
// answered OK, so that the client believed all were.
var errExpungeIssued = imap.NO(imap.CodeExpungeIssued, "Some of the messages no longer exist")

// errGoneMeanwhile is fetchMessage's report that the store no longer has
// the message.
var errGoneMeanwhile = errors.New("imapbackend: message expunged meanwhile")

// anyGone reports whether a message of idx was expunged by another session
// and not yet reported to this one.
func (sel *selected) anyGone(idx []int) bool {
	if len(sel.gone) == 0 {
		return false
	}
	for _, i := range idx {
		if _, ok := sel.gone[sel.uids[i]]; ok {
			return true
		}
	}
	return false
}
