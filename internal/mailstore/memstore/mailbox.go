package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/postern/postern/internal/mailstore"
)

// mailbox is an open mailbox: a handle on a box, which it follows through
// renames.
type mailbox struct {
	s     *Store
	b     *box // guarded by s.mu
	watch chan struct{}
}

var _ mailstore.Mailbox = (*mailbox)(nil)

// lock takes the store's lock and checks the mailbox still exists; the
// caller unlocks s.mu when err is nil.
func (mb *mailbox) lock() error {
	mb.s.mu.Lock()
	if mb.b.deleted {
		mb.s.mu.Unlock()
		return fmt.Errorf("memstore: %q: %w", mb.b.name, mailstore.ErrNotExist)
	}
	return nil
}

func (mb *mailbox) Name() string {
	mb.s.mu.Lock()
	defer mb.s.mu.Unlock()
	return mb.b.name
}

func (mb *mailbox) State(ctx context.Context) (mailstore.MailboxState, error) {
	if err := mb.lock(); err != nil {
		return mailstore.MailboxState{}, err
	}
	defer mb.s.mu.Unlock()
	return mb.b.state(), nil
}

func meta(m *message) mailstore.MessageMeta {
	return mailstore.MessageMeta{UID: m.uid, ModSeq: m.modSeq, Flags: slices.Clone(m.flags)}
}

func (mb *mailbox) Messages(ctx context.Context) ([]mailstore.MessageMeta, error) {
	if err := mb.lock(); err != nil {
		return nil, err
	}
	defer mb.s.mu.Unlock()
	out := make([]mailstore.MessageMeta, len(mb.b.msgs))
	for i, m := range mb.b.msgs {
		out[i] = meta(m)
	}
	return out, nil
}

func (mb *mailbox) Changes(ctx context.Context, since uint64) ([]mailstore.MessageMeta, []uint32, mailstore.MailboxState, error) {
	if err := mb.lock(); err != nil {
		return nil, nil, mailstore.MailboxState{}, err
	}
	defer mb.s.mu.Unlock()
	var changed []mailstore.MessageMeta
	var expunged []uint32
	if since < mb.b.modSeq {
		for _, m := range mb.b.msgs {
			if m.modSeq > since {
				changed = append(changed, meta(m))
			}
		}
		for _, e := range mb.b.expunged {
			if e.modSeq > since {
				expunged = append(expunged, e.uid)
			}
		}
		slices.Sort(expunged)
	}
	return changed, expunged, mb.b.state(), nil
}

func (mb *mailbox) Info(ctx context.Context, uids []uint32) ([]mailstore.MessageInfo, error) {
	if err := mb.lock(); err != nil {
		return nil, err
	}
	defer mb.s.mu.Unlock()
	var out []mailstore.MessageInfo
	for _, uid := range sortedUIDs(uids) {
		if i, ok := mb.b.find(uid); ok {
			m := mb.b.msgs[i]
			out = append(out, mailstore.MessageInfo{
				MessageMeta: meta(m), Size: int64(len(m.data)), InternalDate: m.date, SaveDate: m.saved, Cache: slices.Clone(m.cache),
			})
		}
	}
	return out, nil
}

func sortedUIDs(uids []uint32) []uint32 {
	u := slices.Clone(uids)
	slices.Sort(u)
	return slices.Compact(u)
}

// reader serves a message from memory; the data is never changed after
// Append, so it needs no lock.
type reader struct{ *bytes.Reader }

func (r reader) Close() error { return nil }

func (mb *mailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	if err := mb.lock(); err != nil {
		return nil, err
	}
	defer mb.s.mu.Unlock()
	i, ok := mb.b.find(uid)
	if !ok {
		return nil, fmt.Errorf("memstore: UID %d: %w", uid, mailstore.ErrNotExist)
	}
	return reader{bytes.NewReader(mb.b.msgs[i].data)}, nil
}

func (mb *mailbox) SetCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	if err := mb.lock(); err != nil {
		return err
	}
	defer mb.s.mu.Unlock()
	for _, e := range entries {
		if i, ok := mb.b.find(e.UID); ok {
			mb.b.msgs[i].cache = slices.Clone(e.Data)
		}
	}
	return nil
}

