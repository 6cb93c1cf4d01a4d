package imapbackend

import (
	"context"

	"github.com/postern/postern/internal/imap"
)

// matchExt evaluates the criteria of the message-level extensions: EMAILID
// and THREADID (RFC 8474 §6), compared exactly (object IDs are
// case-sensitive, §4).
func (ev *evaluator) matchExt(ctx context.Context, c *imap.SearchCriteria, m *searchMsg) (bool, error) {
	if len(c.EmailID) == 0 && len(c.ThreadID) == 0 {
		return true, nil
	}
	root, err := m.part(ctx)
	if err != nil {
		return false, err
	}
	emailID, threadID, err := m.src.objectIDs(ctx, root)
	if err != nil {
		return false, err
	}
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
