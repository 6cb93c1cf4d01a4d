package maildir

import (
	"context"
	"fmt"
	"slices"

	"github.com/postern/postern/internal/mailstore"
)

var _ mailstore.HeaderCacher = (*mailbox)(nil)

// HeaderCache implements mailstore.HeaderCacher: one query per batch of
// UIDs on the hdrcache table, which nothing else reads.
func (mb *mailbox) HeaderCache(ctx context.Context, uids []uint32) ([]mailstore.CacheEntry, error) {
	var out []mailstore.CacheEntry
	for _, b := range batchUIDs(uids) {
		cond, args := b.where("")
		rows, err := mb.s.db.QueryContext(ctx, `SELECT uid, data FROM hdrcache WHERE mailbox_id = ? AND `+cond+` ORDER BY uid`,
			append([]any{mb.id}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		keep := b.keeper()
		for rows.Next() {
			var e mailstore.CacheEntry
			if err := rows.Scan(&e.UID, &e.Data); err != nil {
				rows.Close()
				return nil, fmt.Errorf("maildir: index: %w", err)
			}
			if keep(e.UID) {
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
	}
	return out, nil
}

// SetHeaderCache implements mailstore.HeaderCacher: one write transaction
// for all the entries, without an fsync (cached data, as SetCache: a
// power loss costs reading the files again).
func (mb *mailbox) SetHeaderCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return mb.s.writeLazy(ctx, func(w *wtx) error {
		for _, e := range entries {
			// INSERT ... SELECT stores nothing for a UID expunged meanwhile.
			if err := w.exec(`INSERT OR REPLACE INTO hdrcache(mailbox_id, uid, data)
				SELECT mailbox_id, uid, ? FROM messages WHERE mailbox_id = ? AND uid = ?`, slices.Clone(e.Data), mb.id, e.UID); err != nil {
				return err
			}
		}
		return nil
	})
}
