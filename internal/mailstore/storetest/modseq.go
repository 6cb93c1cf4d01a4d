package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// The MODSEQ history CONDSTORE and QRESYNC (RFC 7162) are built on: every
// change gets a higher MODSEQ, a no-op flag change gets none (§3.1.11),
// and each expunge, by Expunge or MoveTo, is remembered with its MODSEQ so
// that Changes can report it to a client that was away (§3.2, §3.2.5).

func testModSeqHistory(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "Box", "")
	mustCreate(t, s, "Other", "")
	mb := mustOpen(t, s, "Box")
	defer mb.Close()
	st0, err := mb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 7162 §7: HIGHESTMODSEQ is a mod-sequence-value, at least 1,
	// even for a mailbox that never had a message.
	if st0.HighestModSeq < 1 {
		t.Errorf("new mailbox HIGHESTMODSEQ = %d, want >= 1", st0.HighestModSeq)
	}
	for i := 1; i <= 6; i++ {
		mustAppend(t, s, "Box", msg(i))
	}
	msgs := mustMessages(t, mb)
	last := st0.HighestModSeq
	for _, m := range msgs {
		if m.ModSeq <= st0.HighestModSeq {
			t.Errorf("appended UID %d MODSEQ %d, want > %d", m.UID, m.ModSeq, st0.HighestModSeq)
		}
		last = max(last, m.ModSeq)
	}
	mark := last // the client's HIGHESTMODSEQ when it went away

	// A no-op flag change keeps the MODSEQ (§3.1.11).
	changed, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsRemove, []string{`\Seen`}, 0)
	if err != nil || len(changed) != 0 {
		t.Errorf("StoreFlags(-\\Seen on unseen) = %v, %v, want nothing changed", changed, err)
	}
	if st, _ := mb.State(ctx); st.HighestModSeq != mark {
		t.Errorf("HIGHESTMODSEQ after a no-op STORE = %d, want %d", st.HighestModSeq, mark)
	}

	if _, _, err := mb.StoreFlags(ctx, []uint32{4}, mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, []uint32{2, 3}); err != nil {
		t.Fatal(err)
	}
	afterExpunge, err := mb.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := mb.MoveTo(ctx, []uint32{5}, "Other"); err != nil {
		t.Fatal(err)
	}

	changed, expunged, st, err := mb.Changes(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(uidsOf(changed), []uint32{4}) || !slices.Equal(expunged, []uint32{2, 3, 5}) {
		t.Errorf("Changes(%d) = changed %v, expunged %v, want [4], [2 3 5]", mark, uidsOf(changed), expunged)
	}
	if st.HighestModSeq <= afterExpunge.HighestModSeq || afterExpunge.HighestModSeq <= mark {
		t.Errorf("HIGHESTMODSEQ %d -> %d (expunge) -> %d (move): each must rise", mark, afterExpunge.HighestModSeq, st.HighestModSeq)
	}
	// Since the first expunge, only the move is left.
	_, expunged, _, err = mb.Changes(ctx, afterExpunge.HighestModSeq)
	if err != nil || !slices.Equal(expunged, []uint32{5}) {
		t.Errorf("Changes(after expunge) expunged = %v, %v, want [5]", expunged, err)
	}
	// From the beginning of time, every expunge is still known.
	_, expunged, _, err = mb.Changes(ctx, 0)
	if err != nil || !slices.Equal(expunged, []uint32{2, 3, 5}) {
		t.Errorf("Changes(0) expunged = %v, %v, want [2 3 5]", expunged, err)
	}
	// Nothing since now.
	changed, expunged, _, err = mb.Changes(ctx, st.HighestModSeq)
	if err != nil || len(changed)+len(expunged) != 0 {
		t.Errorf("Changes(HIGHESTMODSEQ) = %v, %v, %v, want nothing", uidsOf(changed), expunged, err)
	}
}

// checkHistoryPersists is RunPersistent's part for QRESYNC: the expunged
// UIDs and their MODSEQ survive closing the store.
func checkHistoryPersists(t *testing.T, mb mailstore.Mailbox, want []uint32) {
	t.Helper()
	_, expunged, _, err := mb.Changes(context.Background(), 0)
	if err != nil || !slices.Equal(expunged, want) {
		t.Errorf("Changes(0) after reopen: expunged = %v, %v, want %v", expunged, err, want)
	}
}
