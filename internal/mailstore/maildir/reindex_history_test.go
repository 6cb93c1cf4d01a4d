package maildir

import (
	"context"
	"slices"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// TestReindexKeepsModSeqHistory: after Reindex, HIGHESTMODSEQ has not gone
// down, every message has a MODSEQ above the old one (a client resyncing
// from its cached HIGHESTMODSEQ refetches all flags), and the expunged
// UIDs are still reported (RFC 7162 §3.2.5, §3.2.6).
func TestReindexKeepsModSeqHistory(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	for i := 0; i < 4; i++ {
		appendT(t, s, "INBOX")
	}
	mb := openT(t, s, "INBOX")
	if _, err := mb.Expunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{3}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	before, err := mb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	mb = openT(t, s, "INBOX")
	changed, expunged, after, err := mb.Changes(ctx, before.HighestModSeq)
	if err != nil {
		t.Fatal(err)
	}
	if after.HighestModSeq <= before.HighestModSeq || after.UIDValidity != before.UIDValidity {
		t.Errorf("state after Reindex = %+v, before %+v: want the same UIDVALIDITY and a higher HIGHESTMODSEQ", after, before)
	}
	var uids []uint32
	for _, m := range changed {
		uids = append(uids, m.UID)
	}
	if !slices.Equal(uids, []uint32{1, 3, 4}) {
		t.Errorf("Changes(old HIGHESTMODSEQ) after Reindex = %+v, want every message", changed)
	}
	if len(expunged) != 0 {
		t.Errorf("Changes(old HIGHESTMODSEQ) expunged = %v, want none (UID 2 went before)", expunged)
	}
	if _, expunged, _, err = mb.Changes(ctx, 0); err != nil || !slices.Equal(expunged, []uint32{2}) {
		t.Errorf("Changes(0) expunged after Reindex = %v, %v, want [2]", expunged, err)
	}
}
