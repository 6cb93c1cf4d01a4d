package imapbackend

import (
	"context"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// matchExt evaluates the criteria of the message-level extensions: the
// save date (RFC 8514 §4.3: by day in the server's time zone, as for the
// internal date; a message without one matches none), EMAILID and THREADID
// (RFC 8474 §6), compared exactly (object IDs are case-sensitive, §4).
func (ev *evaluator) matchExt(ctx context.Context, c *imap.SearchCriteria, m *searchMsg) (bool, error) {
	if !c.SavedSince.IsZero() || !c.SavedBefore.IsZero() || !c.SavedOn.IsZero() {
		if m.info == nil {
			return false, mailstore.ErrNotExist
		}
		if m.info.SaveDate.IsZero() || !dayMatch(m.info.SaveDate.In(ev.loc), c.SavedSince, c.SavedBefore, c.SavedOn) {
			return false, nil
		}
	}
	if len(c.EmailID) == 0 && len(c.ThreadID) == 0 {
		return true, nil
	}
	root, err := m.part(ctx)
	if err != nil {
		return false, err
	}
	emailID, threadID := objectIDs(root, m.info)
	for _, id := range c.EmailID {
		if id != emailID {
			return false, nil
		}
	}
	for _, id := range c.ThreadID {
		if id != threadID {
			return false, nil
		}
	}
	return true, nil
}
