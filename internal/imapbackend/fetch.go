package imapbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// fetchBatch is how many messages one Info call covers: enough to amortise
// an index query, small enough to bound memory on 1:*.
const fetchBatch = 256

// Fetch implements imapserver.Session (RFC 3501 §6.4.5, §6.4.8, §7.4.2).
// Messages another session expunged, not yet reported, are skipped when
// their data is gone, and the command ends OK [EXPUNGEISSUED].
func (s *session) Fetch(ctx context.Context, w imapserver.FetchWriter, kind imap.NumKind, numSet imap.NumSet, opts *imap.FetchOptions) error {
	sel, err := s.needSel()
	if err != nil {
		return err
	}
	idx, err := sel.resolve(kind, numSet)
	if err != nil {
		return err
	}
	if opts.Vanished {
		if err := s.fetchVanished(ctx, w, numSet, opts.ChangedSince); err != nil {
			return err
		}
	}
	if opts.ChangedSince > 0 {
		// RFC 7162 §3.1.4.1: only messages changed since.
		idx = slices.DeleteFunc(idx, func(i int) bool { return sel.modSeq[i] <= opts.ChangedSince })
	}
	needInfo := opts.InternalDate || opts.SaveDate || needPart(opts)
	if needPart(opts) {
		s.readsStructures = true
	}
	setSeen := false
	if !sel.readOnly {
		for _, sec := range opts.BodySection {
			if !sec.Peek && sec.Legacy != "RFC822.HEADER" {
				setSeen = true
			}
		}
		for _, sec := range opts.BinarySection {
			if !sec.Peek {
				setSeen = true
			}
		}
	}
	skipped := sel.anyGone(idx)
	for len(idx) > 0 {
		n := min(len(idx), fetchBatch)
		if err := s.fetchBatch(ctx, w, kind, idx[:n], opts, needInfo, setSeen, &skipped); err != nil {
			return err
		}
		idx = idx[n:]
	}
	if skipped {
		return expungeIssued
	}
	return nil
}

// fetchBatch writes the FETCH responses of idx; it sets *gone when a
// message was expunged meanwhile.
func (s *session) fetchBatch(ctx context.Context, w imapserver.FetchWriter, kind imap.NumKind, idx []int, opts *imap.FetchOptions, needInfo, setSeen bool, gone *bool) error {
	sel := s.sel
	defer sel.flushCache(ctx)
	uids := make([]uint32, len(idx))
	for k, i := range idx {
		uids[k] = sel.uids[i]
	}
	var seen map[uint32]bool // messages this FETCH marked \Seen
	if setSeen {
		var unseen []uint32
		for k, i := range idx {
			if !hasFlag(sel.flags[i], mailstore.FlagSeen) {
				unseen = append(unseen, uids[k])
			}
		}
		if len(unseen) > 0 {
			changed, _, err := sel.mb.StoreFlags(ctx, unseen, mailstore.FlagsAdd, []string{mailstore.FlagSeen}, 0)
			if err != nil {
				return storeError("store \\Seen", err)
			}
			seen = make(map[uint32]bool, len(changed))
			for _, m := range changed {
				if i, ok := sel.index(m.UID); ok {
					sel.setFlags(i, m.Flags, m.ModSeq)
					seen[m.UID] = true
				}
			}
		}
	}
	var infos []mailstore.MessageInfo
	if needInfo {
		var err error
		if infos, err = sel.mb.Info(ctx, uids); err != nil {
			return storeError("info", err)
		}
	}
	// Files are looked up a batch at a time (mailstore.BatchOpener), on
	// the first that is opened: FETCH 1:* BODY[] asked the index for each
	// message's name before.
	files := &infoBatch{sel: sel, uids: uids}
	// One source and one bound method value for the batch: made per
	// message, each was an allocation (issue 7).
	var src msgSource
	open := files.openMessage
	for k, i := range idx {
		uid := uids[k]
		var info *mailstore.MessageInfo
		if needInfo {
			for len(infos) > 0 && infos[0].UID < uid {
				infos = infos[1:]
			}
			if len(infos) == 0 || infos[0].UID != uid {
				*gone = true // expunged meanwhile
				continue
			}
			info = &infos[0]
		}
		if err := s.fetchMessage(ctx, w, kind, i, info, &src, open, opts, seen[uid]); errors.Is(err, errGoneMeanwhile) {
			*gone = true
		} else if err != nil {
			return err
		}
	}
	return nil
}

