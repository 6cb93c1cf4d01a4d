package integration

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPClientSearchExt drives ESEARCH (RFC 4731), SORT (RFC 5256) and
// THREAD (RFC 5256) with go-imap's imapclient against the real stack over
// threadMessages. (imapclient v2.0.0-beta.8 has no WITHIN keys and does not
// send RETURN (SAVE); the transcripts cover those.)
func TestIMAPClientSearchExt(t *testing.T) {
	t.Parallel()
	addr := startTranscriptServer(t, deliverThreads)
	c := dialIMAP(t, addr, nil)
	if err := c.Login(tsUser, tsPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	caps := c.Caps()
	for _, cp := range []imap.Cap{imap.CapESearch, imap.CapSearchRes, imap.CapWithin, imap.CapSort, imap.CapSortDisplay, imap.CapESort} {
		if !caps.Has(cp) {
			t.Errorf("capability %s missing: %s", cp, capList(caps))
		}
	}
	if got := fmt.Sprint(caps.ThreadAlgorithms()); got != "[ORDEREDSUBJECT REFERENCES]" && got != "[REFERENCES ORDEREDSUBJECT]" {
		t.Errorf("thread algorithms = %s", got)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	t.Run("ESEARCH", func(t *testing.T) {
		plan := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "plan"}}}
		d, err := c.Search(plan, &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true, ReturnAll: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if d.Min != 1 || d.Max != 9 || d.Count != 5 || !reflect.DeepEqual(d.AllSeqNums(), []uint32{1, 2, 4, 5, 9}) {
			t.Errorf("SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT plan = %+v (all %v), want MIN 1 MAX 9 COUNT 5 ALL 1:2,4:5,9", d, d.AllSeqNums())
		}
		d, err = c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, &imap.SearchOptions{ReturnCount: true}).Wait()
		if err != nil || d.Count != 9 {
			t.Errorf("UID SEARCH RETURN (COUNT) UNDELETED = %+v, %v, want COUNT 9", d, err)
		}
		d, err = c.Search(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "nothing"}}},
			&imap.SearchOptions{ReturnMin: true, ReturnCount: true}).Wait()
		if err != nil || d.Min != 0 || d.Count != 0 {
			t.Errorf("SEARCH RETURN (MIN COUNT) with no match = %+v, %v, want COUNT 0", d, err)
		}
	})

	t.Run("SORT", func(t *testing.T) {
		for _, tt := range []struct {
			keys []imapclient.SortCriterion
			uid  bool
			want []uint32
		}{
			{[]imapclient.SortCriterion{{Key: imapclient.SortKeySubject}}, false, []uint32{7, 8, 3, 6, 1, 2, 4, 5, 9}},
			{[]imapclient.SortCriterion{{Key: imapclient.SortKeySubject}, {Key: imapclient.SortKeyDate, Reverse: true}}, true, []uint32{7, 8, 6, 3, 9, 5, 4, 2, 1}},
			{[]imapclient.SortCriterion{{Key: imapclient.SortKeyFrom}}, false, []uint32{2, 4, 3, 6, 5, 7, 9, 8, 1}},
			{[]imapclient.SortCriterion{{Key: imapclient.SortKeyArrival, Reverse: true}}, false, []uint32{9, 8, 7, 6, 5, 4, 2, 1, 3}},
		} {
			opts := &imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{}, SortCriteria: tt.keys}
			cmd := c.Sort(opts)
			if tt.uid {
				cmd = c.UIDSort(opts)
			}
			got, err := cmd.Wait()
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("SORT %+v (uid %v) = %v, %v, want %v", tt.keys, tt.uid, got, err, tt.want)
			}
		}
	})

	t.Run("THREAD", func(t *testing.T) {
		leaf := func(n ...uint32) imapclient.ThreadData { return imapclient.ThreadData{Chain: n} }
		refs := []imapclient.ThreadData{
			{Chain: []uint32{1}, SubThreads: []imapclient.ThreadData{leaf(2, 4, 9), leaf(5)}},
			leaf(3, 6),
			{SubThreads: []imapclient.ThreadData{leaf(8), leaf(7)}},
		}
		subj := []imapclient.ThreadData{
			{Chain: []uint32{1}, SubThreads: []imapclient.ThreadData{leaf(2), leaf(4), leaf(5), leaf(9)}},
			leaf(3, 6),
			leaf(8, 7),
		}
		for _, tt := range []struct {
			alg  imap.ThreadAlgorithm
			uid  bool
			want []imapclient.ThreadData
		}{
			{imap.ThreadReferences, false, refs},
			{imap.ThreadReferences, true, refs},
			{imap.ThreadOrderedSubject, false, subj},
		} {
			opts := &imapclient.ThreadOptions{Algorithm: tt.alg, SearchCriteria: &imap.SearchCriteria{}}
			cmd := c.Thread(opts)
			if tt.uid {
				cmd = c.UIDThread(opts)
			}
			got, err := cmd.Wait()
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("THREAD %s (uid %v) = %+v, %v, want %+v", tt.alg, tt.uid, got, err, tt.want)
			}
		}
	})
}
