package imapbackend

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestSearchRes checks the SEARCHRES variable (RFC 5182): what SAVE keeps
// for each combination of result options (§2.4), "$" as a sequence set,
// a UID set and a search key, its update on expunge and its reset.
func TestSearchRes(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := fillThreadCorpus(t, st) // 8 messages, UIDs 11-18
		dollar := imap.NumSet{SearchRes: true}
		saved := func() string {
			idx, err := s.sel.resolve(imap.NumKindSeq, dollar)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(idx)
		}
		if got := saved(); got != "[]" {
			t.Errorf("$ after SELECT = %s, want empty", got)
		}
		evens := crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "2,4,6,8")} })
		for _, tt := range []struct {
			opts imap.SearchOptions
			want string // indices
		}{
			{imap.SearchOptions{ReturnSave: true}, "[1 3 5 7]"},
			{imap.SearchOptions{ReturnSave: true, ReturnMin: true}, "[1]"},
			{imap.SearchOptions{ReturnSave: true, ReturnMax: true}, "[7]"},
			{imap.SearchOptions{ReturnSave: true, ReturnMin: true, ReturnMax: true}, "[1 7]"},
			{imap.SearchOptions{ReturnSave: true, ReturnMin: true, ReturnCount: true}, "[1 3 5 7]"},
			{imap.SearchOptions{ReturnSave: true, ReturnAll: true, ReturnMax: true}, "[1 3 5 7]"},
		} {
			if _, err := s.Search(ctx, imap.NumKindUID, evens, &tt.opts); err != nil {
				t.Fatal(err)
			}
			if got := saved(); got != tt.want {
				t.Errorf("$ after SEARCH RETURN %+v = %s, want %s", tt.opts, got, tt.want)
			}
		}
		// A SEARCH without SAVE leaves $ alone; "$" as a key, in both
		// kinds, and combined with other keys.
		if _, err := s.Search(ctx, imap.NumKindSeq, &imap.SearchCriteria{}, &imap.SearchOptions{ReturnAll: true}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			c    *imap.SearchCriteria
			kind imap.NumKind
			want []uint32
		}{
			{&imap.SearchCriteria{SeqNum: []imap.NumSet{dollar}}, imap.NumKindSeq, []uint32{2, 4, 6, 8}},
			{&imap.SearchCriteria{UID: []imap.NumSet{dollar}}, imap.NumKindUID, []uint32{12, 14, 16, 18}},
			{&imap.SearchCriteria{SeqNum: []imap.NumSet{dollar, set(t, "1:5")}}, imap.NumKindSeq, []uint32{2, 4}},
			{&imap.SearchCriteria{Not: []imap.SearchCriteria{{SeqNum: []imap.NumSet{dollar}}}}, imap.NumKindSeq, []uint32{1, 3, 5, 7}},
		} {
			got, err := s.Search(ctx, tt.kind, tt.c, &imap.SearchOptions{})
			if err != nil || !reflect.DeepEqual(got.All, tt.want) {
				t.Errorf("SEARCH %+v = %v, %v, want %v", tt.c, got, err, tt.want)
			}
		}
		// SORT with SAVE keeps its matches; MIN alone the first in
		// sort order.
		if _, err := s.Sort(ctx, imap.NumKindSeq, []imap.SortKey{{Name: "DATE", Reverse: true}}, evens,
			&imap.SearchOptions{ReturnSave: true, ReturnMin: true}); err != nil {
			t.Fatal(err)
		}
		if got := saved(); got != "[7]" {
			t.Errorf("$ after SORT RETURN (SAVE MIN) (REVERSE DATE) = %s, want [7]", got)
		}
		if _, err := s.Search(ctx, imap.NumKindSeq, evens, &imap.SearchOptions{ReturnSave: true}); err != nil {
			t.Fatal(err)
		}
		// Expunging message 4 (UID 14) takes it out of $.
		if err := s.Store(ctx, discardFetch{}, imap.NumKindSeq, set(t, "4"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Expunge(ctx, discardUpdates{}, nil); err != nil {
			t.Fatal(err)
		}
		if got := saved(); got != "[1 4 6]" {
			t.Errorf("$ after EXPUNGE of 4 = %s, want [1 4 6]", got)
		}
		s.ResetSearchResult()
		if got := saved(); got != "[]" {
			t.Errorf("$ after ResetSearchResult = %s, want empty", got)
		}
		if _, err := s.Search(ctx, imap.NumKindSeq, evens, &imap.SearchOptions{ReturnSave: true}); err != nil {
			t.Fatal(err)
		}
		selectBox(t, s, "INBOX", true)
		if got := saved(); got != "[]" {
			t.Errorf("$ after EXAMINE = %s, want empty", got)
		}
	})
}

// TestSearchWithin checks OLDER and YOUNGER (RFC 5032) against the
// backend's clock (testTime), both ends included.
func TestSearchWithin(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, age := range []time.Duration{10 * time.Second, 100 * time.Second, time.Hour} {
			if _, _, err := st.Append(ctx, "INBOX", strings.NewReader(simpleMsg(1)), mailstore.AppendOptions{InternalDate: testTime.Add(-age)}); err != nil {
				t.Fatal(err)
			}
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		for _, tt := range []struct {
			older, younger uint32
			want           []uint32
		}{
			{older: 100, want: []uint32{2, 3}},
			{older: 101, want: []uint32{3}},
			{younger: 100, want: []uint32{1, 2}},
			{younger: 9},
			{older: 10, younger: 3600, want: []uint32{1, 2, 3}},
			{older: 50, younger: 200, want: []uint32{2}},
		} {
			c := &imap.SearchCriteria{Older: tt.older, Younger: tt.younger}
			got, err := s.Search(ctx, imap.NumKindSeq, c, &imap.SearchOptions{})
			if err != nil || !reflect.DeepEqual(got.All, tt.want) {
				t.Errorf("SEARCH OLDER %d YOUNGER %d = %v, %v, want %v", tt.older, tt.younger, got, err, tt.want)
			}
		}
	})
}
