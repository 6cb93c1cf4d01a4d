package imapbackend

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestHdrMemBudget: entries are kept per mailbox up to the limit, the
// mailbox used least lately goes first, and an empty key keeps nothing.
func TestHdrMemBudget(t *testing.T) {
	entry := func(uid uint32, n int) mailstore.CacheEntry {
		return mailstore.CacheEntry{UID: uid, Data: []byte(strings.Repeat("x", n))}
	}
	cost := int64(100 + hdrEntryOverhead)
	h := &hdrMem{limit: 5 * cost}
	h.put("a", []mailstore.CacheEntry{entry(1, 100), entry(2, 100)})
	h.put("b", []mailstore.CacheEntry{entry(1, 100), entry(2, 100)})
	if found, missing := h.get("a", []uint32{1, 2, 3}); len(found) != 2 || found[0].UID != 1 || found[1].UID != 2 || !reflect.DeepEqual(missing, []uint32{3}) {
		t.Fatalf("get a = %v, missing %v", found, missing)
	}
	// a was used last: c's entries push b out.
	h.put("c", []mailstore.CacheEntry{entry(1, 100), entry(2, 100)})
	if found, _ := h.get("b", []uint32{1, 2}); len(found) != 0 {
		t.Errorf("b still held after the budget was spent: %v", found)
	}
	if found, _ := h.get("a", []uint32{1, 2}); len(found) != 2 {
		t.Errorf("a (used lately) dropped: %v", found)
	}
	if h.size > h.limit {
		t.Errorf("size %d over the limit %d", h.size, h.limit)
	}
	// One mailbox larger than the budget keeps what fits.
	big := make([]mailstore.CacheEntry, 10)
	for i := range big {
		big[i] = entry(uint32(i+1), 100)
	}
	h.put("d", big)
	if found, _ := h.get("d", []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}); len(found) != 5 || h.size > h.limit {
		t.Errorf("oversized mailbox: %d entries held, size %d of %d", len(found), h.size, h.limit)
	}
	h.put("", big[:1])
	if found, missing := h.get("", []uint32{1}); len(found) != 0 || len(missing) != 1 {
		t.Errorf("empty key held %v", found)
	}
	// search_cache_memory = 0 (Options.HeaderCacheMemory < 0): nothing kept.
	off := New(Options{HeaderCacheMemory: -1}).hdrs
	off.put("a", big[:1])
	if found, missing := off.get("a", []uint32{1}); len(found) != 0 || len(missing) != 1 {
		t.Errorf("a cache with no memory held %v", found)
	}
}

// TestHeaderCacheMemoryNewMailbox: entries held in memory belong to one
// mailbox incarnation: a mailbox deleted and created again, whose new
// messages have the old UIDs, is searched from its own messages.
func TestHeaderCacheMemoryNewMailbox(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := login(t, st)
		subject := func(word string, want []uint32) {
			t.Helper()
			crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: word}}}
			for range 2 { // the first fills the caches, the second reads them
				d, err := s.Search(ctx, imap.NumKindUID, crit, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(d.All, want) {
					t.Errorf("UID SEARCH SUBJECT %s = %v, want %v", word, d.All, want)
				}
			}
		}
		if err := st.Create(ctx, "Box", ""); err != nil {
			t.Fatal(err)
		}
		appendMsg(t, st, "Box", "Subject: alpha\r\n\r\none\r\n")
		selectBox(t, s, "Box", false)
		subject("alpha", []uint32{1})
		if err := s.Unselect(ctx, false); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "Box"); err != nil {
			t.Fatal(err)
		}
		if err := st.Create(ctx, "Box", ""); err != nil {
			t.Fatal(err)
		}
		appendMsg(t, st, "Box", "Subject: beta\r\n\r\ntwo\r\n")
		selectBox(t, s, "Box", false)
		subject("alpha", nil)
		subject("beta", []uint32{1})
	})
}