// fetchMessage writes one FETCH response, items in a fixed order: UID,
// FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY/BODYSTRUCTURE, then the
// body sections as requested.
func (s *session) fetchMessage(ctx context.Context, w imapserver.FetchWriter, kind imap.NumKind, i int, info *mailstore.MessageInfo,
	m *msgSource, open func(context.Context, uint32) (mailstore.MessageReader, error), opts *imap.FetchOptions, seenNow bool) (err error) {
	sel := s.sel
	uid := sel.uids[i]
	*m = msgSource{sel: sel, uid: uid, info: info, open: open}
	defer m.close()

	// Load what may fail before the response is started, so that an
	// error does not leave half a FETCH on the wire.
	var (
		root *message.Part
		bin  *binaryItems
		ext  *extItems
	)
	if needPart(opts) {
		if root, err = m.part(ctx); err != nil {
			if errors.Is(err, mailstore.ErrNotExist) {
				return errGoneMeanwhile
			}
			return err
		}
		if bin, err = m.loadBinary(ctx, root, opts); err == nil {
			ext, err = m.loadExt(ctx, root, opts)
		}
		if err != nil {
			if errors.Is(err, mailstore.ErrNotExist) {
				return errGoneMeanwhile
			}
			return err
		}
	}
	// The sections' bytes are found (and the message opened) before the
	// response starts too: another process may expunge the message after
	// its structure came from the cache, and OpenMessage then fails;
	// found while writing, that left half a response and a [SERVERBUG]
	// (integration/stress_test.go).
	secs := make([]readySection, len(opts.BodySection))
	for k, sec := range opts.BodySection {
		if secs[k], err = m.prepareSection(ctx, root, sec); err != nil {
			if errors.Is(err, mailstore.ErrNotExist) {
				return errGoneMeanwhile
			}
			return err
		}
	}
	// RFC 7162 §3.2.4: a FETCH that sets \Seen carries UID and MODSEQ
	// once CONDSTORE is on.
	condSeen := seenNow && s.cond.condStore
	mw := w.Message(uint32(i + 1))
	if opts.UID || kind == imap.NumKindUID || condSeen {
		mw.WriteUID(uid)
	}
	if opts.Flags || seenNow {
		s.flagScratch = sel.appendMessageFlags(s.flagScratch[:0], i)
		mw.WriteFlags(s.flagScratch) // written at once, not kept
	}
	if opts.ModSeq || condSeen {
		mw.WriteModSeq(sel.modSeq[i])
	}
	if opts.InternalDate {
		mw.WriteInternalDate(info.InternalDate)
	}
	if opts.RFC822Size {
		mw.WriteRFC822Size(info.Size + root.BareLFHeader + root.BareLFBody)
	}
	if opts.Envelope {
		mw.WriteEnvelope(envelope(root.Envelope))
	}
	if opts.BodyStructure {
		mw.WriteBodyStructure(bodyStructure(root), true)
	}
	if opts.Body {
		mw.WriteBodyStructure(bodyStructure(root), false)
	}
	for _, rs := range secs {
		if err := rs.write(mw); err != nil {
			mw.Close()
			return err
		}
	}
	if err := bin.write(mw, opts); err != nil {
		mw.Close()
		return err
	}
	ext.write(mw, opts)
	if opts.SaveDate {
		mw.WriteSaveDate(saveDate(info, s.b.opts.Location))
	}
	return mw.Close()
}

// needPart reports whether a FETCH needs the message's structure.
func needPart(opts *imap.FetchOptions) bool {
	return opts.RFC822Size || opts.Envelope || opts.BodyStructure || opts.Body || len(opts.BodySection) > 0 ||
		len(opts.BinarySection) > 0 || len(opts.BinarySize) > 0 || opts.Preview || opts.EmailID || opts.ThreadID
}

// msgSource gives lazy access to one message's content and structure.
type msgSource struct {
	sel  *selected
	uid  uint32
	info *mailstore.MessageInfo
	r    mailstore.MessageReader
	// open, when set, opens the message instead of the mailbox's
	// OpenMessage (SEARCH: one index lookup per batch).
	open func(ctx context.Context, uid uint32) (mailstore.MessageReader, error)
}

