package memstore

import (
	"context"
	"slices"

	"github.com/postern/postern/internal/mailstore"
)

var _ mailstore.HeaderCacher = (*mailbox)(nil)

// HeaderCache implements mailstore.HeaderCacher.
func (mb *mailbox) HeaderCache(ctx context.Context, uids []uint32) ([]mailstore.CacheEntry, error) {
	if err := mb.lock(); err != nil {
		return nil, err
	}
	defer mb.s.mu.Unlock()
	var out []mailstore.CacheEntry
	for _, uid := range sortedUIDs(uids) {
		if i, ok := mb.b.find(uid); ok && mb.b.msgs[i].hdrs != nil {
			out = append(out, mailstore.CacheEntry{UID: uid, Data: slices.Clone(mb.b.msgs[i].hdrs)})
		}
	}
	return out, nil
}

// SetHeaderCache implements mailstore.HeaderCacher.
func (mb *mailbox) SetHeaderCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	if err := mb.lock(); err != nil {
		return err
	}
	defer mb.s.mu.Unlock()
	for _, e := range entries {
		if i, ok := mb.b.find(e.UID); ok {
			mb.b.msgs[i].hdrs = slices.Clone(e.Data)
		}
	}
	return nil
}
