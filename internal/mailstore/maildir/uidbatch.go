package maildir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// chunk bounds the UIDs of one IN (...) list, far below SQLite's limit on
// bound parameters.
const chunk = 500

// Runs of requested UIDs at most maxGap apart and at least minRun long are
// read as one range (uid BETWEEN lo AND hi) and filtered in Go: FETCH 1:*
// and STORE 1:* are one query whatever the mailbox size, at the price of
// reading at most maxGap rows per UID asked for.
const (
	maxGap = 4
	minRun = 32
)

// uidBatch is one query's share of a UID set: the UIDs want[0]..want[last]
// of which only those in want are kept (ranged), or the IN list want.
type uidBatch struct {
	want   []uint32 // ascending, no duplicates
	ranged bool
}

// where returns the batch's condition on the uid column of table t (an
// alias, or "" for none) and its arguments.
func (b uidBatch) where(t string) (string, []any) {
	if t != "" {
		t += "."
	}
	if b.ranged {
		return t + "uid BETWEEN ? AND ?", []any{b.want[0], b.want[len(b.want)-1]}
	}
	args := make([]any, len(b.want))
	for i, u := range b.want {
		args[i] = u
	}
	return t + "uid IN (?" + strings.Repeat(",?", len(b.want)-1) + ")", args
}

// keeper returns a filter for the ascending UIDs of the batch's rows: true
// for those asked for.
func (b uidBatch) keeper() func(uint32) bool {
	j := 0
	return func(uid uint32) bool {
		for j < len(b.want) && b.want[j] < uid {
			j++
		}
		return j < len(b.want) && b.want[j] == uid
	}
}

// sortedUIDs returns uids ascending without duplicates, copying only when
// it must.
func sortedUIDs(uids []uint32) []uint32 {
	if !slices.IsSorted(uids) {
		uids = slices.Clone(uids)
		slices.Sort(uids)
	}
	for i := 1; i < len(uids); i++ {
		if uids[i] == uids[i-1] {
			return slices.Compact(slices.Clone(uids))
		}
	}
	return uids
}

// batchUIDs splits a UID set into ascending batches: dense runs become
// ranges, scattered UIDs IN lists of at most chunk.
func batchUIDs(uids []uint32) []uidBatch {
	uids = sortedUIDs(uids)
	var out []uidBatch
	var pending []uint32
	flush := func() {
		for len(pending) > 0 {
			n := min(len(pending), chunk)
			out = append(out, uidBatch{want: pending[:n]})
			pending = pending[n:]
		}
		pending = nil
	}
	for i := 0; i < len(uids); {
		j := i + 1
		for j < len(uids) && uids[j]-uids[j-1] <= maxGap {
			j++
		}
		if j-i >= minRun {
			flush()
			out = append(out, uidBatch{want: uids[i:j], ranged: true})
		} else {
			pending = append(pending, uids[i:j]...)
		}
		i = j
	}
	flush()
	return out
}

// selectMsgs loads the rows of the given UIDs, ascending; absent UIDs are
// left out.
func (s *Store) selectMsgs(ctx context.Context, q querier, id int64, uids []uint32) ([]msgRow, error) {
	var out []msgRow
	for _, b := range batchUIDs(uids) {
		cond, args := b.where("")
		rows, err := q.QueryContext(ctx, `SELECT uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info
			FROM messages WHERE mailbox_id = ? AND `+cond+` ORDER BY uid`, append([]any{id}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		keep := b.keeper()
		for rows.Next() {
			var m msgRow
			if err := rows.Scan(&m.uid, &m.modSeq, &m.sys, &m.keywords, &m.size, &m.date, &m.tzoff, &m.base, &m.info); err != nil {
				rows.Close()
				return nil, fmt.Errorf("maildir: index: %w", err)
			}
			if keep(m.uid) {
				out = append(out, m)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
	}
	return out, nil
}

// Info implements mailstore.Mailbox: the metadata from the process's copy
// when the mailbox is held in memory (it is once selected), else one
// packed query per batch of UIDs; then one query per batch for the cached
// structures. FETCH 1:* is two queries whatever the mailbox size.
func (mb *mailbox) Info(ctx context.Context, uids []uint32) ([]mailstore.MessageInfo, error) {
	uids = sortedUIDs(uids)
	var found []cachedMsg
	msgs, ok, err := mb.s.cachedMsgs(ctx, mb.id, false)
	switch {
	case errors.Is(err, mailstore.ErrNotExist):
		return nil, nil // deleted: none of its UIDs exists
	case err != nil:
		return nil, err
	case ok:
		found = lookupCached(msgs, uids)
	default:
		for _, b := range batchUIDs(uids) {
			cond, args := b.where("")
			rows, err := loadCached(ctx, mb.s.db, `mailbox_id = ? AND `+cond, append([]any{mb.id}, args...)...)
			if err != nil {
				return nil, err
			}
			keep := b.keeper()
			for _, m := range rows {
				if keep(m.uid) {
					found = append(found, m)
				}
			}
		}
	}
	out := make([]mailstore.MessageInfo, len(found))
	have := make([]uint32, len(found))
	zones := map[int32]*time.Location{}
	for i := range found {
		m := &found[i]
		loc := zones[m.tzoff]
		if loc == nil {
			loc = time.FixedZone("", int(m.tzoff))
			zones[m.tzoff] = loc
		}
		out[i] = mailstore.MessageInfo{MessageMeta: m.meta(), Size: m.size, InternalDate: time.Unix(m.date, 0).In(loc)}
		have[i] = m.uid
	}
	if err := mb.fillCache(ctx, out, have); err != nil {
		return nil, err
	}
	if err := mb.fillSaveDate(ctx, out, have); err != nil {
		return nil, err
	}
	return out, nil
}

// fillCache sets the Cache of infos (ascending UIDs, the UIDs in have).
func (mb *mailbox) fillCache(ctx context.Context, infos []mailstore.MessageInfo, have []uint32) error {
	i := 0
	for _, b := range batchUIDs(have) {
		cond, args := b.where("")
		rows, err := mb.s.db.QueryContext(ctx, `SELECT uid, data FROM cache WHERE mailbox_id = ? AND `+cond+` ORDER BY uid`,
			append([]any{mb.id}, args...)...)
		if err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		for rows.Next() {
			var uid uint32
			var data []byte
			if err := rows.Scan(&uid, &data); err != nil {
				rows.Close()
				return fmt.Errorf("maildir: index: %w", err)
			}
			for i < len(infos) && infos[i].UID < uid {
				i++
			}
			if i < len(infos) && infos[i].UID == uid {
				infos[i].Cache = data
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
	}
	return nil
}
