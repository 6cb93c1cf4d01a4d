package imapbackend

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// Search implements imapserver.Session (RFC 3501 §6.4.4). Criteria are
// tried cheapest first: sequence numbers, UIDs and flags from the session's
// map, then sizes and dates from the index, then headers (the fields of
// header keys from the index's header cache, hdrcache.go), and the message
// text last, so most messages are rejected without opening their file.
// Messages whose files must be read are evaluated on several cores
// (searchpar.go).
func (s *session) Search(ctx context.Context, kind imap.NumKind, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	sel, err := s.needSel()
	if err != nil {
		return nil, err
	}
	idx, err := s.searchIndices(ctx, sel, criteria, nil)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.ReturnSave {
		sel.saveResult(idx, opts)
	}
	data := &imap.SearchData{}
	for _, i := range idx {
		if opts != nil && opts.ModSeq {
			// RFC 7162 §3.1.5: the highest MODSEQ of the matches.
			data.ModSeq = max(data.ModSeq, sel.modSeq[i])
		}
		if kind == imap.NumKindUID {
			data.All = append(data.All, sel.uids[i])
		} else {
			data.All = append(data.All, uint32(i+1))
		}
	}
	return data, nil
}

// searchIndices returns the ascending indices into the sequence map of the
// messages matching criteria. When each is not nil it is called for every
// match with what the evaluation loaded, while the message is still open
// (SORT and THREAD read its envelope there).
func (s *session) searchIndices(ctx context.Context, sel *selected, criteria *imap.SearchCriteria, each func(m *searchMsg) error) ([]int, error) {
	defer sel.flushCache(ctx)
	defer sel.flushHdrCache(ctx)
	ev := &evaluator{s: s, sel: sel, loc: s.b.opts.Location, n: uint32(len(sel.uids)), maxUID: sel.lastUID(), now: s.b.opts.Clock()}
	if hc, ok := sel.mb.(mailstore.HeaderCacher); ok {
		ev.hc, ev.hdrKeys = hc, headerKeys(criteria)
	}
	// With header keys answered from the header cache, the index's
	// structures are loaded only for the batches where an entry is
	// missing (the first SEARCH).
	needInfo := each != nil || needs(criteria) >= costInfo && (len(ev.hdrKeys) == 0 || needsStructure(criteria))
	// Workers read files in parallel: for BODY and TEXT, and for header
	// keys in a batch where the header cache misses a message (the first
	// SEARCH reads every file). evalParallel loads the batch's metadata
	// first, so that nothing is loaded lazily while they run.
	var workers []*evaluator
	if each == nil && needs(criteria) >= costHeader {
		workers = ev.workers()
	}
	var idx []int
	for start := 0; start < len(sel.uids); start += searchBatch {
		end := min(start+searchBatch, len(sel.uids))
		b := &infoBatch{sel: sel, uids: sel.uids[start:end]}
		if needInfo {
			if err := b.load(ctx); err != nil {
				return nil, err
			}
		}
		var hdrs []mailstore.CacheEntry
		if len(ev.hdrKeys) > 0 {
			hdrs = sel.headerCache(ctx, ev.hc, b.uids)
		}
		msgs := make([]*searchMsg, 0, end-start)
		for i := start; i < end; i++ {
			m := &searchMsg{i: i, uid: sel.uids[i], batch: b}
			if needInfo {
				m.info = b.find(m.uid)
			}
			for len(hdrs) > 0 && hdrs[0].UID < m.uid {
				hdrs = hdrs[1:]
			}
			if len(hdrs) > 0 && hdrs[0].UID == m.uid {
				m.hdrs, _ = decodeHdrEntry(hdrs[0].Data)
			}
			m.src = msgSource{sel: sel, uid: m.uid, info: m.info, open: b.openMessage}
			msgs = append(msgs, m)
		}
		if len(workers) > 0 && (needs(criteria) == costBody || ev.hdrMisses(msgs)) {
			oks, err := evalParallel(ctx, workers, b, criteria, msgs)
			if err != nil {
				return nil, err
			}
			for j, ok := range oks {
				if ok {
					idx = append(idx, msgs[j].i)
				}
			}
		} else {
			for _, m := range msgs {
				ok, err := ev.evalOne(ctx, criteria, m, each)
				if err != nil {
					return nil, err
				}
				if ok {
					idx = append(idx, m.i)
				}
			}
		}
		// One write per batch keeps the pending blobs bounded.
		sel.flushCache(ctx)
		sel.flushHdrCache(ctx)
	}
	return idx, nil
}

