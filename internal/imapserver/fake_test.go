package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/imap"
)

// fakeStore is an in-memory mail store shared by the sessions of one test
// server, enough to exercise every command. It is not the real backend:
// it implements just what the protocol tests need, simply.
type fakeStore struct {
	mu        sync.Mutex
	mailboxes map[string]*fakeMailbox // guarded by mu
	changed   chan struct{}           // closed and replaced on every change; guarded by mu
	// lastSearch is the criteria of the last SEARCH, for parser tests.
	lastSearch *imap.SearchCriteria
	lastSort   []imap.SortKey
	lastFetch  *imap.FetchOptions
	lastStore  *imap.StoreFlags
	lastAppend *imap.AppendOptions
	lastList   []string // ref, pattern
	// lastListOpts is the options of the last LIST, for parser tests.
	lastListOpts *imap.ListOptions
	lastCreate   *imap.CreateOptions
	lastStatus   *imap.StatusOptions
	// loginCalls counts Login calls.
	loginCalls int
	// sessions counts open sessions.
	sessions int
	// block, when set, makes a FETCH wait until it is closed (Shutdown
	// test); fetchStarted is closed when such a FETCH begins.
	block        chan struct{}
	fetchStarted chan struct{}
}

type fakeMailbox struct {
	name        string
	uidValidity uint32
	uidNext     uint32
	msgs        []*fakeMsg
	subscribed  bool
}

type fakeMsg struct {
	uid   uint32
	flags []imap.Flag
	date  time.Time
	raw   []byte
}

// fixedNow is the clock of the fake: APPEND without a date gets it.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testMessages is the INBOX of every test.
var testMessages = []struct {
	uid   uint32
	flags []imap.Flag
	date  time.Time
	raw   string
}{
	{1, []imap.Flag{imap.FlagSeen}, time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC),
		"Date: Mon, 23 Nov 2026 09:15:00 +0000\r\n" +
			"From: Alice Example <alice@example.org>\r\n" +
			"To: Bob <bob@example.net>\r\n" +
			"Subject: Welcome\r\n" +
			"Message-ID: <welcome-1@example.org>\r\n" +
			"\r\n" +
			"Hello Bob.\r\n" +
			"Second line.\r\n"},
	{2, nil, time.Date(2026, 11, 23, 10, 30, 40, 0, time.FixedZone("", 3600)),
		"Date: Mon, 23 Nov 2026 10:30:40 +0100\r\n" +
			"From: bob@example.net\r\n" +
			"To: alice@example.org, Carol <carol@example.com>\r\n" +
			"Cc: dave@example.com\r\n" +
			"Subject: Lunch on Friday\r\n" +
			"\r\n" +
			"See you at noon.\r\n"},
	{4, []imap.Flag{imap.FlagFlagged, "$Work"}, time.Date(2026, 11, 24, 8, 0, 0, 0, time.FixedZone("", -5*3600)),
		"Date: Tue, 24 Nov 2026 08:00:00 -0500\r\n" +
			"From: Carol <carol@example.com>\r\n" +
			"To: alice@example.org\r\n" +
			"Subject: Notes\r\n" +
			"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
			"\r\n" +
			"--b1\r\n" +
			"Content-Type: text/plain\r\n" +
			"\r\n" +
			"Plain notes.\r\n" +
			"--b1\r\n" +
			"Content-Type: text/html\r\n" +
			"\r\n" +
			"<p>HTML notes.</p>\r\n" +
			"--b1--\r\n"},
}

func newFakeStore() *fakeStore {
	st := &fakeStore{mailboxes: map[string]*fakeMailbox{}, changed: make(chan struct{})}
	inbox := &fakeMailbox{name: "INBOX", uidValidity: 1700000000, uidNext: 5, subscribed: true}
	for _, m := range testMessages {
		inbox.msgs = append(inbox.msgs, &fakeMsg{uid: m.uid, flags: slices.Clone(m.flags), date: m.date, raw: []byte(m.raw)})
	}
	st.mailboxes["INBOX"] = inbox
	st.mailboxes["Archive"] = &fakeMailbox{name: "Archive", uidValidity: 1700000001, uidNext: 1, subscribed: true}
	st.mailboxes["Archive/2026"] = &fakeMailbox{name: "Archive/2026", uidValidity: 1700000002, uidNext: 1}
	st.mailboxes["Entwürfe"] = &fakeMailbox{name: "Entwürfe", uidValidity: 1700000003, uidNext: 1}
	return st
}