func (m *msgSource) reader(ctx context.Context) (mailstore.MessageReader, error) {
	if m.r == nil {
		open := m.sel.mb.OpenMessage
		if m.open != nil {
			open = m.open
		}
		r, err := open(ctx, m.uid)
		if err != nil {
			return nil, err
		}
		m.r = r
	}
	return m.r, nil
}

func (m *msgSource) close() {
	if m.r != nil {
		m.r.Close()
		m.r = nil
	}
}

// part returns the message's MIME structure: from the store's cache when
// there, else parsed once and cached (DESIGN.md §4: parse once, serve by
// seeking).
func (m *msgSource) part(ctx context.Context) (*message.Part, error) {
	if m.info != nil && m.info.Cache != nil {
		if p, err := message.UnmarshalPart(m.info.Cache); err == nil {
			return p, nil
		}
		// An old or damaged encoding: parse again and replace it.
	}
	r, err := m.reader(ctx)
	if err != nil {
		return nil, err
	}
	size := r.Size()
	p, err := message.Parse(r, size)
	if err != nil {
		return nil, fmt.Errorf("imapbackend: parse UID %d: %w", m.uid, err)
	}
	if data, err := p.MarshalBinary(); err == nil {
		// Stored with the others of this FETCH or SEARCH in one write
		// (flushCache), not one commit per message.
		m.sel.queueCache(m.uid, data)
		if m.info != nil {
			m.info.Cache = data
		}
	}
	return p, nil
}

// header returns the raw header block of part p.
func (m *msgSource) header(ctx context.Context, p *message.Part) ([]byte, error) {
	r, err := m.reader(ctx)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, p.BodyStart-p.HeaderStart)
	if _, err := r.ReadAt(buf, p.HeaderStart); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, fmt.Errorf("imapbackend: read header of UID %d: %w", m.uid, err)
	}
	return buf, nil
}

// readySection is one BODY[section]<partial> item with its bytes found:
// what may fail (reading the message) is done.
type readySection struct {
	sec    *imap.FetchItemBodySection
	sp     span
	off, n int64
	r      io.ReaderAt
}

// prepareSection finds a BODY[section]<partial> item's bytes, opening the
// message if they are not in memory.
func (m *msgSource) prepareSection(ctx context.Context, root *message.Part, sec *imap.FetchItemBodySection) (readySection, error) {
	sp, err := sectionSpan(root, sec, func(p *message.Part) ([]byte, error) { return m.header(ctx, p) })
	if err != nil {
		return readySection{}, err
	}
	rs := readySection{sec: sec, sp: sp}
	rs.off, rs.n = partialRange(sec.Partial, sp.size())
	if !sp.inMemory && rs.n > 0 {
		if rs.r, err = m.reader(ctx); err != nil {
			return readySection{}, err
		}
	}
	return rs, nil
}

// write writes the item.
func (rs readySection) write(mw imapserver.FetchMessageWriter) error {
	lw := mw.WriteBodySection(rs.sec, rs.n)
	err := writeSpan(lw, rs.r, rs.sp, rs.off, rs.n)
	if cerr := lw.Close(); err == nil {
		err = cerr
	}
	return err
}

// queueCache adds the encoding of a message's structure to those
// flushCache stores, replacing the one this FETCH queued for the same
// message before (parsed, then given its PREVIEW).
func (sel *selected) queueCache(uid uint32, data []byte) {
	sel.cacheMu.Lock() // a parallel SEARCH (searchpar.go)
	defer sel.cacheMu.Unlock()
	if n := len(sel.pendingCache); n > 0 && sel.pendingCache[n-1].UID == uid {
		sel.pendingCache[n-1].Data = data
		return
	}
	sel.pendingCache = append(sel.pendingCache, mailstore.CacheEntry{UID: uid, Data: data})
}

// flushCache stores the structures parsed since the last flush, in one
// write. A failure costs a parse next time, nothing more.
func (sel *selected) flushCache(ctx context.Context) {
	if len(sel.pendingCache) == 0 {
		return
	}
	_ = sel.mb.SetCache(ctx, sel.pendingCache)
	sel.pendingCache = sel.pendingCache[:0]
}
