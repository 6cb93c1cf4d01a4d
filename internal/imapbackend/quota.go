package imapbackend

import (
	"context"
	"slices"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

var _ imapserver.SessionQuota = (*session)(nil)

// quotaRoot is the one quota root of a user, over all their mailboxes, as
// Dovecot names it for a user quota (RFC 9208 §3.2: names are opaque).
const quotaRoot = ""

// quotaLimits returns the user's limits: the account's own quota rules
// (auth.QuotaRules, Dovecot's userdb_quota_rule) where it has them, else
// Options.QuotaStorage and Options.QuotaMessages. 0 means no limit.
func (s *session) quotaLimits() (storage, messages int64) {
	storage, messages = s.b.opts.QuotaStorage, s.b.opts.QuotaMessages
	if s.user == nil {
		return storage, messages
	}
	q, err := auth.QuotaRules(s.user.Extra)
	if err != nil {
		// A broken rule must not lock the user out: the defaults apply.
		s.b.opts.Logger.Warn("imapbackend: quota rule ignored", "user", s.user.Name, "err", err)
		return storage, messages
	}
	if q.Storage >= 0 {
		storage = q.Storage
	}
	if q.Messages >= 0 {
		messages = q.Messages
	}
	return storage, messages
}

// quotaUsage sums the sizes and message counts of every mailbox from the
// store's index (mailstore.Store.Status never opens message files).
func (s *session) quotaUsage(ctx context.Context) (size, messages int64, err error) {
	infos, err := s.store.List(ctx)
	if err != nil {
		return 0, 0, storeError("quota list", err)
	}
	for _, in := range infos {
		if in.NoSelect {
			continue
		}
		st, err := s.store.Status(ctx, in.Name)
		if err != nil {
			continue // deleted meanwhile
		}
		size += st.Size
		messages += int64(st.Messages)
	}
	return size, messages, nil
}

// quotaData is the QUOTA response of the user's root (RFC 9208 §4.2.1):
// only limited resources are listed; STORAGE counts units of 1024 octets
// (§5.1), usage rounded up, the limit down, so a full quota shows as full.
func (s *session) quotaData(ctx context.Context) (*imap.QuotaData, error) {
	q := &imap.QuotaData{Root: quotaRoot}
	maxSize, maxMsgs := s.quotaLimits()
	if maxSize == 0 && maxMsgs == 0 {
		return q, nil
	}
	size, msgs, err := s.quotaUsage(ctx)
	if err != nil {
		return nil, err
	}
	if maxSize > 0 {
		q.Resources = append(q.Resources, imap.QuotaResource{Name: imap.QuotaStorage, Usage: (size + 1023) / 1024, Limit: maxSize / 1024})
	}
	if maxMsgs > 0 {
		q.Resources = append(q.Resources, imap.QuotaResource{Name: imap.QuotaMessage, Usage: msgs, Limit: maxMsgs})
	}
	return q, nil
}

// GetQuota implements imapserver.SessionQuota (RFC 9208 §4.1.1).
func (s *session) GetQuota(ctx context.Context, root string) (*imap.QuotaData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	if root != quotaRoot {
		return nil, imap.NO(imap.CodeNonExistent, "No such quota root")
	}
	return s.quotaData(ctx)
}

// GetQuotaRoot implements imapserver.SessionQuota (RFC 9208 §4.1.2):
// every mailbox is under the user's one root.
func (s *session) GetQuotaRoot(ctx context.Context, mailbox string) ([]*imap.QuotaData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Status(ctx, name); err != nil {
		return nil, storeError("quota root", err)
	}
	q, err := s.quotaData(ctx)
	if err != nil {
		return nil, err
	}
	return []*imap.QuotaData{q}, nil
}

// checkQuota refuses, with NO [OVERQUOTA] (RFC 9208 §4.3.1), adding
// messages of addSize octets in all when that would take the user past a
// limit. addSize is called only when a storage limit is set (COPY sums the
// sizes from the index). MOVE between a user's mailboxes changes no usage
// and is not checked.
func (s *session) checkQuota(ctx context.Context, addSize func() (int64, error), addMsgs int64) error {
	maxSize, maxMsgs := s.quotaLimits()
	if maxSize == 0 && maxMsgs == 0 {
		return nil
	}
	size, msgs, err := s.quotaUsage(ctx)
	if err != nil {
		return err
	}
	if maxMsgs > 0 && msgs+addMsgs > maxMsgs {
		return imap.NO(imap.CodeOverQuota, "Quota exceeded (number of messages)")
	}
	if maxSize > 0 {
		add, err := addSize()
		if err != nil {
			return err
		}
		if size+add > maxSize {
			return imap.NO(imap.CodeOverQuota, "Quota exceeded (mailbox size)")
		}
	}
	return nil
}

// sizeOf sums the sizes of messages from the index, for COPY's quota
// check.
func (sel *selected) sizeOf(ctx context.Context, uids []uint32) (int64, error) {
	infos, err := sel.mb.Info(ctx, uids)
	if err != nil {
		return 0, storeError("quota sizes", err)
	}
	var n int64
	for _, in := range infos {
		n += in.Size
	}
	return n, nil
}

// deletedStorage is STATUS DELETED-STORAGE (RFC 9208 §4.2.3): the sum of
// the sizes of the messages marked \Deleted, which §4.2.3 accepts for
// "the storage an EXPUNGE would free". It reads the mailbox's flags from
// the index, so it costs O(messages), and nothing when none is \Deleted.
func (s *session) deletedStorage(ctx context.Context, name string, deleted uint32) (int64, error) {
	if deleted == 0 {
		return 0, nil
	}
	mb, err := s.store.Open(ctx, name)
	if err != nil {
		return 0, storeError("status open", err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil {
		return 0, storeError("status messages", err)
	}
	var uids []uint32
	for _, m := range msgs {
		if slices.Contains(m.Flags, mailstore.FlagDeleted) {
			uids = append(uids, m.UID)
		}
	}
	infos, err := mb.Info(ctx, uids)
	if err != nil {
		return 0, storeError("status sizes", err)
	}
	var n int64
	for _, in := range infos {
		n += in.Size
	}
	return n, nil
}