// searchBatch is how many messages one Info or HeaderCache call covers in
// a SEARCH.
const searchBatch = 1024

// infoBatch is the index metadata of one batch of messages, loaded at once
// when first needed.
type infoBatch struct {
	sel    *selected
	uids   []uint32
	infos  []mailstore.MessageInfo
	loaded bool
	open   func(context.Context, uint32) (mailstore.MessageReader, error) // set on first use
}

// openMessage opens a message of the batch: through the store's
// mailstore.BatchOpener when it has one, which looks the whole batch up
// on the first call.
func (b *infoBatch) openMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	if err := b.prepareOpen(ctx); err != nil {
		return nil, err // as OpenMessage's: ErrNotExist skips the message
	}
	return b.open(ctx, uid)
}

// prepareOpen sets b.open, looking the batch up once.
func (b *infoBatch) prepareOpen(ctx context.Context) error {
	if b.open != nil {
		return nil
	}
	open := b.sel.mb.OpenMessage
	if bo, ok := b.sel.mb.(mailstore.BatchOpener); ok {
		var err error
		if open, err = bo.OpenBatch(ctx, b.uids); err != nil {
			return err
		}
	}
	b.open = open
	return nil
}

func (b *infoBatch) load(ctx context.Context) error {
	if b.loaded {
		return nil
	}
	infos, err := b.sel.mb.Info(ctx, b.uids)
	if err != nil {
		return storeError("info", err)
	}
	b.infos, b.loaded = infos, true
	return nil
}

// find returns the info of uid, nil when the index no longer has it.
func (b *infoBatch) find(uid uint32) *mailstore.MessageInfo {
	i, ok := slices.BinarySearchFunc(b.infos, uid, func(mi mailstore.MessageInfo, u uint32) int { return cmp.Compare(mi.UID, u) })
	if !ok {
		return nil
	}
	return &b.infos[i]
}

// Costs of criteria, in the order they are tried.
const (
	costMeta   = iota // sequence number, UID, flags, MODSEQ: in the session
	costInfo          // sizes, internal dates: from the index
	costHeader        // Date and other header fields: the header bytes
	costBody          // BODY, TEXT: the whole message, decoded
)

