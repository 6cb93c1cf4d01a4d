package imapbackend

import (
	"context"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

var _ imapserver.SessionCreateOptions = (*session)(nil)

// storableUses are the special uses a mailbox may be created with (RFC
// 6154 §3): \All and \Flagged describe virtual mailboxes, which the stores
// do not have.
var storableUses = map[imap.MailboxAttr]string{
	imap.MailboxAttrArchive: mailstore.SpecialArchive,
	imap.MailboxAttrDrafts:  mailstore.SpecialDrafts,
	imap.MailboxAttrJunk:    mailstore.SpecialJunk,
	imap.MailboxAttrSent:    mailstore.SpecialSent,
	imap.MailboxAttrTrash:   mailstore.SpecialTrash,
}

// CreateWithOptions implements imapserver.SessionCreateOptions: CREATE
// with USE (RFC 6154 §3), answered with the new mailbox's MAILBOXID (RFC
// 8474 §4.1). A store keeps one special use per mailbox, so a USE list of
// more than one is refused with [USEATTR] before anything is created, as
// the RFC requires. Another mailbox with the same use is allowed (RFC 6154
// §3 leaves it to the server; clients pick the first).
func (s *session) CreateWithOptions(ctx context.Context, mailbox string, opts *imap.CreateOptions) (*imap.CreateData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	name, err := newName(mailbox)
	if err != nil {
		return nil, err
	}
	var use string
	if opts != nil {
		switch uses := uniqueUses(opts.SpecialUse); len(uses) {
		case 0:
		case 1:
			var ok bool
			if use, ok = storableUses[uses[0]]; !ok {
				return nil, imap.NO(imap.CodeUseAttr, "Unsupported special use "+string(uses[0]))
			}
		default:
			return nil, imap.NO(imap.CodeUseAttr, "Only one special use per mailbox")
		}
	}
	if err := s.store.Create(ctx, name, use); err != nil {
		return nil, storeError("create", err)
	}
	st, err := s.store.Status(ctx, name)
	if err != nil {
		// Created: a failure to read it back only loses the ID.
		return &imap.CreateData{}, nil
	}
	return &imap.CreateData{MailboxID: st.MailboxID}, nil
}

func uniqueUses(uses []imap.MailboxAttr) []imap.MailboxAttr {
	var out []imap.MailboxAttr
	for _, u := range uses {
		dup := false
		for _, o := range out {
			dup = dup || o == u
		}
		if !dup {
			out = append(out, u)
		}
	}
	return out
}
