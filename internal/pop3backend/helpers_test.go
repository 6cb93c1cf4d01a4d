package pop3backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/memstore"
	"github.com/postern/postern/internal/pop3server"
)

var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testTime }

// mboxOptions are the options of an mbox store in dir, INBOX at
// dir/spool/user as /var/mail/USER.
func mboxOptions(dir string) mbox.Options {
	return mbox.Options{
		Root:     filepath.Join(dir, "home"),
		Inbox:    filepath.Join(dir, "spool", "user"),
		NoFsync:  true,
		Location: time.UTC,
		Hostname: "vm",
		Sender:   "uwtest@vm",
		Now:      fixedClock,
	}
}

// openMbox opens an mbox store in dir, making the spool directory.
func openMbox(t testing.TB, dir string) mailstore.Store {
	t.Helper()
	for _, d := range []string{"spool", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	st, err := mbox.Open(mboxOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// opener makes a fresh, empty store for one test.
type opener struct {
	name string
	open func(t testing.TB) mailstore.Store
}

// openers lists the drivers every test runs on.
var openers = []opener{
	{"memstore", func(t testing.TB) mailstore.Store { return memstore.New(fixedClock) }},
	{"maildir", func(t testing.TB) mailstore.Store {
		st, err := maildir.Open(t.TempDir(), maildir.Options{NoFsync: true, Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"mbox", func(t testing.TB) mailstore.Store { return openMbox(t, t.TempDir()) }},
}

// forEachStore runs fn once per driver.
func forEachStore(t *testing.T, fn func(t *testing.T, st mailstore.Store)) {
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) { fn(t, o.open(t)) })
	}
}

// fakeAuth accepts the users in its map, with the password as value.
type fakeAuth map[string]string

func (a fakeAuth) Authenticate(ctx context.Context, user, pass string) (*auth.User, error) {
	switch p, ok := a[user]; {
	case user == "temp":
		return nil, auth.ErrTemporary
	case !ok || p != pass:
		return nil, auth.ErrInvalidCredentials
	}
	return &auth.User{Name: user, UID: -1, GID: -1}, nil
}

// logRec records log messages (the UW-style text, without attributes).
type logRec struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRec) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRec) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Message)
	return nil
}
func (l *logRec) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRec) WithGroup(string) slog.Handler      { return l }

// take returns the lines recorded so far and forgets them.
func (l *logRec) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.lines
	l.lines = nil
	return s
}

// newBackend returns a backend whose every user shares st, logging to lr
// when it is not nil.
func newBackend(st mailstore.Store, lr *logRec, opts Options) *Backend {
	if opts.Auth == nil {
		opts.Auth = fakeAuth{"alice": "secret"}
	}
	opts.OpenStore = func(ctx context.Context, u *auth.User) (mailstore.Store, error) { return nopClose{st}, nil }
	opts.Clock = fixedClock
	if lr != nil {
		opts.Logger = slog.New(lr)
	}
	return New(opts)
}

// nopClose keeps the shared store open when a session ends.
type nopClose struct{ mailstore.Store }

func (nopClose) Close() error { return nil }

var testConn = &pop3server.ConnInfo{RemoteAddr: netip.MustParseAddrPort("192.0.2.7:40000"), ID: "t1"}

// testHost is how testConn's address appears in the log lines.
const testHost = "192.0.2.7 [192.0.2.7]"

// login returns a logged-in session on st.
func login(t testing.TB, st mailstore.Store) *session {
	t.Helper()
	return loginLog(t, st, nil)
}

// loginLog is login with the log lines going to lr.
func loginLog(t testing.TB, st mailstore.Store, lr *logRec) *session {
	t.Helper()
	ss, err := newBackend(st, lr, Options{}).NewSession(context.Background(), testConn)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Login(context.Background(), "alice", "secret"); err != nil {
		t.Fatalf("Login = %v", err)
	}
	t.Cleanup(func() { ss.Close() })
	return ss.(*session)
}

// appendMsg stores a message in INBOX and returns its UID.
func appendMsg(t testing.TB, st mailstore.Store, msg string, flags ...string) uint32 {
	t.Helper()
	_, uid, err := st.Append(context.Background(), "INBOX", strings.NewReader(msg), mailstore.AppendOptions{Flags: flags, InternalDate: testTime})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return uid
}

// simpleMsg is a small message with CRLF line ends.
func simpleMsg(n int) string {
	return fmt.Sprintf("From: a@example.org\r\nSubject: message %d\r\n\r\nBody %d.\r\n", n, n)
}

// retr returns what Retr writes for message n.
func retr(t testing.TB, s *session, n int) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Retr(context.Background(), n, &b); err != nil {
		t.Fatalf("Retr(%d) = %v", n, err)
	}
	return b.String()
}

// top returns what Top writes for message n.
func top(t testing.TB, s *session, n, lines int) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Top(context.Background(), n, lines, &b); err != nil {
		t.Fatalf("Top(%d, %d) = %v", n, lines, err)
	}
	return b.String()
}

// inbox returns INBOX's messages as "UID:flags" strings, flags sorted and
// space-separated, read through a fresh Mailbox.
func inbox(t testing.TB, st mailstore.Store) []string {
	t.Helper()
	mb, err := st.Open(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	metas, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range metas {
		fl := slices.Clone(m.Flags)
		slices.Sort(fl)
		out = append(out, fmt.Sprintf("%d:%s", m.UID, strings.Join(fl, " ")))
	}
	return out
}

// toCRLF is the reference conversion: every LF not preceded by CR becomes
// CRLF.
func toCRLF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hasBareLF reports whether s holds an LF not preceded by CR.
func hasBareLF(s string) bool { return toCRLF(s) != s }

// errCode returns the response code of a *pop3server.Error in err, or
// "none".
func errCode(err error) string {
	var pe *pop3server.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return "none"
}