// notify wakes IDLE sessions; mu must be held.
func (st *fakeStore) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// deliver appends a message as an MTA would (IDLE tests).
func (st *fakeStore) deliver(mailbox, raw string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	mb := st.mailboxes[mailbox]
	mb.msgs = append(mb.msgs, &fakeMsg{uid: mb.uidNext, date: fixedNow, raw: []byte(raw)})
	mb.uidNext++
	st.notify()
}

// expungeUID removes a message as another client would.
func (st *fakeStore) expungeUID(mailbox string, uid uint32) {
	st.mu.Lock()
	defer st.mu.Unlock()
	mb := st.mailboxes[mailbox]
	mb.msgs = slices.DeleteFunc(mb.msgs, func(m *fakeMsg) bool { return m.uid == uid })
	st.notify()
}

// fakeSession is one connection's session.
type fakeSession struct {
	st       *fakeStore
	info     *ConnInfo
	user     string
	mb       *fakeMailbox
	readOnly bool
	view     []uint32 // UIDs as the client knows them, by sequence number
	saved    []uint32 // the SEARCHRES variable (fake_search_test.go)
}

// fakeMoveSession adds MOVE.
type fakeMoveSession struct{ *fakeSession }

var (
	_ Session     = (*fakeSession)(nil)
	_ SessionMove = fakeMoveSession{}
)

var errNoMailbox = imap.NO(imap.CodeNonExistent, "No such mailbox")

func (s *fakeSession) Close() error {
	s.st.mu.Lock()
	s.st.sessions--
	s.st.mu.Unlock()
	return nil
}

func (s *fakeSession) Login(ctx context.Context, username, password string) error {
	s.st.mu.Lock()
	s.st.loginCalls++
	s.st.mu.Unlock()
	if username == "alice" && password == "secret" {
		s.user = username
		return nil
	}
	if username == "crash" {
		return errors.New("fake: password database on fire")
	}
	return imap.NO(imap.CodeAuthenticationFailed, "Invalid credentials")
}

func (s *fakeSession) Select(ctx context.Context, name string, readOnly bool) (*imap.SelectData, error) {
	if name == "Broken" {
		return nil, errors.New("fake: index corrupt at /secret/path")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	mb := s.st.mailboxes[name]
	if mb == nil {
		return nil, errNoMailbox
	}
	s.mb, s.readOnly = mb, readOnly
	s.view, s.saved = s.view[:0], nil
	var firstUnseen uint32
	for i, m := range mb.msgs {
		s.view = append(s.view, m.uid)
		if firstUnseen == 0 && !slices.Contains(m.flags, imap.FlagSeen) {
			firstUnseen = uint32(i + 1)
		}
	}
	return &imap.SelectData{
		Flags:          append(slices.Clone(imap.SystemFlags), "$Work"),
		PermanentFlags: append(slices.Clone(imap.SystemFlags), "$Work", imap.FlagWildcard),
		NumMessages:    uint32(len(mb.msgs)),
		FirstUnseen:    firstUnseen,
		UIDNext:        mb.uidNext,
		UIDValidity:    mb.uidValidity,
		ReadOnly:       readOnly,
	}, nil
}

func (s *fakeSession) Create(ctx context.Context, name string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.mailboxes[name] != nil {
		return imap.NO(imap.CodeAlreadyExists, "Mailbox exists")
	}
	s.st.mailboxes[name] = &fakeMailbox{name: name, uidValidity: 1800000000, uidNext: 1}
	return nil
}

func (s *fakeSession) Delete(ctx context.Context, name string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if name == "INBOX" {
		return imap.NO(imap.CodeCannot, "INBOX cannot be deleted")
	}
	if s.st.mailboxes[name] == nil {
		return errNoMailbox
	}
	delete(s.st.mailboxes, name)
	return nil
}

func (s *fakeSession) Rename(ctx context.Context, from, to string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	mb := s.st.mailboxes[from]
	if mb == nil {
		return errNoMailbox
	}
	if s.st.mailboxes[to] != nil {
		return imap.NO(imap.CodeAlreadyExists, "Mailbox exists")
	}
	delete(s.st.mailboxes, from)
	mb.name = to
	s.st.mailboxes[to] = mb
	return nil
}

func (s *fakeSession) Subscribe(ctx context.Context, name string) error {
	return s.setSubscribed(name, true)
}

func (s *fakeSession) Unsubscribe(ctx context.Context, name string) error {
	return s.setSubscribed(name, false)
}

func (s *fakeSession) setSubscribed(name string, on bool) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	mb := s.st.mailboxes[name]
	if mb == nil {
		return errNoMailbox
	}
	mb.subscribed = on
	return nil
}

