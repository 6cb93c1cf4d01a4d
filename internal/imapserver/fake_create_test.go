package imapserver

import (
	"context"
	"fmt"

	"github.com/postern/postern/internal/imap"
)

var _ SessionCreateOptions = (*fakeSession)(nil)

// CreateWithOptions is CREATE with USE (RFC 6154 §3) and MAILBOXID (RFC
// 8474 §4.1) in the fake: virtual uses and more than one use are refused,
// as the real backend does; the ID counts the mailboxes.
func (s *fakeSession) CreateWithOptions(ctx context.Context, name string, opts *imap.CreateOptions) (*imap.CreateData, error) {
	if len(opts.SpecialUse) > 1 {
		return nil, imap.NO(imap.CodeUseAttr, "Only one special use per mailbox")
	}
	for _, u := range opts.SpecialUse {
		if u == imap.MailboxAttrAll || u == imap.MailboxAttrFlagged {
			return nil, imap.NO(imap.CodeUseAttr, "Unsupported special use "+string(u))
		}
	}
	if err := s.Create(ctx, name); err != nil {
		return nil, err
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.lastCreate = opts
	return &imap.CreateData{MailboxID: fmt.Sprintf("F%d", len(s.st.mailboxes))}, nil
}
