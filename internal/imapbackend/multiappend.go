package imapbackend

import (
	"context"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
)

var _ imapserver.SessionMultiAppend = (*session)(nil)

// AppendUndo implements imapserver.SessionMultiAppend: it expunges the
// messages a failed MULTIAPPEND had stored (RFC 3502 §6.3.11), so that the
// mailbox is as before the command. Another session may have seen them
// come and go (EXISTS then EXPUNGE); this session, which polls only after
// the command, sees nothing.
func (s *session) AppendUndo(ctx context.Context, mailbox string, appended []*imap.AppendData) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return err
	}
	var uids []uint32
	for _, d := range appended {
		if d != nil && d.UID != 0 {
			uids = append(uids, d.UID)
		}
	}
	if len(uids) == 0 {
		return nil
	}
	mb, done, err := s.mailboxNamed(ctx, name)
	if err != nil {
		return storeError("open for APPEND rollback", err)
	}
	defer done()
	if _, err := mb.Expunge(ctx, uids); err != nil {
		return storeError("APPEND rollback", err)
	}
	return nil
}
