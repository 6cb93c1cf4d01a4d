// Package memstore is an in-memory mailstore driver for unit tests of the
// protocol adapters. It keeps everything in maps guarded by one mutex, passes
// the storetest conformance suite, and persists nothing.
package memstore

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// Store is an in-memory mailstore.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu              sync.Mutex
	boxes           map[string]*box // by canonical name; guarded by mu
	subs            map[string]bool // guarded by mu
	lastUIDValidity uint32          // guarded by mu
}

var _ mailstore.Store = (*Store)(nil)

// box is one mailbox; all fields are guarded by Store.mu.
type box struct {
	name        string
	specialUse  string
	uidValidity uint32
	uidNext     uint32
	modSeq      uint64
	recentUID   uint32 // highest UID claimed by ClaimRecent
	msgs        []*message
	expunged    []expunge
	watchers    map[*mailbox]struct{}
	deleted     bool
}

type message struct {
	uid    uint32
	modSeq uint64
	flags  []string
	date   time.Time
	saved  time.Time // when stored in this mailbox (RFC 8514)
	data   []byte
	cache  []byte
	hdrs   []byte // mailstore.HeaderCacher's entry
}

type expunge struct {
	uid    uint32
	modSeq uint64
}

// New returns an empty store holding only INBOX. now gives internal dates and
// UIDVALIDITY seeds; nil means time.Now.
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, boxes: map[string]*box{}, subs: map[string]bool{}}
	s.newBox("INBOX", "")
	return s
}

// newBox adds a mailbox; the caller holds mu.
func (s *Store) newBox(name, specialUse string) *box {
	uv := uint32(s.now().Unix())
	if uv <= s.lastUIDValidity {
		uv = s.lastUIDValidity + 1
	}
	s.lastUIDValidity = uv
	b := &box{name: name, specialUse: specialUse, uidValidity: uv, uidNext: 1, modSeq: 1, watchers: map[*mailbox]struct{}{}}
	s.boxes[name] = b
	return b
}

// lookup finds an existing mailbox; the caller holds mu.
func (s *Store) lookup(name string) (*box, error) {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return nil, err
	}
	b := s.boxes[cn]
	if b == nil {
		return nil, fmt.Errorf("memstore: %q: %w", name, mailstore.ErrNotExist)
	}
	return b, nil
}

func (b *box) notify() {
	for mb := range b.watchers {
		select {
		case mb.watch <- struct{}{}:
		default:
		}
	}
}

func (b *box) find(uid uint32) (int, bool) {
	return sort.Find(len(b.msgs), func(i int) int {
		switch {
		case uid < b.msgs[i].uid:
			return -1
		case uid > b.msgs[i].uid:
			return 1
		}
		return 0
	})
}

// add appends a message with the next UID and MODSEQ.
func (b *box) add(m message) uint32 {
	b.modSeq++
	m.uid, m.modSeq = b.uidNext, b.modSeq
	b.uidNext++
	b.msgs = append(b.msgs, &m)
	return m.uid
}

