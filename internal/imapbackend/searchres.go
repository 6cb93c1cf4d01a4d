package imapbackend

import (
	"slices"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
)

var _ imapserver.SessionSearchRes = (*session)(nil)

// ResetSearchResult implements imapserver.SessionSearchRes: a SEARCH with
// SAVE failed, so "$" is now empty (RFC 5182 §2.1).
func (s *session) ResetSearchResult() {
	if s.sel != nil {
		s.sel.saved = nil
	}
}

// saveResult sets the search result variable from the indices a SEARCH
// (ascending) or SORT (in sort order) matched, keeping the subset opts ask for (RFC 5182
// §2.4: SAVE with MIN and/or MAX alone keeps only those). The variable
// holds UIDs, so that messages expunged later simply drop out of it and
// it means the same messages to FETCH and UID FETCH (RFC 5182 §2.1).
func (sel *selected) saveResult(idx []int, opts *imap.SearchOptions) {
	all, lo, hi := opts.SavedSubset()
	var saved []uint32
	switch {
	case len(idx) == 0:
	case all:
		saved = make([]uint32, len(idx))
		for k, i := range idx {
			saved[k] = sel.uids[i]
		}
	default:
		if lo {
			saved = append(saved, sel.uids[idx[0]])
		}
		if hi && (!lo || len(idx) > 1) {
			saved = append(saved, sel.uids[idx[len(idx)-1]])
		}
	}
	slices.Sort(saved)
	sel.saved = slices.Compact(saved)
}

// inSaved reports whether uid is in the search result variable.
func (sel *selected) inSaved(uid uint32) bool {
	_, ok := slices.BinarySearch(sel.saved, uid)
	return ok
}

// resolveSaved returns the indices of the saved messages still in the
// map, ascending: "$" as a sequence set or a UID set (RFC 5182 §2.1: an
// empty "$" is valid and matches nothing).
func (sel *selected) resolveSaved() []int {
	out := make([]int, 0, len(sel.saved))
	for _, u := range sel.saved {
		if i, ok := sel.index(u); ok {
			out = append(out, i)
		}
	}
	return out
}