// patternRegexp turns a LIST pattern into a regexp (RFC 3501 §6.3.8).
func patternRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '%':
			b.WriteString("[^/]*")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (s *fakeSession) List(ctx context.Context, w ListWriter, ref string, patterns []string, opts *imap.ListOptions) error {
	s.st.mu.Lock()
	s.st.lastList = append([]string{ref}, patterns...)
	s.st.lastListOpts = opts
	subs := map[string]bool{}
	var names []string
	for name, mb := range s.st.mailboxes {
		subs[name] = mb.subscribed
		if opts.SelectSubscribed && !mb.subscribed {
			continue
		}
		names = append(names, name)
	}
	s.st.mu.Unlock()
	sort.Strings(names)
	for _, p := range patterns {
		re := patternRegexp(ref + p)
		for _, name := range names {
			if !re.MatchString(name) {
				continue
			}
			attrs := []imap.MailboxAttr{imap.MailboxAttrHasNoChildren}
			for _, other := range names {
				if strings.HasPrefix(other, name+"/") {
					attrs = []imap.MailboxAttr{imap.MailboxAttrHasChildren}
				}
			}
			if subs[name] && !opts.LSUB && (opts.SelectSubscribed || opts.ReturnSubscribed) {
				attrs = append(attrs, imap.MailboxAttrSubscribed)
			}
			ld := &imap.ListData{Attrs: attrs, Delim: '/', Mailbox: name}
			if opts.SelectRecursiveMatch && strings.Contains(name, "/") {
				// Enough to exercise the CHILDINFO writer.
				ld.ChildInfo = []string{"SUBSCRIBED"}
			}
			if opts.ReturnStatus != nil {
				st, err := s.Status(ctx, name, opts.ReturnStatus)
				if err != nil {
					return err
				}
				ld.Status = st
			}
			if err := w.WriteList(ld); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *fakeSession) Status(ctx context.Context, name string, opts *imap.StatusOptions) (*imap.StatusData, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.lastStatus = opts
	mb := s.st.mailboxes[name]
	if mb == nil {
		return nil, errNoMailbox
	}
	d := &imap.StatusData{Mailbox: name}
	num := func(n int) *uint32 { v := uint32(n); return &v }
	count := func(f imap.Flag, has bool) int {
		n := 0
		for _, m := range mb.msgs {
			if slices.Contains(m.flags, f) == has {
				n++
			}
		}
		return n
	}
	if opts.NumMessages {
		d.NumMessages = num(len(mb.msgs))
	}
	if opts.NumRecent {
		d.NumRecent = num(0)
	}
	if opts.UIDNext {
		d.UIDNext = mb.uidNext
	}
	if opts.UIDValidity {
		d.UIDValidity = mb.uidValidity
	}
	if opts.NumUnseen {
		d.NumUnseen = num(count(imap.FlagSeen, false))
	}
	if opts.NumDeleted {
		d.NumDeleted = num(count(imap.FlagDeleted, true))
	}
	if opts.Size {
		var size int64
		for _, m := range mb.msgs {
			size += int64(len(m.raw))
		}
		d.Size = &size
	}
	return d, nil
}

func (s *fakeSession) Append(ctx context.Context, name string, r io.Reader, size int64, opts *imap.AppendOptions) (*imap.AppendData, error) {
	s.st.mu.Lock()
	s.st.lastAppend = opts
	mb := s.st.mailboxes[name]
	s.st.mu.Unlock()
	if mb == nil {
		return nil, imap.NO(imap.CodeTryCreate, "No such mailbox")
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) != size {
		return nil, fmt.Errorf("fake: read %d octets of %d", len(raw), size)
	}
	date := opts.Time
	if date.IsZero() {
		date = fixedNow
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	m := &fakeMsg{uid: mb.uidNext, flags: slices.Clone(opts.Flags), date: date, raw: raw}
	mb.msgs = append(mb.msgs, m)
	mb.uidNext++
	s.st.notify()
	return &imap.AppendData{UIDValidity: mb.uidValidity, UID: m.uid}, nil
}

// Poll reports messages appended or expunged by others.
func (s *fakeSession) Poll(ctx context.Context, w UpdateWriter, allowExpunge bool) error {
	if s.mb == nil {
		return nil
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.pollLocked(w, allowExpunge)
}

func (s *fakeSession) pollLocked(w UpdateWriter, allowExpunge bool) error {
	if s.mb == nil {
		return nil
	}
	present := map[uint32]bool{}
	for _, m := range s.mb.msgs {
		present[m.uid] = true
	}
	if allowExpunge {
		for i := 0; i < len(s.view); {
			if present[s.view[i]] {
				i++
				continue
			}
			if err := w.WriteExpunge(uint32(i + 1)); err != nil {
				return err
			}
			s.view = slices.Delete(s.view, i, i+1)
		}
	}
	var maxUID uint32
	if len(s.view) > 0 {
		maxUID = slices.Max(s.view)
	}
	grew := false
	for _, m := range s.mb.msgs {
		if m.uid > maxUID {
			s.view = append(s.view, m.uid)
			grew = true
		}
	}
	if grew {
		return w.WriteExists(uint32(len(s.view)))
	}
	return nil
}

func (s *fakeSession) Idle(ctx context.Context, w UpdateWriter, stop <-chan struct{}) error {
	for {
		s.st.mu.Lock()
		err := s.pollLocked(w, true)
		changed := s.st.changed
		s.st.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (s *fakeSession) Unselect(ctx context.Context, expunge bool) error {
	if expunge && !s.readOnly {
		s.st.mu.Lock()
		s.mb.msgs = slices.DeleteFunc(s.mb.msgs, func(m *fakeMsg) bool { return slices.Contains(m.flags, imap.FlagDeleted) })
		s.st.notify()
		s.st.mu.Unlock()
	}
	s.mb, s.view, s.saved = nil, nil, nil
	return nil
}

func (s *fakeSession) Expunge(ctx context.Context, w UpdateWriter, uids *imap.NumSet) error {
	if s.readOnly {
		return imap.NO(imap.CodeCannot, "Mailbox is read-only")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if err := s.pollLocked(w, true); err != nil {
		return err
	}
	maxUID := s.maxUID()
	for i := 0; i < len(s.view); {
		m := s.msg(s.view[i])
		if m == nil || !slices.Contains(m.flags, imap.FlagDeleted) || uids != nil && !uids.Contains(m.uid, maxUID) && !(uids.SearchRes && slices.Contains(s.saved, m.uid)) {
			i++
			continue
		}
		s.mb.msgs = slices.DeleteFunc(s.mb.msgs, func(x *fakeMsg) bool { return x == m })
		s.view = slices.Delete(s.view, i, i+1)
		if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
	}
	s.st.notify()
	return nil
}

func (s *fakeSession) maxUID() uint32 {
	if len(s.view) == 0 {
		return 0
	}
	return s.view[len(s.view)-1]
}

func (s *fakeSession) msg(uid uint32) *fakeMsg {
	for _, m := range s.mb.msgs {
		if m.uid == uid {
			return m
		}
	}
	return nil
}

// resolve returns the sequence numbers (1-based) of the messages in set.
func (s *fakeSession) resolve(kind imap.NumKind, set imap.NumSet) []int {
	var seqs []int
	for i, uid := range s.view {
		if set.SearchRes {
			if slices.Contains(s.saved, uid) {
				seqs = append(seqs, i+1)
			}
			continue
		}
		if kind == imap.NumKindSeq && set.Contains(uint32(i+1), uint32(len(s.view))) ||
			kind == imap.NumKindUID && set.Contains(uid, s.maxUID()) {
			seqs = append(seqs, i+1)
		}
	}
	return seqs
}

func (s *fakeSession) Search(ctx context.Context, kind imap.NumKind, c *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.lastSearch = c
	d := &imap.SearchData{}
	var uids []uint32
	for i, uid := range s.view {
		m := s.msg(uid)
		if m != nil && s.match(m, uint32(i+1), c) {
			uids = append(uids, uid)
			if kind == imap.NumKindUID {
				d.All = append(d.All, uid)
			} else {
				d.All = append(d.All, uint32(i+1))
			}
		}
	}
	if opts.ReturnSave {
		s.save(uids, opts)
	}
	return d, nil
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *fakeSession) match(m *fakeMsg, seq uint32, c *imap.SearchCriteria) bool {
	for _, set := range c.SeqNum {
		if !set.Contains(seq, uint32(len(s.view))) && !(set.SearchRes && slices.Contains(s.saved, m.uid)) {
			return false
		}
	}
	for _, set := range c.UID {
		if !set.Contains(m.uid, s.maxUID()) && !(set.SearchRes && slices.Contains(s.saved, m.uid)) {
			return false
		}
	}
	if !s.within(m, c) {
		return false
	}
	day := dayOf(m.date)
	if !c.Since.IsZero() && day.Before(c.Since) || !c.Before.IsZero() && !day.Before(c.Before) ||
		!c.On.IsZero() && !sameDay(day, c.On) {
		return false
	}
	hdr, body := splitMessage(m.raw)
	for _, h := range c.Header {
		v, ok := headerValue(hdr, h.Key)
		if !ok || !strings.Contains(strings.ToLower(v), strings.ToLower(h.Value)) {
			return false
		}
	}
	for _, b := range c.Body {
		if !bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(b))) {
			return false
		}
	}
	for _, t := range c.Text {
		if !bytes.Contains(bytes.ToLower(m.raw), []byte(strings.ToLower(t))) {
			return false
		}
	}
	for _, f := range c.Flag {
		if !slices.Contains(m.flags, f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if slices.Contains(m.flags, f) {
			return false
		}
	}
	if c.Larger != 0 && int64(len(m.raw)) <= c.Larger || c.Smaller != 0 && int64(len(m.raw)) >= c.Smaller {
		return false
	}
	for i := range c.Not {
		if s.match(m, seq, &c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !s.match(m, seq, &c.Or[i][0]) && !s.match(m, seq, &c.Or[i][1]) {
			return false
		}
	}
	return true
}

func (s *fakeSession) Fetch(ctx context.Context, w FetchWriter, kind imap.NumKind, set imap.NumSet, opts *imap.FetchOptions) error {
	s.st.mu.Lock()
	s.st.lastFetch = opts
	block, started := s.st.block, s.st.fetchStarted
	s.st.mu.Unlock()
	if block != nil {
		close(started)
		<-block
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for _, seq := range s.resolve(kind, set) {
		m := s.msg(s.view[seq-1])
		if m == nil {
			continue
		}
		mw := w.Message(uint32(seq))
		if opts.UID {
			mw.WriteUID(m.uid)
		}
		setSeen := false
		for _, sec := range opts.BodySection {
			if !sec.Peek && !s.readOnly && !slices.Contains(m.flags, imap.FlagSeen) {
				m.flags = append(m.flags, imap.FlagSeen)
				setSeen = true
			}
		}
		if opts.Flags || setSeen {
			mw.WriteFlags(m.flags)
		}
		if opts.InternalDate {
			mw.WriteInternalDate(m.date)
		}
		if opts.RFC822Size {
			mw.WriteRFC822Size(int64(len(m.raw)))
		}
		if opts.Envelope {
			mw.WriteEnvelope(envelopeOf(m.raw))
		}
		if opts.Body {
			mw.WriteBodyStructure(bodyStructureOf(m.raw), false)
		}
		if opts.BodyStructure {
			mw.WriteBodyStructure(bodyStructureOf(m.raw), true)
		}
		for _, sec := range opts.BodySection {
			b := sectionOf(m.raw, sec)
			if p := sec.Partial; p != nil {
				b = b[min(int64(len(b)), p.Offset):]
				b = b[:min(int64(len(b)), p.Size)]
			}
			lw := mw.WriteBodySection(sec, int64(len(b)))
			lw.Write(b)
			if err := lw.Close(); err != nil {
				return err
			}
		}
		if err := mw.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSession) Store(ctx context.Context, w FetchWriter, kind imap.NumKind, set imap.NumSet, sf *imap.StoreFlags) error {
	if s.readOnly {
		return imap.NO(imap.CodeCannot, "Mailbox is read-only")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.lastStore = sf
	for _, seq := range s.resolve(kind, set) {
		m := s.msg(s.view[seq-1])
		if m == nil {
			continue
		}
		switch sf.Op {
		case imap.StoreFlagsSet:
			m.flags = slices.Clone(sf.Flags)
		case imap.StoreFlagsAdd:
			for _, f := range sf.Flags {
				if !slices.Contains(m.flags, f) {
					m.flags = append(m.flags, f)
				}
			}
		case imap.StoreFlagsDel:
			m.flags = slices.DeleteFunc(m.flags, func(f imap.Flag) bool { return slices.Contains(sf.Flags, f) })
		}
		if sf.Silent {
			continue
		}
		mw := w.Message(uint32(seq))
		if kind == imap.NumKindUID {
			mw.WriteUID(m.uid)
		}
		mw.WriteFlags(m.flags)
		if err := mw.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSession) Copy(ctx context.Context, kind imap.NumKind, set imap.NumSet, dest string) (*imap.CopyData, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.copyLocked(kind, set, dest)
}

func (s *fakeSession) copyLocked(kind imap.NumKind, set imap.NumSet, dest string) (*imap.CopyData, error) {
	to := s.st.mailboxes[dest]
	if to == nil {
		return nil, imap.NO(imap.CodeTryCreate, "No such mailbox")
	}
	var src, dst []uint32
	for _, seq := range s.resolve(kind, set) {
		m := s.msg(s.view[seq-1])
		if m == nil { // expunged by another session since this one's last poll
			continue
		}
		c := &fakeMsg{uid: to.uidNext, flags: slices.Clone(m.flags), date: m.date, raw: m.raw}
		to.msgs = append(to.msgs, c)
		to.uidNext++
		src, dst = append(src, m.uid), append(dst, c.uid)
	}
	s.st.notify()
	return &imap.CopyData{UIDValidity: to.uidValidity, SourceUIDs: imap.NumSetOf(src), DestUIDs: imap.NumSetOf(dst)}, nil
}

func (s fakeMoveSession) Move(ctx context.Context, w UpdateWriter, kind imap.NumKind, set imap.NumSet, dest string) (*imap.CopyData, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	seqs := s.resolve(kind, set)
	data, err := s.copyLocked(kind, set, dest)
	if err != nil {
		return nil, err
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		seq := seqs[i]
		uid := s.view[seq-1]
		s.mb.msgs = slices.DeleteFunc(s.mb.msgs, func(m *fakeMsg) bool { return m.uid == uid })
		s.view = slices.Delete(s.view, seq-1, seq)
		if err := w.WriteExpunge(uint32(seq)); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// Minimal message handling for the fake (the real one is package message).

func splitMessage(raw []byte) (header, body []byte) {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+2], raw[i+4:]
	}
	return raw, nil
}

func headerValue(header []byte, key string) (string, bool) {
	for _, line := range strings.Split(string(header), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// headerFields keeps (or with not, drops) the named fields, plus the
// blank line (RFC 3501 §6.4.5).
func headerFields(header []byte, names []string, not bool) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSuffix(string(header), "\r\n"), "\r\n") {
		k, _, _ := strings.Cut(line, ":")
		in := slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, k) })
		if in != not {
			b.WriteString(line + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func parseAddrs(v string) []imap.Address {
	if v == "" {
		return nil
	}
	var out []imap.Address
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		var name string
		if i := strings.Index(a, "<"); i >= 0 {
			name = strings.TrimSpace(a[:i])
			a = strings.Trim(a[i:], "<>")
		}
		mbox, host, _ := strings.Cut(a, "@")
		out = append(out, imap.Address{Name: name, Mailbox: mbox, Host: host})
	}
	return out
}

func envelopeOf(raw []byte) *imap.Envelope {
	h, _ := splitMessage(raw)
	get := func(k string) string { v, _ := headerValue(h, k); return v }
	from := parseAddrs(get("From"))
	return &imap.Envelope{
		Date: get("Date"), Subject: get("Subject"),
		From: from, Sender: from, ReplyTo: from,
		To: parseAddrs(get("To")), Cc: parseAddrs(get("Cc")), Bcc: parseAddrs(get("Bcc")),
		InReplyTo: get("In-Reply-To"), MessageID: get("Message-ID"),
	}
}

// parts splits a multipart body at its boundary; nil for a single part.
func parts(raw []byte) [][]byte {
	h, body := splitMessage(raw)
	ct, _ := headerValue(h, "Content-Type")
	_, b, ok := strings.Cut(ct, `boundary="`)
	if !ok {
		return nil
	}
	boundary := "--" + strings.TrimSuffix(b, `"`)
	var out [][]byte
	chunks := bytes.Split(body, []byte(boundary))
	for _, c := range chunks[1:] {
		if bytes.HasPrefix(c, []byte("--")) {
			break
		}
		c = bytes.TrimPrefix(c, []byte("\r\n"))
		c = bytes.TrimSuffix(c, []byte("\r\n"))
		out = append(out, c)
	}
	return out
}

func bodyStructureOf(raw []byte) *imap.BodyStructure {
	if ps := parts(raw); ps != nil {
		bs := &imap.BodyStructure{Type: "MULTIPART", Subtype: "ALTERNATIVE", Params: []string{"BOUNDARY", "b1"}}
		for _, p := range ps {
			bs.Children = append(bs.Children, leafStructure(p))
		}
		return bs
	}
	return leafStructure(raw)
}

func leafStructure(raw []byte) *imap.BodyStructure {
	h, body := splitMessage(raw)
	sub := "PLAIN"
	if ct, _ := headerValue(h, "Content-Type"); strings.Contains(ct, "html") {
		sub = "HTML"
	}
	return &imap.BodyStructure{
		Type: "TEXT", Subtype: sub, Params: []string{"CHARSET", "us-ascii"},
		Encoding: "7BIT", Size: int64(len(body)), Lines: int64(bytes.Count(body, []byte("\n"))),
	}
}

func sectionOf(raw []byte, sec *imap.FetchItemBodySection) []byte {
	msg := raw
	if len(sec.Part) > 0 {
		ps := parts(raw)
		n := sec.Part[0]
		switch {
		case ps == nil && n == 1 && len(sec.Part) == 1:
			_, body := splitMessage(raw)
			if sec.Specifier == imap.PartSpecifierNone {
				return body
			}
			msg = raw
		case ps != nil && n <= len(ps) && len(sec.Part) == 1:
			msg = ps[n-1]
			if sec.Specifier == imap.PartSpecifierNone {
				_, body := splitMessage(msg)
				return body
			}
		default:
			return nil
		}
	}
	h, body := splitMessage(msg)
	switch sec.Specifier {
	case imap.PartSpecifierHeader, imap.PartSpecifierMIME:
		switch {
		case sec.HeaderFields != nil:
			return headerFields(h, sec.HeaderFields, false)
		case sec.HeaderFieldsNot != nil:
			return headerFields(h, sec.HeaderFieldsNot, true)
		}
		return append(slices.Clone(h), '\r', '\n')
	case imap.PartSpecifierText:
		return body
	}
	return msg
}

// newFakeSessionFunc returns an Options.NewSession over st; withMove adds
// MOVE.
func newFakeSessionFunc(st *fakeStore, withMove bool) func(context.Context, *ConnInfo) (Session, error) {
	return func(ctx context.Context, info *ConnInfo) (Session, error) {
		st.mu.Lock()
		st.sessions++
		st.mu.Unlock()
		s := &fakeSession{st: st, info: info}
		if withMove {
			return fakeMoveSession{s}, nil
		}
		return s, nil
	}
}
