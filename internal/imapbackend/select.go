package imapbackend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// Select implements imapserver.Session: SELECT and EXAMINE (RFC 3501
// §6.3.1, §6.3.2). A mailbox already selected is deselected first, even
// when the new one cannot be selected (RFC 3501 §6.3.1).
func (s *session) Select(ctx context.Context, mailbox string, readOnly bool) (*imap.SelectData, error) {
	if err := s.needAuth(); err != nil {
		return nil, err
	}
	if err := s.closeSelected(); err != nil {
		return nil, err
	}
	name, err := canonicalName(mailbox)
	if err != nil {
		return nil, err
	}
	mb, err := s.store.Open(ctx, name)
	if err != nil {
		return nil, storeError("open", err)
	}
	sel, data, err := s.load(ctx, mb, name, readOnly)
	if err != nil {
		mb.Close()
		return nil, storeError("select", err)
	}
	s.sel = sel
	return data, nil
}

// load reads the mailbox into a new sequence map. The state is read before
// the messages, so that changes made in between are seen again by the next
// poll rather than missed.
func (s *session) load(ctx context.Context, mb mailstore.Mailbox, name string, readOnly bool) (*selected, *imap.SelectData, error) {
	st, err := mb.State(ctx)
	if err != nil {
		return nil, nil, err
	}
	sel := &selected{
		mb:          mb,
		name:        name,
		readOnly:    readOnly,
		gone:        map[uint32]struct{}{},
		cursor:      st.HighestModSeq,
		told:        st.HighestModSeq,
		uidValidity: st.UIDValidity,
		hdrs:        s.b.hdrs,
		hdrKey:      hdrMemKey(s.user.Name, st.MailboxID, st.UIDValidity),
		keywords:    map[string]struct{}{},
	}
	firstUnseen := uint32(0)
	size := func(n int) {
		sel.uids, sel.flags, sel.modSeq = make([]uint32, 0, n), make([][]string, 0, n), make([]uint64, 0, n)
	}
	add := func(m mailstore.MessageMeta) {
		sel.uids, sel.flags, sel.modSeq = append(sel.uids, m.UID), append(sel.flags, m.Flags), append(sel.modSeq, m.ModSeq)
		if firstUnseen == 0 && !hasFlag(m.Flags, mailstore.FlagSeen) {
			firstUnseen = uint32(len(sel.uids))
		}
		for _, f := range m.Flags {
			if isKeyword(f) {
				sel.keywords[f] = struct{}{}
			}
		}
	}
	if ml, ok := mb.(mailstore.MessageLister); ok {
		// Straight into the sequence map: the list Messages returns
		// was half of a SELECT's memory on a large mailbox (issue 7).
		if err := ml.EachMessage(ctx, size, add); err != nil {
			return nil, nil, err
		}
	} else {
		msgs, err := mb.Messages(ctx)
		if err != nil {
			return nil, nil, err
		}
		size(len(msgs))
		for _, m := range msgs {
			add(m)
		}
	}
	uidNext := st.UIDNext
	if readOnly {
		// EXAMINE does not claim \Recent (RFC 3501 §6.3.2): it shows
		// the messages nobody claimed yet, read from the same state as
		// the message list, without a second scan.
		if last := sel.lastUID(); st.FirstRecentUID > 0 && st.FirstRecentUID <= last {
			sel.addRecent(st.FirstRecentUID, last)
		}
	} else {
		first, err := mb.ClaimRecent(ctx)
		if err != nil {
			return nil, nil, err
		}
		after, err := mb.State(ctx)
		if err != nil {
			return nil, nil, err
		}
		sel.addRecent(first, after.UIDNext-1)
	}
	if last := sel.lastUID(); uidNext <= last {
		uidNext = last + 1
	}
	flags, perm := sel.mailboxFlags()
	return sel, &imap.SelectData{
		Flags:          flags,
		PermanentFlags: perm,
		NumMessages:    uint32(len(sel.uids)),
		NumRecent:      sel.numRecent(),
		FirstUnseen:    firstUnseen,
		UIDNext:        uidNext,
		UIDValidity:    st.UIDValidity,
		HighestModSeq:  st.HighestModSeq,
		ReadOnly:       readOnly,
		MailboxID:      st.MailboxID,
	}, nil
}

// closeSelected forgets the selected mailbox.
func (s *session) closeSelected() error {
	if s.sel == nil {
		return nil
	}
	mb := s.sel.mb
	s.sel = nil
	if err := mb.Close(); err != nil {
		return fmt.Errorf("imapbackend: close mailbox: %w", err)
	}
	return nil
}

// Unselect implements imapserver.Session: UNSELECT (RFC 3356) and CLOSE
// (RFC 3501 §6.4.2), which first expunges \Deleted messages silently when
// the mailbox is read-write.
func (s *session) Unselect(ctx context.Context, expunge bool) error {
	sel, err := s.needSel()
	if err != nil {
		return err
	}
	if expunge && !sel.readOnly {
		// Catch up silently so that \Deleted set by others counts too.
		if err := s.poll(ctx, discardUpdates{}, true); err != nil {
			return err
		}
		if _, err := sel.mb.Expunge(ctx, sel.deletedUIDs(nil)); err != nil {
			return storeError("expunge", err)
		}
	}
	return s.closeSelected()
}

// deletedUIDs returns the UIDs flagged \Deleted, among idx when non-nil.
func (sel *selected) deletedUIDs(idx []int) []uint32 {
	var out []uint32
	if idx == nil {
		for i, f := range sel.flags {
			if hasFlag(f, mailstore.FlagDeleted) {
				out = append(out, sel.uids[i])
			}
		}
		return out
	}
	for _, i := range idx {
		if hasFlag(sel.flags[i], mailstore.FlagDeleted) {
			out = append(out, sel.uids[i])
		}
	}
	return out
}

