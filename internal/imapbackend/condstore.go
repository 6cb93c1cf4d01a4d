package imapbackend

import (
	"context"
	"math"
	"slices"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// CONDSTORE and QRESYNC (RFC 7162) over the store's per-message MODSEQ and
// its history of expunged UIDs (mailstore.Mailbox.Changes).

var _ imapserver.SessionCondStore = (*session)(nil)

// condState is what the client enabled (RFC 7162 §3.1, §3.2.3); it lasts
// for the connection.
type condState struct {
	condStore bool // MODSEQ and UID in every unsolicited FETCH
	qresync   bool // VANISHED instead of EXPUNGE
}

// Enable implements imapserver.SessionEnable.
func (s *session) Enable(ext string) {
	switch ext {
	case imapserver.ExtCondStore:
		s.cond.condStore = true
	case imapserver.ExtQResync:
		s.cond.qresync = true
	case imapserver.ExtIMAP4rev2:
		s.rev2 = true
	}
}

// HighestModSeq implements imapserver.SessionCondStore: the MODSEQ up to
// which the client has been told every change (see selected.told).
func (s *session) HighestModSeq(ctx context.Context) (uint64, error) {
	sel, err := s.needSel()
	if err != nil {
		return 0, err
	}
	return sel.told, nil
}

// Resync implements imapserver.SessionCondStore: the QRESYNC select
// parameter (RFC 7162 §3.2.5). It reports what changed since q.ModSeq,
// among the known UIDs, as seen by the sequence map just loaded: the
// expunged UIDs as VANISHED (EARLIER), then a FETCH (UID FLAGS MODSEQ) for
// each changed message, new ones included.
func (s *session) Resync(ctx context.Context, w imapserver.FetchWriter, q *imap.SelectQResync) error {
	sel, err := s.needSel()
	if err != nil {
		return err
	}
	if q.UIDValidity != sel.uidValidity {
		// §3.2.5: ignore the rest, as if nothing changed.
		return nil
	}
	changed, expunged, _, err := sel.mb.Changes(ctx, q.ModSeq)
	if err != nil {
		return storeError("changes", err)
	}
	known := func(uid uint32) bool {
		// Without known UIDs the client knows 1:UIDNEXT-1, that is
		// every UID so far (§3.2.5.1).
		return q.KnownUIDs == nil || q.KnownUIDs.Contains(uid, math.MaxUint32)
	}
	floor := sel.seqMatchFloor(q)
	var vanished []uint32
	for _, uid := range expunged {
		if _, inMap := sel.index(uid); !inMap && uid > floor && known(uid) {
			vanished = append(vanished, uid)
		}
	}
	if len(vanished) > 0 {
		if err := w.(imapserver.ModSeqWriter).WriteVanished(imap.NumSetOf(vanished), true); err != nil {
			return err
		}
	}
	for _, m := range changed {
		i, ok := sel.index(m.UID)
		if !ok || !known(m.UID) || sel.modSeq[i] <= q.ModSeq {
			continue
		}
		mw := w.Message(uint32(i + 1))
		mw.WriteUID(m.UID)
		mw.WriteFlags(sel.messageFlags(i))
		mw.WriteModSeq(sel.modSeq[i])
		if err := mw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// fetchVanished writes the VANISHED (EARLIER) of UID FETCH ... (CHANGEDSINCE
// n VANISHED) (RFC 7162 §3.2.6): the UIDs of set expunged with a MODSEQ
// above since, before any FETCH. UIDs still in the sequence map (expunged
// by another session, not yet reported) are left to the VANISHED that
// will report them.
func (s *session) fetchVanished(ctx context.Context, w imapserver.FetchWriter, set imap.NumSet, since uint64) error {
	sel := s.sel
	_, expunged, _, err := sel.mb.Changes(ctx, since)
	if err != nil {
		return storeError("changes", err)
	}
	var out []uint32
	for _, uid := range expunged {
		// "*" stands for the largest UID; an expunged one above the
		// last message is still one the client asked about.
		if _, inMap := sel.index(uid); !inMap && set.Contains(uid, math.MaxUint32) {
			out = append(out, uid)
		}
	}
	if len(out) == 0 {
		return nil
	}
	mw, ok := w.(imapserver.ModSeqWriter)
	if !ok {
		return nil
	}
	return mw.WriteVanished(imap.NumSetOf(out), true)
}

// seqMatchFloor applies the message sequence match data (RFC 7162
// §3.2.5.2): the client knows every expunge up to the UID of the last pair
// (in order, stopping at the first mismatch) whose sequence number still
// has that UID, so no lower UID need be reported. 0 when none matches.
func (sel *selected) seqMatchFloor(q *imap.SelectQResync) uint32 {
	if q.KnownSeqs == nil || q.KnownSeqUIDs == nil {
		return 0
	}
	seqs := expandSet(*q.KnownSeqs)
	uids := expandSet(*q.KnownSeqUIDs)
	var floor uint32
	for k := 0; k < len(seqs) && k < len(uids); k++ {
		seq, uid := seqs[k], uids[k]
		if seq == 0 || int64(seq) > int64(len(sel.uids)) || sel.uids[seq-1] != uid {
			break
		}
		floor = uid
	}
	return floor
}

// maxSeqMatch bounds the pairs of sequence match data looked at: the data
// is a sample, and a hostile client could send 1:4294967295.
const maxSeqMatch = 100000

// expandSet lists the numbers of a set without "*" in the client's order,
// at most maxSeqMatch of them.
func expandSet(set imap.NumSet) []uint32 {
	var out []uint32
	for _, r := range set.Ranges {
		lo, hi := r.Start, r.Stop
		step := 1
		if lo > hi {
			step = -1
		}
		for n := int64(lo); ; n += int64(step) {
			if len(out) >= maxSeqMatch {
				return out
			}
			out = append(out, uint32(n))
			if n == int64(hi) {
				break
			}
		}
	}
	return out
}

// writeExpunged removes the given UIDs from the map and tells the client:
// one VANISHED once QRESYNC is on (RFC 7162 §3.2.10), else an EXPUNGE per
// message. Only UIDs in the map are reported (§3.2.10.2).
func (s *session) writeExpunged(w imapserver.UpdateWriter, uids []uint32) error {
	sel := s.sel
	mw, ok := w.(imapserver.ModSeqWriter)
	if !s.cond.qresync || !ok {
		return sel.removeUIDs(uids, w.WriteExpunge)
	}
	var in []uint32
	for _, u := range uids {
		if _, found := sel.index(u); found {
			in = append(in, u)
		}
	}
	if len(in) == 0 {
		return nil
	}
	slices.Sort(in)
	in = slices.Compact(in)
	if err := sel.removeUIDs(in, func(uint32) error { return nil }); err != nil {
		return err
	}
	return mw.WriteVanished(imap.NumSetOf(in), false)
}

// catchUpAfterExpunge polls once more after this session expunged n
// messages with QRESYNC on, so that HighestModSeq covers the expunge for
// the tagged OK [HIGHESTMODSEQ] (RFC 7162 §3.2.7).
func (s *session) catchUpAfterExpunge(ctx context.Context, w imapserver.UpdateWriter, n int) error {
	if n == 0 || !s.cond.qresync {
		return nil
	}
	return s.poll(ctx, w, true)
}

// writeFlagsUpdate writes an unsolicited FETCH for the message at index i:
// FLAGS, with the UID once IMAP4rev2 is on (RFC 9051 §7.5.2), and once
// CONDSTORE is on also UID and MODSEQ (RFC 7162 §3.1, §3.2.4).
func (s *session) writeFlagsUpdate(w imapserver.UpdateWriter, i int) error {
	sel := s.sel
	if mw, ok := w.(imapserver.ModSeqWriter); ok && s.cond.condStore {
		return mw.WriteMessageModSeq(uint32(i+1), sel.uids[i], sel.messageFlags(i), sel.modSeq[i])
	}
	var uid uint32
	if s.rev2 {
		uid = sel.uids[i]
	}
	return w.WriteMessageFlags(uint32(i+1), uid, sel.messageFlags(i))
}

// StoreConditional implements imapserver.SessionCondStore (RFC 3501
// §6.4.6, RFC 7162 §3.1.3).
func (s *session) StoreConditional(ctx context.Context, w imapserver.FetchWriter, kind imap.NumKind, numSet imap.NumSet, flags *imap.StoreFlags) (*imap.StoreResult, error) {
	sel, err := s.needSel()
	if err != nil {
		return nil, err
	}
	if sel.readOnly {
		return nil, errReadOnly
	}
	idx, err := sel.resolve(kind, numSet)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return &imap.StoreResult{}, nil
	}
	uids := make([]uint32, len(idx))
	for k, i := range idx {
		uids[k] = sel.uids[i]
	}
	var (
		changed []mailstore.MessageMeta
		failed  []uint32
	)
	if flags.Conditional && flags.UnchangedSince == 0 {
		// Every message has a MODSEQ above 0: all fail, and nothing
		// is stored (RFC 7162 §3.1.3, example 8).
		failed = uids
	} else {
		var op mailstore.FlagOp
		switch flags.Op {
		case imap.StoreFlagsAdd:
			op = mailstore.FlagsAdd
		case imap.StoreFlagsDel:
			op = mailstore.FlagsRemove
		default:
			op = mailstore.FlagsSet
		}
		changed, failed, err = sel.mb.StoreFlags(ctx, uids, op, sel.knownSpelling(storeFlags(flags.Flags)), flags.UnchangedSince)
		if err != nil {
			return nil, storeError("store", err)
		}
	}
	didChange := make(map[uint32]bool, len(changed))
	for _, m := range changed {
		if i, ok := sel.index(m.UID); ok {
			sel.setFlags(i, m.Flags, m.ModSeq)
			didChange[m.UID] = true
		}
	}
	// A keyword new to the mailbox is announced before the FETCH lines
	// that carry it, when the writer can (the server's always can).
	if uw, ok := w.(imapserver.UpdateWriter); ok {
		if err := sel.announceKeywords(uw); err != nil {
			return nil, err
		}
	}
	didFail := make(map[uint32]bool, len(failed))
	for _, u := range failed {
		didFail[u] = true
	}
	res := &imap.StoreResult{}
	var modified []uint32
	gone := false
	for _, i := range idx {
		uid := sel.uids[i]
		if _, ok := sel.gone[uid]; ok {
			// Expunged by another session: nothing was stored, and
			// the flags this session knew would read as a refusal.
			gone = true
			continue
		}
		if didFail[uid] {
			// The poll after the command reports the flags another
			// session set, as RFC 7162 example 10 recommends.
			if kind == imap.NumKindUID {
				modified = append(modified, uid)
			} else {
				modified = append(modified, uint32(i+1))
			}
			continue
		}
		if flags.Silent && !(s.cond.condStore && didChange[uid]) {
			continue
		}
		// §3.1.3: a changed message gets a FETCH with MODSEQ even for
		// .SILENT once CONDSTORE is on, and with UID (§3.2.4).
		mw := w.Message(uint32(i + 1))
		if kind == imap.NumKindUID || s.cond.condStore {
			mw.WriteUID(uid)
		}
		if !flags.Silent {
			mw.WriteFlags(sel.messageFlags(i))
		}
		if s.cond.condStore {
			mw.WriteModSeq(sel.modSeq[i])
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	}
	if len(modified) > 0 {
		res.Modified = imap.NumSetOf(modified)
	} else if gone {
		return res, expungeIssued // MODIFIED, when due, says more
	}
	return res, nil
}
