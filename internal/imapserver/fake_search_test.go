package imapserver

import (
	"context"
	"slices"
	"time"

	"github.com/postern/postern/internal/imap"
)

// The fake's SEARCHRES, WITHIN, SORT and THREAD: just enough to exercise
// the parser and the responses; the real semantics are imapbackend's.

var (
	_ SessionSearchRes = (*fakeSession)(nil)
	_ SessionSort      = (*fakeSession)(nil)
)

// ResetSearchResult implements SessionSearchRes.
func (s *fakeSession) ResetSearchResult() { s.saved = nil }

// save sets the variable from the matching UIDs (RFC 5182 §2.4 subsets).
func (s *fakeSession) save(uids []uint32, opts *imap.SearchOptions) {
	all, lo, hi := opts.SavedSubset()
	s.saved = nil
	switch {
	case len(uids) == 0:
	case all:
		s.saved = slices.Clone(uids)
	default:
		if lo {
			s.saved = append(s.saved, uids[0])
		}
		if hi && (!lo || len(uids) > 1) {
			s.saved = append(s.saved, uids[len(uids)-1])
		}
	}
}

// within implements OLDER and YOUNGER against fixedNow.
func (s *fakeSession) within(m *fakeMsg, c *imap.SearchCriteria) bool {
	age := fixedNow.Sub(m.date)
	return (c.Older == 0 || age >= time.Duration(c.Older)*time.Second) &&
		(c.Younger == 0 || age <= time.Duration(c.Younger)*time.Second)
}

// Sort implements SessionSort: the matches in sequence order, reversed
// when the first key is; the keys are recorded for parser tests.
func (s *fakeSession) Sort(ctx context.Context, kind imap.NumKind, keys []imap.SortKey, c *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	d, err := s.Search(ctx, kind, c, opts)
	if err != nil {
		return nil, err
	}
	s.st.mu.Lock()
	s.st.lastSort = keys
	s.st.mu.Unlock()
	if keys[0].Reverse {
		slices.Reverse(d.All)
	}
	return d, nil
}

// Thread implements SessionSort: with three or more matches, the first
// is the parent of two sub-threads (the second, and the rest as a
// chain); otherwise each match is a thread.
func (s *fakeSession) Thread(ctx context.Context, kind imap.NumKind, alg imap.ThreadAlgorithm, c *imap.SearchCriteria) ([]imap.Thread, error) {
	d, err := s.Search(ctx, kind, c, &imap.SearchOptions{})
	if err != nil {
		return nil, err
	}
	n := d.All
	if len(n) >= 3 {
		return []imap.Thread{{Nums: n[:1], Children: []imap.Thread{{Nums: n[1:2]}, {Nums: n[2:]}}}}, nil
	}
	var ts []imap.Thread
	for _, x := range n {
		ts = append(ts, imap.Thread{Nums: []uint32{x}})
	}
	return ts, nil
}