// needs returns the most expensive kind of data c looks at.
func needs(c *imap.SearchCriteria) int {
	cost := costMeta
	if !c.Since.IsZero() || !c.Before.IsZero() || !c.On.IsZero() || c.Larger > 0 || c.Smaller > 0 ||
		c.Older > 0 || c.Younger > 0 ||
		!c.SavedSince.IsZero() || !c.SavedBefore.IsZero() || !c.SavedOn.IsZero() {
		// RFC822.SIZE counts CRLF line ends, which the structure knows.
		cost = costInfo
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() || !c.SentOn.IsZero() || len(c.Header) > 0 || len(c.EmailID) > 0 || len(c.ThreadID) > 0 {
		cost = costHeader
	}
	if len(c.Body) > 0 || len(c.Text) > 0 {
		cost = costBody
	}
	for i := range c.Not {
		cost = max(cost, needs(&c.Not[i]))
	}
	for i := range c.Or {
		cost = max(cost, needs(&c.Or[i][0]), needs(&c.Or[i][1]))
	}
	return cost
}

// needsStructure reports whether c has criteria, other than header keys,
// that need the index's metadata or the message's structure.
func needsStructure(c *imap.SearchCriteria) bool {
	h := *c
	h.Header, h.Not, h.Or = nil, nil, nil
	if needs(&h) >= costInfo {
		return true
	}
	for i := range c.Not {
		if needsStructure(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if needsStructure(&c.Or[i][0]) || needsStructure(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// evaluator matches messages of the selected mailbox against criteria.
type evaluator struct {
	s       *session
	sel     *selected
	hc      mailstore.HeaderCacher // nil when the store has no header cache
	hdrKeys []string               // the field names of the header keys; nil without hc
	text    textSearcher           // BODY and TEXT buffers
	loc     *time.Location
	n       uint32    // messages, for "*" in sequence sets
	maxUID  uint32    // for "*" in UID sets
	now     time.Time // for OLDER and YOUNGER (RFC 5032)
}

// searchMsg is one message under evaluation, with what was loaded so far.
type searchMsg struct {
	i     int
	uid   uint32
	batch *infoBatch
	info  *mailstore.MessageInfo // nil when the index no longer has it, or not loaded yet
	src   msgSource
	root  *message.Part
	hdr   *message.Header
	hdrs  *hdrEntry // the header cache entry; nil for none
}

// loadInfo sets m.info from its batch, loading the batch first if needed.
func (m *searchMsg) loadInfo(ctx context.Context) error {
	if m.info != nil || m.batch == nil {
		return nil
	}
	if err := m.batch.load(ctx); err != nil {
		return err
	}
	m.info = m.batch.find(m.uid)
	m.src.info = m.info
	return nil
}

func (m *searchMsg) part(ctx context.Context) (*message.Part, error) {
	if m.root == nil {
		if err := m.loadInfo(ctx); err != nil {
			return nil, err
		}
		if m.info == nil {
			return nil, mailstore.ErrNotExist
		}
		p, err := m.src.part(ctx)
		if err != nil {
			return nil, err
		}
		m.root = p
	}
	return m.root, nil
}

// header returns the parsed top-level header (the cached structure does
// not keep it).
func (m *searchMsg) header(ctx context.Context) (*message.Header, error) {
	if m.hdr == nil {
		root, err := m.part(ctx)
		if err != nil {
			return nil, err
		}
		raw, err := m.src.header(ctx, root)
		if err != nil {
			return nil, err
		}
		p, err := message.Parse(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, err
		}
		m.hdr = &p.Header
	}
	return m.hdr, nil
}

// match reports whether m satisfies every criterion of c (RFC 3501
// §6.4.4: criteria are ANDed).
func (ev *evaluator) match(ctx context.Context, c *imap.SearchCriteria, m *searchMsg) (bool, error) {
	sel := ev.sel
	for _, set := range c.SeqNum {
		if set.SearchRes && !sel.inSaved(m.uid) || !set.SearchRes && !set.Contains(uint32(m.i+1), ev.n) {
			return false, nil
		}
	}
	for _, set := range c.UID {
		if set.SearchRes && !sel.inSaved(m.uid) || !set.SearchRes && !set.Contains(m.uid, ev.maxUID) {
			return false, nil
		}
	}
	for _, f := range c.Flag {
		if !ev.hasFlag(m, f) {
			return false, nil
		}
	}
	for _, f := range c.NotFlag {
		if ev.hasFlag(m, f) {
			return false, nil
		}
	}
	if c.ModSeq > 0 && sel.modSeq[m.i] < c.ModSeq {
		return false, nil
	}
	if !c.Since.IsZero() || !c.Before.IsZero() || !c.On.IsZero() {
		if m.info == nil {
			// Expunged by another session during the SEARCH: skipped
			// as a whole, so that NOT cannot match it either.
			return false, mailstore.ErrNotExist
		}
		if !dayMatch(m.info.InternalDate.In(ev.loc), c.Since, c.Before, c.On) {
			return false, nil
		}
	}
	if c.Older > 0 || c.Younger > 0 {
		if m.info == nil {
			return false, mailstore.ErrNotExist
		}
		if !withinMatch(ev.now.Sub(m.info.InternalDate), c.Older, c.Younger) {
			return false, nil
		}
	}
	if c.Larger > 0 || c.Smaller > 0 {
		root, err := m.part(ctx)
		if err != nil {
			return false, err
		}
		size := m.info.Size + root.BareLFHeader + root.BareLFBody
		if c.Larger > 0 && size <= c.Larger || c.Smaller > 0 && size >= c.Smaller {
			return false, nil
		}
	}
	for i := range c.Not {
		ok, err := ev.match(ctx, &c.Not[i], m)
		if err != nil || ok {
			return false, err
		}
	}
	for i := range c.Or {
		ok, err := ev.match(ctx, &c.Or[i][0], m)
		if err != nil {
			return false, err
		}
		if !ok {
			if ok, err = ev.match(ctx, &c.Or[i][1], m); err != nil || !ok {
				return false, err
			}
		}
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() || !c.SentOn.IsZero() {
		root, err := m.part(ctx)
		if err != nil {
			return false, err
		}
		var date string
		if root.Envelope != nil {
			date = root.Envelope.Date
		}
		// RFC 3501 §6.4.4: the Date header, disregarding time and zone,
		// so the day is the one written.
		t, ok := message.ParseDate(date)
		if !ok || !dayMatch(t, c.SentSince, c.SentBefore, c.SentOn) {
			return false, nil
		}
	}
	if ok, err := ev.matchExt(ctx, c, m); err != nil || !ok {
		return false, err
	}
	for _, hf := range c.Header {
		ok, err := ev.headerMatch(ctx, m, hf)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, s := range c.Body {
		ok, err := ev.textMatch(ctx, m, s, false)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, s := range c.Text {
		ok, err := ev.textMatch(ctx, m, s, true)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// hasFlag reports whether m carries f as this session sees it: \Recent
// from the session's claim, keywords case-insensitively (RFC 3501 §2.3.2).
func (ev *evaluator) hasFlag(m *searchMsg, f imap.Flag) bool {
	f = imap.CanonicalFlag(f)
	if f == imap.FlagRecent {
		return ev.sel.isRecent(m.uid)
	}
	for _, g := range ev.sel.flags[m.i] {
		if g == string(f) || isKeyword(g) && strings.EqualFold(g, string(f)) {
			return true
		}
	}
	return false
}

// dayMatch compares t's calendar day with SINCE, BEFORE and ON days (zero
// when unset), whose own calendar day is taken as written.
func dayMatch(t, since, before, on time.Time) bool {
	d := civilDay(t)
	if !since.IsZero() && d < civilDay(since) {
		return false
	}
	if !before.IsZero() && d >= civilDay(before) {
		return false
	}
	if !on.IsZero() && d != civilDay(on) {
		return false
	}
	return true
}

// withinMatch implements OLDER and YOUNGER (RFC 5032 §3) for a message
// of the given age: OLDER n wants at least n seconds, YOUNGER n at most n,
// both ends included as Dovecot does.
func withinMatch(age time.Duration, older, younger uint32) bool {
	if older > 0 && age < time.Duration(older)*time.Second {
		return false
	}
	if younger > 0 && age > time.Duration(younger)*time.Second {
		return false
	}
	return true
}

func civilDay(t time.Time) int {
	y, mo, d := t.Date()
	return y*10000 + int(mo)*100 + d
}

// headerMatch implements HEADER, FROM, TO, CC, BCC and SUBJECT: a
// case-insensitive substring of a field's value after RFC 2047 decoding; an
// empty value matches any message that has the field (RFC 3501 §6.4.4).
func (ev *evaluator) headerMatch(ctx context.Context, m *searchMsg, hf imap.SearchCriteriaHeaderField) (bool, error) {
	h, err := ev.headerFor(ctx, m, asciiLower(hf.Key))
	if err != nil {
		return false, err
	}
	if hf.Value == "" {
		return h.Has(hf.Key), nil
	}
	needle := fold(hf.Value)
	for _, v := range h.Values(hf.Key) {
		if strings.Contains(fold(message.DecodeHeader(v)), needle) {
			return true, nil
		}
	}
	return false, nil
}

// headerFor returns a header that answers for the field name key (ASCII
// lower case): the cached fields when they cover it, else the message's
// header, read from the file, whose fields the search looks at are then
// cached (written with the batch) for the next SEARCH.
func (ev *evaluator) headerFor(ctx context.Context, m *searchMsg, key string) (*message.Header, error) {
	if m.hdrs.covers(key) {
		return &m.hdrs.hdr, nil
	}
	h, err := m.header(ctx)
	if err != nil || ev.hc == nil {
		return h, err
	}
	if e := buildHdrEntry(h, ev.hdrKeys, m.hdrs); !e.same(m.hdrs) {
		ev.sel.cacheMu.Lock()
		ev.sel.pendingHdrs = append(ev.sel.pendingHdrs, mailstore.CacheEntry{UID: m.uid, Data: e.data})
		ev.sel.cacheMu.Unlock()
		m.hdrs = e
	}
	return h, nil
}

// hdrMisses reports whether the header cache lacks a field name of the
// header keys for one of msgs (or there is no header cache): evaluating
// them then reads files.
func (ev *evaluator) hdrMisses(msgs []*searchMsg) bool {
	if ev.hc == nil {
		return true
	}
	for _, m := range msgs {
		for _, k := range ev.hdrKeys {
			if !m.hdrs.covers(k) {
				return true
			}
		}
	}
	return false
}

// flushHdrCache stores the header cache entries made since the last
// flush, in one write. A failure costs a file read next time, nothing
// more. Entries are written during EXAMINE too, as Dovecot fills its cache
// then: they are the index's, not the mailbox's state.
func (sel *selected) flushHdrCache(ctx context.Context) {
	hc, ok := sel.mb.(mailstore.HeaderCacher)
	if !ok || len(sel.pendingHdrs) == 0 {
		return
	}
	_ = hc.SetHeaderCache(ctx, sel.pendingHdrs)
	sel.hdrs.put(sel.hdrKey, sel.pendingHdrs)
	sel.pendingHdrs = nil // handed over to hdrs
}

// headerCache returns the header cache entries of uids (ascending): those
// the process holds in memory (hdrMem), the others from the store, which
// are then held too. Unreadable entries cost file reads, nothing more:
// the files are the truth.
func (sel *selected) headerCache(ctx context.Context, hc mailstore.HeaderCacher, uids []uint32) []mailstore.CacheEntry {
	found, missing := sel.hdrs.get(sel.hdrKey, uids)
	if len(missing) == 0 {
		return found
	}
	more, _ := hc.HeaderCache(ctx, missing)
	sel.hdrs.put(sel.hdrKey, more)
	if len(found) == 0 {
		return more
	}
	out := make([]mailstore.CacheEntry, 0, len(found)+len(more))
	for len(found) > 0 || len(more) > 0 {
		if len(more) == 0 || len(found) > 0 && found[0].UID < more[0].UID {
			out, found = append(out, found[0]), found[1:]
		} else {
			out, more = append(out, more[0]), more[1:]
		}
	}
	return out
}

// textMatch implements BODY and, with header set, TEXT: a case-insensitive
// substring of the decoded text parts (transfer encoding undone, charset
// converted) or, for TEXT, of any header field.
func (ev *evaluator) textMatch(ctx context.Context, m *searchMsg, s string, header bool) (bool, error) {
	needle := fold(s)
	if header {
		h, err := m.header(ctx)
		if err != nil {
			return false, err
		}
		for _, f := range h.Fields() {
			if strings.Contains(fold(f.Name+": "+message.DecodeHeader(f.Value())), needle) {
				return true, nil
			}
		}
	}
	root, err := m.part(ctx)
	if err != nil {
		return false, err
	}
	r, err := m.src.reader(ctx)
	if err != nil {
		return false, err
	}
	found := false
	nb := []byte(needle)
	ts := &ev.text
	if ts.body == nil {
		ts.body = make([]byte, message.TextBufferSize)
	}
	err = message.BodyTextBuffer(r, root, ts.body, func(text []byte) bool {
		found = ts.contains(text, nb)
		return !found
	})
	return found, err
}

// fold prepares a string for case-insensitive comparison.
func fold(s string) string { return strings.ToLower(s) }
