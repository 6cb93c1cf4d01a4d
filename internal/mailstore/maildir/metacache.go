package maildir

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/postern/postern/internal/mailstore"
)

// metaCacheBudget bounds the messages whose metadata one index's cache holds
// (about 60 bytes each, plus keyword lists): past it, the least recently
// used mailboxes are dropped.
const metaCacheBudget = 1 << 18

// metaCache keeps, for the mailboxes of one index, every message's
// metadata as of a HIGHESTMODSEQ, shared by all the Stores of this process
// on that index (DESIGN.md §4: a SELECT must not cost a scan of the
// messages table).
//
// Each use validates the copy against the mailbox row in one read
// transaction: same incarnation of the row (the index's epoch, bumped
// whenever a mailbox row is removed, so a reused id or a Reindex is never
// mistaken for the old mailbox) and same HIGHESTMODSEQ; when the
// HIGHESTMODSEQ moved on (this or another process wrote), the copy is
// brought up to date as Changes would be, in O(changes): every change to
// the messages table gets a new MODSEQ, and removed rows leave a row in
// expunged with theirs. Anything else reloads it.
type metaCache struct {
	mu      sync.Mutex
	entries map[int64]*metaEntry // by mailbox id; guarded by mu
	held    int                  // messages in entries; guarded by mu
	tick    uint64               // guarded by mu
}

// metaEntry is the cached metadata of one mailbox.
type metaEntry struct {
	mu sync.Mutex // serializes loads and updates of this entry

	// Guarded by mu.
	loaded      bool
	epoch       int64
	uidValidity uint32
	modSeq      uint64
	msgs        []cachedMsg // ascending UIDs; replaced, never changed in place

	// Guarded by metaCache.mu.
	used uint64
	size int
}

// cachedMsg is one message's row of the messages table, without its file
// name.
type cachedMsg struct {
	uid    uint32
	tzoff  int32
	sys    int64
	modSeq uint64
	flags  []string // shared, never written to
	size   int64
	date   int64
}

func (m *cachedMsg) meta() mailstore.MessageMeta {
	return mailstore.MessageMeta{UID: m.uid, ModSeq: m.modSeq, Flags: m.flags}
}

// entry returns the mailbox's entry, made empty when there is none, or nil
// when there is none and create is false.
func (c *metaCache) entry(id int64, create bool) *metaEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil && create {
		if c.entries == nil {
			c.entries = map[int64]*metaEntry{}
		}
		e = &metaEntry{}
		c.entries[id] = e
	}
	if e != nil {
		c.tick++
		e.used = c.tick
	}
	return e
}

// resized records an entry's new size and drops least recently used
// entries (never e itself unless it alone is over budget) to stay within
// the budget.
func (c *metaCache) resized(id int64, e *metaEntry, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id] != e {
		return // dropped meanwhile
	}
	c.held += size - e.size
	e.size = size
	for c.held > metaCacheBudget {
		var victim *metaEntry
		var vid int64
		for oid, o := range c.entries {
			if o != e && (victim == nil || o.used < victim.used) {
				victim, vid = o, oid
			}
		}
		if victim == nil {
			victim, vid = e, id
		}
		c.held -= victim.size
		delete(c.entries, vid)
		if victim == e {
			return
		}
	}
}

// forget drops a mailbox's entry.
func (c *metaCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[id]; e != nil {
		c.held -= e.size
		delete(c.entries, id)
	}
}