// Poll implements imapserver.Session.
func (s *session) Poll(ctx context.Context, w imapserver.UpdateWriter, allowExpunge bool) error {
	return s.poll(ctx, w, allowExpunge)
}

// poll catches up with the store's changes since the cursor and writes
// them: EXPUNGE (when allowed) first, then FLAGS if keywords were added,
// EXISTS and RECENT for new messages, and FETCH FLAGS for messages whose
// flags others changed. It costs one Changes call when nothing changed.
func (s *session) poll(ctx context.Context, w imapserver.UpdateWriter, allowExpunge bool) error {
	sel := s.sel
	if sel == nil {
		return nil
	}
	changed, expunged, st, err := sel.mb.Changes(ctx, sel.cursor)
	if err != nil {
		if errors.Is(err, mailstore.ErrNotExist) {
			// Deleted or renamed away under us: nothing to report; the
			// next command on it will fail.
			return nil
		}
		return storeError("changes", err)
	}
	if st.HighestModSeq > sel.cursor {
		sel.cursor = st.HighestModSeq
	}
	for _, uid := range expunged {
		if _, ok := sel.index(uid); ok {
			sel.gone[uid] = struct{}{}
		}
	}
	var flagged []uint32 // known messages whose flags others changed
	newCount := 0
	for _, m := range changed {
		if i, ok := sel.index(m.UID); ok {
			if m.ModSeq > sel.modSeq[i] {
				if !equalFlags(sel.flags[i], m.Flags) {
					flagged = append(flagged, m.UID)
				}
				sel.setFlags(i, m.Flags, m.ModSeq)
			}
			continue
		}
		if m.UID > sel.lastUID() {
			sel.uids = append(sel.uids, m.UID)
			sel.flags = append(sel.flags, m.Flags)
			sel.modSeq = append(sel.modSeq, m.ModSeq)
			sel.noteKeywords(m.Flags)
			newCount++
		}
	}
	// New messages this session's own APPENDs claimed (claimedThrough)
	// need no claim: every older message was claimed before them.
	if newCount > 0 && !sel.readOnly && sel.lastUID() > sel.claimedThrough {
		first, err := sel.mb.ClaimRecent(ctx)
		if err != nil {
			return storeError("claim recent", err)
		}
		sel.addRecent(first, sel.lastUID())
	}
	if allowExpunge && len(sel.gone) > 0 {
		gone := make([]uint32, 0, len(sel.gone))
		for u := range sel.gone {
			gone = append(gone, u)
		}
		if err := s.writeExpunged(w, gone); err != nil {
			return err
		}
	}
	if len(sel.gone) == 0 {
		sel.told = sel.cursor
	}
	if err := sel.announceKeywords(w); err != nil {
		return err
	}
	if newCount > 0 {
		if err := w.WriteExists(uint32(len(sel.uids))); err != nil {
			return err
		}
		if err := w.WriteRecent(sel.numRecent()); err != nil {
			return err
		}
	}
	for _, uid := range flagged {
		i, ok := sel.index(uid)
		if !ok {
			continue
		}
		if _, isGone := sel.gone[uid]; isGone {
			continue
		}
		if err := s.writeFlagsUpdate(w, i); err != nil {
			return err
		}
	}
	return nil
}

func equalFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Idle implements imapserver.Session (RFC 2177): it polls whenever the
// mailbox signals a change, until stop is closed. A mailbox whose Watch
// covers other processes and outside programs (mailstore.OutsideWatcher:
// the drivers' inotify) is also looked at every IdleSafetyPoll, in case a
// signal was lost; any other every IdlePoll, for the changes its driver
// cannot signal.
func (s *session) Idle(ctx context.Context, w imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.sel == nil {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Watch before the first look, so that a change made between the two
	// is not left for the next poll.
	watch := s.sel.mb.Watch()
	if err := s.poll(ctx, w, true); err != nil {
		return err
	}
	t := time.NewTicker(s.idlePeriod())
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-watch:
		case <-t.C:
		}
		if err := s.poll(ctx, w, true); err != nil {
			return err
		}
	}
}

// idlePeriod is the period of Idle's own poll of the selected mailbox.
func (s *session) idlePeriod() time.Duration {
	if ow, ok := s.sel.mb.(mailstore.OutsideWatcher); ok && ow.WatchesOutside() {
		return s.b.opts.IdleSafetyPoll
	}
	return s.b.opts.IdlePoll
}

// discardUpdates is an UpdateWriter that writes nothing, for catching up
// silently (CLOSE).
type discardUpdates struct{}

func (discardUpdates) WriteExists(uint32) error                           { return nil }
func (discardUpdates) WriteRecent(uint32) error                           { return nil }
func (discardUpdates) WriteExpunge(uint32) error                          { return nil }
func (discardUpdates) WriteMailboxFlags(_, _ []imap.Flag) error           { return nil }
func (discardUpdates) WriteMessageFlags(_, _ uint32, _ []imap.Flag) error { return nil }
func (discardUpdates) WriteVanished(imap.NumSet, bool) error              { return nil }
func (discardUpdates) WriteMessageModSeq(_, _ uint32, _ []imap.Flag, _ uint64) error {
	return nil
}

// announceKeywords writes FLAGS and PERMANENTFLAGS when keywords new to this
// session appeared, so that clients know them before a FETCH shows them
// (RFC 3501 §7.2.6; UW sends them first too).
func (sel *selected) announceKeywords(w imapserver.UpdateWriter) error {
	if !sel.keywordsDirty {
		return nil
	}
	sel.keywordsDirty = false
	flags, perm := sel.mailboxFlags()
	return w.WriteMailboxFlags(flags, perm)
}
