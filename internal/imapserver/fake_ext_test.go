package imapserver

import (
	"context"
	"slices"

	"github.com/postern/postern/internal/imap"
)

var _ SessionMultiAppend = (*fakeSession)(nil)

// AppendUndo removes the messages of a failed MULTIAPPEND (RFC 3502).
func (s *fakeSession) AppendUndo(ctx context.Context, name string, appended []*imap.AppendData) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	mb := s.st.mailboxes[name]
	if mb == nil {
		return imap.NO(imap.CodeNonExistent, "No such mailbox")
	}
	mb.msgs = slices.DeleteFunc(mb.msgs, func(m *fakeMsg) bool {
		return slices.ContainsFunc(appended, func(d *imap.AppendData) bool { return d.UID == m.uid })
	})
	s.st.notify()
	return nil
}
