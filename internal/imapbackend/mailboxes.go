package imapbackend

import (
	"context"
	"errors"
	"io"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// Create implements imapserver.Session (RFC 3501 §6.3.3).
func (s *session) Create(ctx context.Context, mailbox string) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	name, err := newName(mailbox)
	if err != nil {
		return err
	}
	return storeError("create", s.store.Create(ctx, name, ""))
}

// Delete implements imapserver.Session (RFC 3501 §6.3.4).
func (s *session) Delete(ctx context.Context, mailbox string) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return err
	}
	if isInbox(name) {
		return imap.NO(imap.CodeCannot, "INBOX cannot be deleted")
	}
	return storeError("delete", s.store.Delete(ctx, name))
}

// Rename implements imapserver.Session (RFC 3501 §6.3.5).
func (s *session) Rename(ctx context.Context, oldName, newNm string) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	from, err := canonicalName(oldName)
	if err != nil {
		return err
	}
	to, err := newName(newNm)
	if err != nil {
		return err
	}
	if isInbox(to) {
		return imap.NO(imap.CodeAlreadyExists, "INBOX already exists")
	}
	return storeError("rename", s.store.Rename(ctx, from, to))
}

// Subscribe implements imapserver.Session (RFC 3501 §6.3.6). A name that
// does not exist may be subscribed, as the store allows.
func (s *session) Subscribe(ctx context.Context, mailbox string) error {
	return s.setSubscribed(ctx, mailbox, true)
}

// Unsubscribe implements imapserver.Session (RFC 3501 §6.3.7).
func (s *session) Unsubscribe(ctx context.Context, mailbox string) error {
	return s.setSubscribed(ctx, mailbox, false)
}

func (s *session) setSubscribed(ctx context.Context, mailbox string, on bool) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return err
	}
	return storeError("subscribe", s.store.SetSubscribed(ctx, name, on))
}

// Status implements imapserver.Session (RFC 3501 §6.3.10): it is answered
// from the store's index without opening message files.
func (s *session) Status(ctx context.Context, mailbox string, opts *imap.StatusOptions) (*imap.StatusData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return nil, err
	}
	st, err := s.store.Status(ctx, name)
	if err != nil {
		return nil, storeError("status", err)
	}
	d := &imap.StatusData{Mailbox: mailbox}
	if opts.NumMessages {
		d.NumMessages = &st.Messages
	}
	if opts.NumRecent {
		d.NumRecent = &st.Recent
	}
	if opts.UIDNext {
		d.UIDNext = st.UIDNext
	}
	if opts.UIDValidity {
		d.UIDValidity = st.UIDValidity
	}
	if opts.NumUnseen {
		d.NumUnseen = &st.Unseen
	}
	if opts.NumDeleted {
		d.NumDeleted = &st.Deleted
	}
	if opts.Size {
		size, err := s.virtualSize(ctx, name)
		if err != nil {
			return nil, err
		}
		d.Size = &size
	}
	if opts.HighestModSeq {
		d.HighestModSeq = st.HighestModSeq
	}
	if opts.MailboxID {
		d.MailboxID = st.MailboxID
	}
	if opts.DeletedStorage {
		n, err := s.deletedStorage(ctx, name, st.Deleted)
		if err != nil {
			return nil, err
		}
		d.DeletedStorage = &n
	}
	return d, nil
}

// Append implements imapserver.Session (RFC 3501 §6.3.11, RFC 4315
// APPENDUID). A missing mailbox answers NO [TRYCREATE].
func (s *session) Append(ctx context.Context, mailbox string, r io.Reader, size int64, opts *imap.AppendOptions) (*imap.AppendData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return nil, err
	}
	// RFC 9208 §4.3.1: refused before the message is read (the server
	// discards the rest of the literal).
	if err := s.checkQuota(ctx, func() (int64, error) { return size, nil }, 1); err != nil {
		return nil, err
	}
	var ao mailstore.AppendOptions
	if opts != nil {
		ao.InternalDate = opts.Time
		ao.Flags = storeFlags(opts.Flags)
	}
	if ao.InternalDate.IsZero() {
		ao.InternalDate = s.b.opts.Clock()
	}
	var res mailstore.AppendResult
	sel := s.sel
	into := sel != nil && !sel.readOnly && sel.mb.Name() == name
	sa, inOne := s.store.(mailstore.SessionAppender)
	if inOne {
		var cache func(io.ReaderAt, int64) ([]byte, error)
		if s.readsStructures {
			cache = structureData
		}
		res, err = sa.AppendSession(ctx, name, io.LimitReader(r, size), ao,
			mailstore.SessionAppend{Cache: cache, ClaimRecent: into})
	} else {
		res.UIDValidity, res.UID, err = s.store.Append(ctx, name, io.LimitReader(r, size), ao)
	}
	if err != nil {
		if errors.Is(err, mailstore.ErrNotExist) {
			return nil, imap.NO(imap.CodeTryCreate, "Mailbox does not exist")
		}
		return nil, storeError("append", err)
	}
	if !inOne && s.readsStructures {
		s.cacheStructure(ctx, name, res.UID)
	}
	if res.Recent {
		// Claimed for this session: the poll after the command shows it
		// \Recent without a ClaimRecent of its own.
		sel.addRecent(res.UID, res.UID)
		sel.claimedThrough = max(sel.claimedThrough, res.UID)
	}
	return &imap.AppendData{UIDValidity: res.UIDValidity, UID: res.UID}, nil
}