// cachedMsgs returns the mailbox's messages as the index has them now
// (ascending UIDs; the slice is shared and must not be changed). When load
// is false and the mailbox is not in memory, ok is false: a caller after a
// few messages should not pay for loading all of them.
func (s *Store) cachedMsgs(ctx context.Context, id int64, load bool) (msgs []cachedMsg, ok bool, err error) {
	c := &s.sh.meta
	e := c.entry(id, load)
	if e == nil {
		return nil, false, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded && !load {
		return nil, false, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, false, fmt.Errorf("maildir: index: %w", err)
	}
	defer tx.Rollback()
	var (
		uv    uint32
		h     uint64
		epoch sql.NullInt64
	)
	err = s.db.Querier(tx).QueryRowContext(ctx, `SELECT uidvalidity, highestmodseq, (SELECT value FROM meta WHERE key = 'epoch')
		FROM mailboxes WHERE id = ?`, id).Scan(&uv, &h, &epoch)
	if isNoRows(err) {
		c.forget(id)
		return nil, false, fmt.Errorf("maildir: mailbox %d: %w", id, mailstore.ErrNotExist)
	}
	if err != nil {
		return nil, false, fmt.Errorf("maildir: index: %w", err)
	}
	same := e.loaded && e.epoch == epoch.Int64 && e.uidValidity == uv
	if same && e.modSeq == h {
		return e.msgs, true, nil
	}
	// Start from the copy in memory, else from the blob in the index, and
	// apply the changes since; else read every row.
	base, since, haveBase, fromBlob := e.msgs, e.modSeq, same && e.modSeq < h, false
	if !haveBase {
		if base, since, haveBase, err = readBlob(ctx, tx, id, epoch.Int64, uv, h); err != nil {
			return nil, false, err
		}
		fromBlob = haveBase
	}
	applied := 0
	switch {
	case haveBase && since < h:
		changed, err := loadCached(ctx, tx, `mailbox_id = ? AND modseq > ?`, id, since)
		if err != nil {
			return nil, false, err
		}
		expunged, err := expungedSince(ctx, tx, id, since)
		if err != nil {
			return nil, false, err
		}
		msgs, applied = mergeCached(base, changed, expunged), len(changed)+len(expunged)
	case haveBase:
		msgs = base
	default:
		if msgs, err = loadCached(ctx, tx, `mailbox_id = ?`, id); err != nil {
			return nil, false, err
		}
		applied = len(msgs)
	}
	tx.Rollback()
	e.msgs, e.loaded, e.epoch, e.uidValidity, e.modSeq = msgs, true, epoch.Int64, uv, h
	c.resized(id, e, len(msgs))
	if (fromBlob || !haveBase) && len(msgs) >= s.blobMin && applied > len(msgs)/blobStaleDiv {
		s.saveBlob(ctx, id, epoch.Int64, uv, h, msgs)
	}
	return msgs, true, nil
}

// mergeCached applies changes (ascending) and expunges (ascending) to msgs.
func mergeCached(msgs, changed []cachedMsg, expunged []uint32) []cachedMsg {
	out := make([]cachedMsg, 0, len(msgs)+len(changed))
	i, j, k := 0, 0, 0
	for i < len(msgs) || j < len(changed) {
		if j == len(changed) || i < len(msgs) && msgs[i].uid < changed[j].uid {
			m := msgs[i]
			i++
			for k < len(expunged) && expunged[k] < m.uid {
				k++
			}
			if k < len(expunged) && expunged[k] == m.uid {
				continue
			}
			out = append(out, m)
			continue
		}
		if i < len(msgs) && msgs[i].uid == changed[j].uid {
			i++
		}
		out = append(out, changed[j])
		j++
	}
	return slices.Clip(out)
}

// expungedSince returns the UIDs expunged with a MODSEQ above since,
// ascending.
func expungedSince(ctx context.Context, q querier, id int64, since uint64) ([]uint32, error) {
	rows, err := q.QueryContext(ctx, `SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, id, since)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		out = append(out, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	return out, nil
}

// loadCached loads the messages matching where (on the messages table,
// with args) in ascending UID order. SQLite packs the rows into one text
// value, one "UID MODSEQ SYSFLAGS SIZE DATE TZOFFSET KEYWORDS" line each,
// which costs about a third of stepping through the rows with database/sql.
func loadCached(ctx context.Context, q querier, where string, args ...any) ([]cachedMsg, error) {
	var packed sql.NullString
	// The ordered subquery walks the primary key in UID order; an ORDER BY
	// inside group_concat would sort instead, at twice the cost. SQLite does
	// not promise to keep a subquery's order through an aggregate, so the
	// order is checked (cheaply) and restored if need be.
	err := q.QueryRowContext(ctx, `SELECT group_concat(uid || ' ' || modseq || ' ' || sysflags || ' ' || size || ' ' ||
			internaldate || ' ' || tzoffset || ' ' || keywords, char(10))
		FROM (SELECT uid, modseq, sysflags, size, internaldate, tzoffset, keywords FROM messages WHERE `+where+` ORDER BY uid)`,
		args...).Scan(&packed)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	out, err := parseCached(packed.String)
	if err != nil {
		return nil, err
	}
	byUID := func(a, b cachedMsg) int { return cmp.Compare(a.uid, b.uid) }
	if !slices.IsSortedFunc(out, byUID) {
		slices.SortFunc(out, byUID)
	}
	return out, nil
}

// parseCached parses the lines loadCached asks SQLite for.
func parseCached(p string) ([]cachedMsg, error) {
	if p == "" {
		return nil, nil
	}
	out := make([]cachedMsg, 0, strings.Count(p, "\n")+1)
	for len(p) > 0 {
		line := p
		if i := strings.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		var f [6]int64
		rest := line
		for k := range f {
			i, neg := 0, false
			if k >= 4 && i < len(rest) && rest[i] == '-' { // dates and zone offsets may be negative
				neg = true
				i++
			}
			start := i
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				f[k] = f[k]*10 + int64(rest[i]-'0')
				i++
			}
			if i == start || i >= len(rest) || rest[i] != ' ' {
				return nil, fmt.Errorf("maildir: index: bad packed row %q", line)
			}
			if neg {
				f[k] = -f[k]
			}
			rest = rest[i+1:]
		}
		out = append(out, cachedMsg{uid: uint32(f[0]), modSeq: uint64(f[1]), sys: f[2], flags: joinFlags(f[2], rest),
			size: f[3], date: f[4], tzoff: int32(f[5])})
	}
	return out, nil
}

// lookupCached returns the cached messages with the given UIDs (ascending, no
// duplicates), in order.
func lookupCached(msgs []cachedMsg, uids []uint32) []cachedMsg {
	out := make([]cachedMsg, 0, len(uids))
	i := 0
	for _, u := range uids {
		// Requests are usually dense: step when close, search when far.
		if i < len(msgs) && msgs[i].uid < u {
			if i+8 < len(msgs) && msgs[i+8].uid < u {
				i += firstAtLeast(msgs[i:], u)
			} else {
				for i < len(msgs) && msgs[i].uid < u {
					i++
				}
			}
		}
		if i < len(msgs) && msgs[i].uid == u {
			out = append(out, msgs[i])
			i++
		}
	}
	return out
}

// firstAtLeast returns the index of the first message with a UID at least u.
func firstAtLeast(msgs []cachedMsg, u uint32) int {
	n, _ := slices.BinarySearchFunc(msgs, u, func(m cachedMsg, u uint32) int { return cmp.Compare(m.uid, u) })
	return n
}