func (mb *mailbox) StoreFlags(ctx context.Context, uids []uint32, op mailstore.FlagOp, flags []string, unchangedSince uint64) ([]mailstore.MessageMeta, []uint32, error) {
	flags, err := mailstore.NormalizeFlags(flags)
	if err != nil {
		return nil, nil, err
	}
	if err := mb.lock(); err != nil {
		return nil, nil, err
	}
	defer mb.s.mu.Unlock()
	b := mb.b
	var changed []mailstore.MessageMeta
	var failed []uint32
	modSeq := b.modSeq + 1
	for _, uid := range sortedUIDs(uids) {
		i, ok := b.find(uid)
		if !ok {
			continue
		}
		m := b.msgs[i]
		if unchangedSince != 0 && m.modSeq > unchangedSince {
			failed = append(failed, uid)
			continue
		}
		nf := mailstore.ApplyFlags(m.flags, op, flags)
		if slices.Equal(nf, m.flags) {
			continue
		}
		m.flags, m.modSeq = nf, modSeq
		changed = append(changed, meta(m))
	}
	if len(changed) > 0 {
		b.modSeq = modSeq
		b.notify()
	}
	return changed, failed, nil
}

// expunge removes the messages with the given sorted UIDs; the caller holds
// s.mu and notifies.
func (b *box) expunge(uids []uint32) []uint32 {
	var gone []uint32
	modSeq := b.modSeq + 1
	for _, uid := range uids {
		if i, ok := b.find(uid); ok {
			b.msgs = slices.Delete(b.msgs, i, i+1)
			b.expunged = append(b.expunged, expunge{uid, modSeq})
			gone = append(gone, uid)
		}
	}
	if len(gone) > 0 {
		b.modSeq = modSeq
	}
	return gone
}

func (mb *mailbox) Expunge(ctx context.Context, uids []uint32) ([]uint32, error) {
	if err := mb.lock(); err != nil {
		return nil, err
	}
	defer mb.s.mu.Unlock()
	gone := mb.b.expunge(sortedUIDs(uids))
	if len(gone) > 0 {
		mb.b.notify()
	}
	return gone, nil
}

func (mb *mailbox) copyTo(uids []uint32, dest string, move bool) (uint32, []uint32, []uint32, error) {
	if err := mb.lock(); err != nil {
		return 0, nil, nil, err
	}
	defer mb.s.mu.Unlock()
	d, err := mb.s.lookup(dest)
	if err != nil {
		return 0, nil, nil, err
	}
	var src, dst []uint32
	var picked []message
	for _, uid := range sortedUIDs(uids) {
		if i, ok := mb.b.find(uid); ok {
			picked = append(picked, *mb.b.msgs[i])
			src = append(src, uid)
		}
	}
	for _, m := range picked {
		m.flags, m.cache, m.hdrs = slices.Clone(m.flags), slices.Clone(m.cache), slices.Clone(m.hdrs)
		m.saved = mb.s.now()
		dst = append(dst, d.add(m))
	}
	if move {
		mb.b.expunge(src)
		mb.b.notify()
	}
	if len(dst) > 0 {
		d.notify()
	}
	return d.uidValidity, src, dst, nil
}

func (mb *mailbox) CopyTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(uids, dest, false)
}

func (mb *mailbox) MoveTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(uids, dest, true)
}

func (mb *mailbox) ClaimRecent(ctx context.Context) (uint32, error) {
	if err := mb.lock(); err != nil {
		return 0, err
	}
	defer mb.s.mu.Unlock()
	first := mb.b.recentUID + 1
	mb.b.recentUID = mb.b.uidNext - 1
	return first, nil
}

func (mb *mailbox) Watch() <-chan struct{} { return mb.watch }

func (mb *mailbox) Close() error {
	mb.s.mu.Lock()
	defer mb.s.mu.Unlock()
	delete(mb.b.watchers, mb)
	return nil
}
