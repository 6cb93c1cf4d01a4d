package pop3server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// fakeStore is an in-memory set of maildrops for the fake sessions, with
// hooks that make an operation fail or panic.
type fakeStore struct {
	mu       sync.Mutex
	users    map[string]string     // user name -> password (also the APOP secret)
	drops    map[string][]*fakeMsg // guarded by mu
	locked   map[string]bool       // maildrops held by a session; guarded by mu
	hook     func(op string) error // called before each session operation; guarded by mu
	reasons  []string              // SetEndReason calls; guarded by mu
	closed   int                   // Close calls; guarded by mu
	sessions map[*fakeSession]bool // live sessions; guarded by mu
}

type fakeMsg struct {
	uid  string
	body string // CRLF line endings, as RETR sends it before stuffing
}

// The transcripts' maildrop: a plain message, one whose lines start with
// dots, one without a final line ending, and one with a longer body.
var fakeMessages = []*fakeMsg{
	{"uid-one", "From: bob@example.org\r\nSubject: Hello\r\n\r\nHello, Alice.\r\n"},
	{"uid-two", "From: carol@example.org\r\nSubject: Dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n"},
	{"uid-three", "From: dave@example.org\r\nSubject: No newline\r\n\r\nno final line ending"},
	{"uid-four", "From: erin@example.org\r\nSubject: Lines\r\n\r\nline 1\r\nline 2\r\nline 3\r\n"},
}

func newFakeStore() *fakeStore {
	st := &fakeStore{
		users:    map[string]string{"alice": "secret", "bob": "pass word"},
		drops:    map[string][]*fakeMsg{},
		locked:   map[string]bool{},
		sessions: map[*fakeSession]bool{},
	}
	for _, m := range fakeMessages {
		c := *m
		st.drops["alice"] = append(st.drops["alice"], &c)
	}
	return st
}

// uids returns the UIDs in user's maildrop.
func (st *fakeStore) uids(user string) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []string
	for _, m := range st.drops[user] {
		out = append(out, m.uid)
	}
	return out
}

func (st *fakeStore) setHook(h func(op string) error) {
	st.mu.Lock()
	st.hook = h
	st.mu.Unlock()
}

func (st *fakeStore) endReasons() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.reasons...)
}

func (st *fakeStore) closeCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

// fakeSession implements Session over a fakeStore maildrop.
type fakeSession struct {
	st      *fakeStore
	info    *ConnInfo
	user    string
	snap    []*fakeMsg
	deleted []bool
}

var _ Session = (*fakeSession)(nil)
var _ SessionEndReason = (*fakeSession)(nil)

// fakeAPOPSession adds APOP.
type fakeAPOPSession struct{ *fakeSession }

var _ SessionAPOP = fakeAPOPSession{}

func newFakeSessionFunc(st *fakeStore, apop bool) func(context.Context, *ConnInfo) (Session, error) {
	return func(ctx context.Context, info *ConnInfo) (Session, error) {
		s := &fakeSession{st: st, info: info}
		st.mu.Lock()
		st.sessions[s] = true
		st.mu.Unlock()
		if apop {
			return fakeAPOPSession{s}, nil
		}
		return s, nil
	}
}

func (s *fakeSession) op(name string) error {
	s.st.mu.Lock()
	h := s.st.hook
	s.st.mu.Unlock()
	if h != nil {
		return h(name)
	}
	return nil
}

func (s *fakeSession) Login(ctx context.Context, username, password string) error {
	if err := s.op("Login"); err != nil {
		return err
	}
	s.st.mu.Lock()
	pw, ok := s.st.users[username]
	s.st.mu.Unlock()
	if !ok || pw != password {
		return ErrAuth
	}
	return s.open(username)
}

func (s fakeAPOPSession) APOP(ctx context.Context, username, timestamp, digest string) error {
	s.st.mu.Lock()
	pw, ok := s.st.users[username]
	s.st.mu.Unlock()
	sum := md5.Sum([]byte(timestamp + pw))
	if !ok || hex.EncodeToString(sum[:]) != digest {
		return ErrAuth
	}
	return s.open(username)
}