// mailboxNamed returns the mailbox name: the selected one when it is
// name, else one opened for the caller, who calls done when finished.
func (s *session) mailboxNamed(ctx context.Context, name string) (mb mailstore.Mailbox, done func(), err error) {
	if sel := s.sel; sel != nil && sel.mb.Name() == name {
		return sel.mb, func() {}, nil
	}
	if mb, err = s.store.Open(ctx, name); err != nil {
		return nil, nil, err
	}
	return mb, func() { mb.Close() }, nil
}

// virtualSize is STATUS SIZE (RFC 8438 §3), which MUST be at least the
// sum of the messages' RFC822.SIZE: the octets stored plus, per message,
// the bare LFs FETCH sends as CRLF, read from the cached structures.
// Mail delivered with LF line ends (as MTAs write Maildir and mbox files,
// and as the mbox store keeps all mail) made the stored size short by a
// line each. A message not cached yet is parsed once and cached, as a
// FETCH of it would; later STATUS SIZE reads only the index.
func (s *session) virtualSize(ctx context.Context, name string) (int64, error) {
	mb, done, err := s.mailboxNamed(ctx, name)
	if err != nil {
		return 0, storeError("status", err)
	}
	defer done()
	metas, err := mb.Messages(ctx)
	if err != nil {
		return 0, storeError("status", err)
	}
	var total int64
	uids := make([]uint32, 0, min(len(metas), virtualSizeBatch))
	for len(metas) > 0 {
		n := min(len(metas), virtualSizeBatch)
		uids = uids[:0]
		for _, m := range metas[:n] {
			uids = append(uids, m.UID)
		}
		metas = metas[n:]
		infos, err := mb.Info(ctx, uids)
		if err != nil {
			return 0, storeError("status", err)
		}
		var parsed []mailstore.CacheEntry
		for _, in := range infos {
			bare, err := message.RootBareLF(in.Cache)
			if err != nil {
				var data []byte
				var ok bool
				if data, bare, ok = parseForSize(ctx, mb, in.UID); !ok {
					continue // expunged meanwhile: not in the mailbox
				}
				if data != nil {
					parsed = append(parsed, mailstore.CacheEntry{UID: in.UID, Data: data})
				}
			}
			total += in.Size + bare
		}
		if len(parsed) > 0 {
			_ = mb.SetCache(ctx, parsed) // a failure only means parsing again next time
		}
	}
	return total, nil
}

// virtualSizeBatch is how many messages virtualSize loads at once.
const virtualSizeBatch = 1024

// parseForSize parses a message for virtualSize and returns its
// structure's encoding and bare LFs; ok is false when it cannot be read
// (expunged since it was listed). A message the parser refuses has its
// bare LFs counted from the octets, without a structure.
func parseForSize(ctx context.Context, mb mailstore.Mailbox, uid uint32) (data []byte, bare int64, ok bool) {
	r, err := mb.OpenMessage(ctx, uid)
	if err != nil {
		return nil, 0, false
	}
	defer r.Close()
	if data, err = structureData(r, r.Size()); err == nil {
		if bare, err = message.RootBareLF(data); err == nil {
			return data, bare, true
		}
	}
	bare, err = countBareLF(io.NewSectionReader(r, 0, r.Size()))
	return nil, bare, err == nil
}

// countBareLF counts the LFs of r not preceded by CR.
func countBareLF(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	prev := byte(0)
	for {
		k, err := r.Read(buf)
		for i, c := range buf[:k] {
			if c == '\n' && (i > 0 && buf[i-1] != '\r' || i == 0 && prev != '\r') {
				n++
			}
		}
		if k > 0 {
			prev = buf[k-1]
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// structureData is the cache entry of a message: its parsed MIME
// structure, as FETCH loads it (loadStructure).
func structureData(msg io.ReaderAt, size int64) ([]byte, error) {
	p, err := message.Parse(msg, size)
	if err != nil {
		return nil, err
	}
	return p.MarshalBinary()
}

// cacheStructure parses a message just appended and stores its structure,
// so the first FETCH of it does not pay for the parse (DESIGN.md §4: parse
// once, at delivery). The file was just written, so it is read from the
// page cache. A failure only means the parse happens at the first FETCH.
func (s *session) cacheStructure(ctx context.Context, name string, uid uint32) {
	mb, done, err := s.mailboxNamed(ctx, name)
	if err != nil {
		return
	}
	defer done()
	r, err := mb.OpenMessage(ctx, uid)
	if err != nil {
		return
	}
	defer r.Close()
	if data, err := structureData(r, r.Size()); err == nil {
		_ = mb.SetCache(ctx, []mailstore.CacheEntry{{UID: uid, Data: data}})
	}
}

// storeFlags converts protocol flags to stored ones: system flags in their
// canonical case, \Recent dropped (it is not a stored flag, RFC 3501
// §2.3.2).
func storeFlags(flags []imap.Flag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		f = imap.CanonicalFlag(f)
		if f == imap.FlagRecent || f == imap.FlagWildcard {
			continue
		}
		out = append(out, string(f))
	}
	return out
}
