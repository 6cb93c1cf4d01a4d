package imapbackend

import (
	"strconv"
	"sync"

	"github.com/postern/postern/internal/mailstore"
)

// hdrMem keeps in memory, per process, the header cache entries (see
// hdrcache.go) of the mailboxes searched lately, so that a SEARCH on
// header keys does not read them from the index again: loading 10,000
// entries from SQLite was two thirds of a warm SEARCH SUBJECT (issue 7);
// Dovecot keeps its cache file mapped for the same reason. An entry never
// changes for a UID of a mailbox incarnation (message files are
// immutable; a mailbox created again has a new MailboxID), so the copy
// needs no checking: a stale one can only lack names another process
// added since, which costs the file read the store would have saved.
// Memory is bounded by limit; the mailboxes used least lately go first.
type hdrMem struct {
	mu    sync.Mutex
	limit int64
	size  int64              // guarded by mu
	tick  uint64             // guarded by mu; counts uses, for eviction
	boxes map[string]*hdrBox // guarded by mu; by hdrMemKey
}

// hdrBox is one mailbox's entries.
type hdrBox struct {
	entries map[uint32][]byte
	size    int64
	used    uint64
}

// hdrEntryOverhead is what an entry costs beside its bytes (map slot,
// slice header).
const hdrEntryOverhead = 64

// DefaultHeaderCacheMemory is Options.HeaderCacheMemory's default.
const DefaultHeaderCacheMemory = 32 << 20

// hdrMemKey names a mailbox incarnation of a user: the user, the
// mailbox's OBJECTID (new when the mailbox is created again) and its
// UIDVALIDITY.
func hdrMemKey(user, mailboxID string, uidValidity uint32) string {
	if mailboxID == "" {
		return "" // nothing to tell the mailbox from another: not kept
	}
	return user + "\x00" + mailboxID + "\x00" + strconv.FormatUint(uint64(uidValidity), 10)
}

// get returns the entries held for uids (ascending), in the same order,
// and the UIDs it holds none for.
func (h *hdrMem) get(key string, uids []uint32) (found []mailstore.CacheEntry, missing []uint32) {
	if h == nil || h.limit <= 0 || key == "" {
		return nil, uids
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	box := h.boxes[key]
	if box == nil {
		return nil, uids
	}
	h.tick++
	box.used = h.tick
	found = make([]mailstore.CacheEntry, 0, len(uids))
	for _, u := range uids {
		if d, ok := box.entries[u]; ok {
			found = append(found, mailstore.CacheEntry{UID: u, Data: d})
		} else {
			missing = append(missing, u)
		}
	}
	return found, missing
}

// put keeps entries (their Data is kept, not copied: callers hand over
// slices they no longer change).
func (h *hdrMem) put(key string, entries []mailstore.CacheEntry) {
	if h == nil || h.limit <= 0 || key == "" || len(entries) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.boxes == nil {
		h.boxes = map[string]*hdrBox{}
	}
	box := h.boxes[key]
	if box == nil {
		box = &hdrBox{entries: map[uint32][]byte{}}
		h.boxes[key] = box
	}
	h.tick++
	box.used = h.tick
	for _, e := range entries {
		cost := int64(len(e.Data)) + hdrEntryOverhead
		if old, ok := box.entries[e.UID]; ok {
			cost -= int64(len(old)) + hdrEntryOverhead
		} else if box.size+cost > h.limit {
			continue // one mailbox larger than the whole budget keeps what fits
		}
		box.entries[e.UID] = e.Data
		box.size += cost
		h.size += cost
	}
	h.evict(box)
}

// evict drops the mailboxes used least lately, other than keep, until
// the total is within the limit.
func (h *hdrMem) evict(keep *hdrBox) {
	for h.size > h.limit {
		var oldKey string
		var old *hdrBox
		for k, b := range h.boxes {
			if b != keep && (old == nil || b.used < old.used) {
				oldKey, old = k, b
			}
		}
		if old == nil {
			return
		}
		h.size -= old.size
		delete(h.boxes, oldKey)
	}
}
