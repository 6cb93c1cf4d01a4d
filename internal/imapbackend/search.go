package imapbackend

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// Search implements imapserver.Session (RFC 3501 §6.4.4). Criteria are
// tried cheapest first: sequence numbers, UIDs and flags from the session's
// map, then sizes and dates from the index, then headers, and the message
// text last, so most messages are rejected without opening their file.
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
	ev := &evaluator{s: s, sel: sel, loc: s.b.opts.Location, n: uint32(len(sel.uids)), maxUID: sel.lastUID(), now: s.b.opts.Clock()}
	needInfo := needs(criteria) >= costInfo || each != nil
	var idx []int
	for start := 0; start < len(sel.uids); start += fetchBatch {
		end := min(start+fetchBatch, len(sel.uids))
		var infos []mailstore.MessageInfo
		var err error
		if needInfo {
			if infos, err = sel.mb.Info(ctx, sel.uids[start:end]); err != nil {
				return nil, storeError("info", err)
			}
		}
		for i := start; i < end; i++ {
			m := &searchMsg{i: i, uid: sel.uids[i]}
			if needInfo {
				for len(infos) > 0 && infos[0].UID < m.uid {
					infos = infos[1:]
				}
				if len(infos) > 0 && infos[0].UID == m.uid {
					m.info = &infos[0]
				}
			}
			m.src = msgSource{sel: sel, uid: m.uid, info: m.info}
			ok, err := ev.match(ctx, criteria, m)
			if ok && err == nil && each != nil {
				err = each(m)
			}
			m.src.close()
			if err != nil {
				if errors.Is(err, mailstore.ErrNotExist) {
					continue // expunged meanwhile
				}
				return nil, err
			}
			if ok {
				idx = append(idx, i)
			}
		}
		sel.flushCache(ctx) // one write per batch keeps the pending blobs bounded
	}
	return idx, nil
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

// evaluator matches messages of the selected mailbox against criteria.
type evaluator struct {
	s      *session
	sel    *selected
	loc    *time.Location
	n      uint32    // messages, for "*" in sequence sets
	maxUID uint32    // for "*" in UID sets
	now    time.Time // for OLDER and YOUNGER (RFC 5032)
}

// searchMsg is one message under evaluation, with what was loaded so far.
type searchMsg struct {
	i    int
	uid  uint32
	info *mailstore.MessageInfo // nil when the index no longer has it
	src  msgSource
	root *message.Part
	hdr  *message.Header
}

func (m *searchMsg) part(ctx context.Context) (*message.Part, error) {
	if m.root == nil {
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
	h, err := m.header(ctx)
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
	err = message.BodyText(r, root, func(text []byte) bool {
		found = bytes.Contains(bytes.ToLower(text), nb)
		return !found
	})
	return found, err
}

// fold prepares a string for case-insensitive comparison.
func fold(s string) string { return strings.ToLower(s) }