// List implements mailstore.Store.
func (s *Store) List(ctx context.Context) ([]mailstore.MailboxInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mailstore.MailboxInfo
	for _, b := range s.boxes {
		out = append(out, mailstore.MailboxInfo{Name: b.name, SpecialUse: b.specialUse, Subscribed: s.subs[b.name]})
	}
	slices.SortFunc(out, func(a, b mailstore.MailboxInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Create implements mailstore.Store.
func (s *Store) Create(ctx context.Context, name, specialUse string) error {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boxes[cn] != nil {
		return fmt.Errorf("memstore: %q: %w", name, mailstore.ErrExist)
	}
	s.createParents(cn)
	s.newBox(cn, specialUse)
	return nil
}

func (s *Store) createParents(cn string) {
	parts := strings.Split(cn, "/")
	for i := 1; i < len(parts); i++ {
		if p := strings.Join(parts[:i], "/"); s.boxes[p] == nil {
			s.newBox(p, "")
		}
	}
}

func (s *Store) hasChildren(cn string) bool {
	for n := range s.boxes {
		if strings.HasPrefix(n, cn+"/") {
			return true
		}
	}
	return false
}

// Delete implements mailstore.Store.
func (s *Store) Delete(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookup(name)
	if err != nil {
		return err
	}
	if b.name == "INBOX" {
		return fmt.Errorf("memstore: cannot delete INBOX: %w", mailstore.ErrInvalidName)
	}
	if s.hasChildren(b.name) {
		return fmt.Errorf("memstore: %q: %w", name, mailstore.ErrHasChildren)
	}
	delete(s.boxes, b.name)
	b.deleted = true
	b.notify()
	return nil
}

// Rename implements mailstore.Store.
func (s *Store) Rename(ctx context.Context, oldName, newName string) error {
	to, err := mailstore.CanonicalName(newName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookup(oldName)
	if err != nil {
		return err
	}
	if s.boxes[to] != nil {
		return fmt.Errorf("memstore: %q: %w", newName, mailstore.ErrExist)
	}
	if strings.HasPrefix(to, b.name+"/") {
		return fmt.Errorf("memstore: cannot rename %q under itself: %w", oldName, mailstore.ErrInvalidName)
	}
	s.createParents(to)
	if b.name == "INBOX" {
		// RFC 3501 §6.3.5: the messages move, INBOX stays and is empty.
		nb := s.newBox(to, "")
		nb.uidNext, nb.modSeq = b.uidNext, b.modSeq
		nb.msgs = b.msgs
		b.modSeq++
		for _, m := range b.msgs {
			b.expunged = append(b.expunged, expunge{m.uid, b.modSeq})
		}
		b.msgs = nil
		b.notify()
		return nil
	}
	from := b.name
	var moved []*box
	for n, c := range s.boxes {
		if n == from || strings.HasPrefix(n, from+"/") {
			delete(s.boxes, n)
			c.name = to + n[len(from):]
			moved = append(moved, c)
		}
	}
	for _, c := range moved {
		s.boxes[c.name] = c
	}
	return nil
}

// SetSubscribed implements mailstore.Store.
func (s *Store) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if subscribed {
		s.subs[cn] = true
	} else {
		delete(s.subs, cn)
	}
	return nil
}

// Subscriptions implements mailstore.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.subs))
	for n := range s.subs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// Status implements mailstore.Store.
func (s *Store) Status(ctx context.Context, name string) (mailstore.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookup(name)
	if err != nil {
		return mailstore.Status{}, err
	}
	st := mailstore.Status{MailboxState: b.state(), Messages: uint32(len(b.msgs))}
	for _, m := range b.msgs {
		if !slices.Contains(m.flags, mailstore.FlagSeen) {
			st.Unseen++
		}
		if slices.Contains(m.flags, mailstore.FlagDeleted) {
			st.Deleted++
		}
		if m.uid > b.recentUID {
			st.Recent++
		}
		st.Size += int64(len(m.data))
	}
	return st, nil
}

func (b *box) state() mailstore.MailboxState {
	return mailstore.MailboxState{UIDValidity: b.uidValidity, UIDNext: b.uidNext, HighestModSeq: b.modSeq, FirstRecentUID: b.recentUID + 1,
		// UIDVALIDITY is unique in this store: it is the key too.
		MailboxID: mailstore.MailboxID(int64(b.uidValidity), b.uidValidity)}
}

// Append implements mailstore.Store.
func (s *Store) Append(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions) (uint32, uint32, error) {
	flags, err := mailstore.NormalizeFlags(opts.Flags)
	if err != nil {
		return 0, 0, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, fmt.Errorf("memstore: append: %w", err)
	}
	date := opts.InternalDate
	if date.IsZero() {
		date = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookup(name)
	if err != nil {
		return 0, 0, err
	}
	uid := b.add(message{flags: flags, date: date, saved: s.now(), data: data})
	b.notify()
	return b.uidValidity, uid, nil
}

// Open implements mailstore.Store.
func (s *Store) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	mb := &mailbox{s: s, b: b, watch: make(chan struct{}, 1)}
	b.watchers[mb] = struct{}{}
	return mb, nil
}

// Close implements mailstore.Store; the data stays in memory.
func (s *Store) Close() error { return nil }
