package imapserver

import (
	"context"

	"github.com/postern/postern/internal/imap"
)

var _ SessionQuota = (*fakeSession)(nil)

// fakeQuota is the fake's one quota root, RFC 9208 §4.2.1's example.
var fakeQuota = imap.QuotaData{Root: "", Resources: []imap.QuotaResource{{Name: imap.QuotaStorage, Usage: 10, Limit: 512}}}

// GetQuota answers for the root "" only.
func (s *fakeSession) GetQuota(ctx context.Context, root string) (*imap.QuotaData, error) {
	if root != "" {
		return nil, imap.NO(imap.CodeNonExistent, "No such quota root")
	}
	q := fakeQuota
	return &q, nil
}

// GetQuotaRoot puts every existing mailbox under "".
func (s *fakeSession) GetQuotaRoot(ctx context.Context, name string) ([]*imap.QuotaData, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.mailboxes[name] == nil {
		return nil, errNoMailbox
	}
	q := fakeQuota
	return []*imap.QuotaData{&q}, nil
}