// open takes the snapshot, refusing a maildrop another session holds
// (RFC 2449 §8.1.1 IN-USE).
func (s *fakeSession) open(user string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.locked[user] {
		return &Error{Code: CodeInUse, Text: "Maildrop in use"}
	}
	s.st.locked[user] = true
	s.user = user
	s.snap = append([]*fakeMsg(nil), s.st.drops[user]...)
	s.deleted = make([]bool, len(s.snap))
	return nil
}

func (s *fakeSession) Stat(ctx context.Context) (int, int64, error) {
	if err := s.op("Stat"); err != nil {
		return 0, 0, err
	}
	var n int
	var size int64
	for i, m := range s.snap {
		if !s.deleted[i] {
			n++
			size += int64(len(m.body))
		}
	}
	return n, size, nil
}

func (s *fakeSession) List(ctx context.Context) ([]Message, error) {
	if err := s.op("List"); err != nil {
		return nil, err
	}
	out := make([]Message, len(s.snap))
	for i, m := range s.snap {
		out[i] = Message{Size: int64(len(m.body)), UID: m.uid, Deleted: s.deleted[i]}
	}
	return out, nil
}

func (s *fakeSession) check(n int) error {
	if n < 1 || n > len(s.snap) || s.deleted[n-1] {
		return fmt.Errorf("fake: message %d out of range or deleted: the server should have checked", n)
	}
	return nil
}

func (s *fakeSession) Retr(ctx context.Context, n int, w io.Writer) error {
	if err := s.op("Retr"); err != nil {
		return err
	}
	if err := s.check(n); err != nil {
		return err
	}
	body := s.snap[n-1].body
	if err := s.op("Retr-midway"); err != nil {
		io.WriteString(w, body[:len(body)/2])
		return err
	}
	_, err := io.WriteString(w, body)
	return err
}

// Top writes the header, the blank line and the first lines of the body
// (RFC 1939 §7), CRLF endings kept as stored.
func (s *fakeSession) Top(ctx context.Context, n, lines int, w io.Writer) error {
	if err := s.op("Top"); err != nil {
		return err
	}
	if err := s.check(n); err != nil {
		return err
	}
	body := s.snap[n-1].body
	i := strings.Index(body, "\r\n\r\n")
	if i < 0 {
		_, err := io.WriteString(w, body)
		return err
	}
	out := body[:i+4]
	rest := body[i+4:]
	for ; lines > 0 && rest != ""; lines-- {
		j := strings.Index(rest, "\r\n")
		if j < 0 {
			out += rest
			break
		}
		out += rest[:j+2]
		rest = rest[j+2:]
	}
	_, err := io.WriteString(w, out)
	return err
}

func (s *fakeSession) Dele(ctx context.Context, n int) error {
	if err := s.op("Dele"); err != nil {
		return err
	}
	if err := s.check(n); err != nil {
		return err
	}
	s.deleted[n-1] = true
	return nil
}

func (s *fakeSession) Rset(ctx context.Context) error {
	if err := s.op("Rset"); err != nil {
		return err
	}
	for i := range s.deleted {
		s.deleted[i] = false
	}
	return nil
}

// Update removes exactly the messages this session marked; messages
// delivered meanwhile stay.
func (s *fakeSession) Update(ctx context.Context) error {
	if err := s.op("Update"); err != nil {
		return err
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	gone := map[*fakeMsg]bool{}
	for i, m := range s.snap {
		if s.deleted[i] {
			gone[m] = true
		}
	}
	var keep []*fakeMsg
	for _, m := range s.st.drops[s.user] {
		if !gone[m] {
			keep = append(keep, m)
		}
	}
	s.st.drops[s.user] = keep
	return nil
}

func (s *fakeSession) Close() error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.user != "" {
		delete(s.st.locked, s.user)
	}
	delete(s.st.sessions, s)
	s.st.closed++
	return nil
}

func (s *fakeSession) SetEndReason(reason string) {
	s.st.mu.Lock()
	s.st.reasons = append(s.st.reasons, reason)
	s.st.mu.Unlock()
}

// errBackend is a backend failure that is not an *Error.
var errBackend = errors.New("fake: disk on fire")

// unstuff undoes dot-stuffing of a multi-line body (the lines between the
// status line and the terminator), for the dotWriter tests.
func unstuff(b []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte(".")) {
			l = l[1:]
		}
		out = append(out, l...)
	}
	return out
}
