package imapbackend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/memstore"
)

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
}

var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testTime }

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

// newBackend returns a backend whose every user shares st.
func newBackend(st mailstore.Store, opts Options) *Backend {
	if opts.Auth == nil {
		opts.Auth = fakeAuth{"alice": "secret"}
	}
	opts.OpenStore = func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
		if sa, ok := st.(mailstore.SessionAppender); ok {
			return nopCloseSA{nopClose{st}, sa}, nil
		}
		return nopClose{st}, nil
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	opts.Clock = fixedClock
	return New(opts)
}

// nopClose keeps the shared store open when a session ends.
type nopClose struct{ mailstore.Store }

func (nopClose) Close() error { return nil }

// nopCloseSA is nopClose for a store that is a mailstore.SessionAppender
// too, which the session uses as the daemon's would.
type nopCloseSA struct {
	nopClose
	sa mailstore.SessionAppender
}

func (n nopCloseSA) AppendSession(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions, sa mailstore.SessionAppend) (mailstore.AppendResult, error) {
	return n.sa.AppendSession(ctx, name, r, opts, sa)
}

var testConn = &imapserver.ConnInfo{RemoteAddr: netip.MustParseAddrPort("192.0.2.7:40000"), ID: "t1"}

// login returns a logged-in session on st.
func login(t testing.TB, st mailstore.Store) *session {
	t.Helper()
	ss, err := newBackend(st, Options{}).NewSession(context.Background(), testConn)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Login(context.Background(), "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	return ss.(*session)
}

// selectBox selects name read-write (or read-only) and fails the test on error.
func selectBox(t testing.TB, s *session, name string, readOnly bool) *imap.SelectData {
	t.Helper()
	d, err := s.Select(context.Background(), name, readOnly)
	if err != nil {
		t.Fatalf("Select(%q) = %v", name, err)
	}
	return d
}

// appendMsg stores a message in name and returns its UID.
func appendMsg(t testing.TB, st mailstore.Store, name, msg string, flags ...string) uint32 {
	t.Helper()
	_, uid, err := st.Append(context.Background(), name, strings.NewReader(msg), mailstore.AppendOptions{Flags: flags, InternalDate: testTime})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return uid
}

// simpleMsg is a small message with CRLF line ends.
func simpleMsg(n int) string {
	return fmt.Sprintf("From: a@example.org\r\nSubject: message %d\r\n\r\nBody %d.\r\n", n, n)
}

// updates records untagged updates as their wire text.
type updates struct{ lines []string }

func (u *updates) WriteExists(n uint32) error { return u.add("* %d EXISTS", n) }
func (u *updates) WriteRecent(n uint32) error { return u.add("* %d RECENT", n) }
func (u *updates) WriteExpunge(n uint32) error {
	return u.add("* %d EXPUNGE", n)
}
func (u *updates) WriteMailboxFlags(flags, perm []imap.Flag) error {
	return u.add("* FLAGS %s", flagList(flags))
}
func (u *updates) WriteMessageFlags(seq, uid uint32, flags []imap.Flag) error {
	if uid != 0 {
		return u.add("* %d FETCH (UID %d FLAGS %s)", seq, uid, flagList(flags))
	}
	return u.add("* %d FETCH (FLAGS %s)", seq, flagList(flags))
}
func (u *updates) add(f string, a ...any) error {
	u.lines = append(u.lines, fmt.Sprintf(f, a...))
	return nil
}

// take returns the lines recorded so far and forgets them.
func (u *updates) take() string {
	s := strings.Join(u.lines, "\n")
	u.lines = nil
	return s
}

func flagList(flags []imap.Flag) string {
	ss := make([]string, len(flags))
	for i, f := range flags {
		ss[i] = string(f)
	}
	return "(" + strings.Join(ss, " ") + ")"
}

// fetchRec renders FETCH responses as IMAP text, one line per message
// (literals inline, as {n}CRLF data).
type fetchRec struct {
	out bytes.Buffer
}

func (f *fetchRec) Message(seq uint32) imapserver.FetchMessageWriter {
	fmt.Fprintf(&f.out, "* %d FETCH (", seq)
	return &fetchMsg{rec: f}
}

func (f *fetchRec) take() string {
	s := f.out.String()
	f.out.Reset()
	return strings.TrimSuffix(s, "\n")
}

type fetchMsg struct {
	rec   *fetchRec
	items int
}

func (m *fetchMsg) item(s string) {
	if m.items > 0 {
		m.rec.out.WriteByte(' ')
	}
	m.items++
	m.rec.out.WriteString(s)
}

func (m *fetchMsg) WriteUID(uid uint32)          { m.item("UID " + strconv.FormatUint(uint64(uid), 10)) }
func (m *fetchMsg) WriteFlags(flags []imap.Flag) { m.item("FLAGS " + flagList(flags)) }
func (m *fetchMsg) WriteInternalDate(t time.Time) {
	m.item(`INTERNALDATE "` + t.Format("02-Jan-2006 15:04:05 -0700") + `"`)
}
func (m *fetchMsg) WriteRFC822Size(n int64)        { m.item("RFC822.SIZE " + strconv.FormatInt(n, 10)) }
func (m *fetchMsg) WriteEnvelope(e *imap.Envelope) { m.item("ENVELOPE " + renderEnvelope(e)) }
func (m *fetchMsg) WriteBodyStructure(bs *imap.BodyStructure, ext bool) {
	name := "BODY "
	if ext {
		name = "BODYSTRUCTURE "
	}
	m.item(name + renderBody(bs, ext))
}
func (m *fetchMsg) WriteModSeq(n uint64) { m.item(fmt.Sprintf("MODSEQ (%d)", n)) }
func (m *fetchMsg) WriteBodySection(sec *imap.FetchItemBodySection, size int64) io.WriteCloser {
	m.item(sectionName(sec) + fmt.Sprintf(" {%d}\r\n", size))
	return &literal{w: &m.rec.out, left: size}
}
func (m *fetchMsg) Close() error {
	m.rec.out.WriteString(")\n")
	return nil
}

// literal checks that exactly the announced octets are written.
type literal struct {
	w    io.Writer
	left int64
}

func (l *literal) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, fmt.Errorf("literal overflow: %d > %d", len(p), l.left)
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

func (l *literal) Close() error {
	if l.left != 0 {
		return fmt.Errorf("literal short by %d", l.left)
	}
	return nil
}

func sectionName(s *imap.FetchItemBodySection) string {
	if s.Legacy != "" {
		return s.Legacy
	}
	var parts []string
	for _, p := range s.Part {
		parts = append(parts, strconv.Itoa(p))
	}
	spec := strings.Join(parts, ".")
	if s.Specifier != "" {
		if spec != "" {
			spec += "."
		}
		spec += string(s.Specifier)
		if s.HeaderFields != nil {
			spec += ".FIELDS (" + strings.Join(s.HeaderFields, " ") + ")"
		} else if s.HeaderFieldsNot != nil {
			spec += ".FIELDS.NOT (" + strings.Join(s.HeaderFieldsNot, " ") + ")"
		}
	}
	name := "BODY[" + spec + "]"
	if s.Partial != nil {
		name += "<" + strconv.FormatInt(s.Partial.Offset, 10) + ">"
	}
	return name
}

func nstring(s string) string {
	if s == "" {
		return "NIL"
	}
	return strconv.Quote(s)
}

func renderEnvelope(e *imap.Envelope) string {
	return "(" + strings.Join([]string{
		nstring(e.Date), nstring(e.Subject), addrList(e.From), addrList(e.Sender), addrList(e.ReplyTo),
		addrList(e.To), addrList(e.Cc), addrList(e.Bcc), nstring(e.InReplyTo), nstring(e.MessageID),
	}, " ") + ")"
}

func addrList(as []imap.Address) string {
	if len(as) == 0 {
		return "NIL"
	}
	var b strings.Builder
	b.WriteByte('(')
	for _, a := range as {
		fmt.Fprintf(&b, "(%s %s %s %s)", nstring(a.Name), nstring(a.Route), nstring(a.Mailbox), nstring(a.Host))
	}
	b.WriteByte(')')
	return b.String()
}

func paramList(ps []string) string {
	if len(ps) == 0 {
		return "NIL"
	}
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = strconv.Quote(p)
	}
	return "(" + strings.Join(q, " ") + ")"
}

func renderBody(bs *imap.BodyStructure, ext bool) string {
	var b strings.Builder
	b.WriteByte('(')
	if bs.IsMultipart() {
		for _, c := range bs.Children {
			b.WriteString(renderBody(c, ext))
		}
		b.WriteString(" " + strconv.Quote(bs.Subtype))
		if ext {
			b.WriteString(" " + paramList(bs.Params) + " " + disposition(bs) + " " + language(bs) + " " + nstring(bs.Location))
		}
		b.WriteByte(')')
		return b.String()
	}
	fmt.Fprintf(&b, "%q %q %s %s %s %q %d", bs.Type, bs.Subtype, paramList(bs.Params), nstring(bs.ID), nstring(bs.Description), bs.Encoding, bs.Size)
	if bs.Type == "MESSAGE" && bs.Subtype == "RFC822" {
		fmt.Fprintf(&b, " %s %s %d", renderEnvelope(bs.Envelope), renderBody(bs.Body, ext), bs.Lines)
	} else if bs.Type == "TEXT" {
		fmt.Fprintf(&b, " %d", bs.Lines)
	}
	if ext {
		b.WriteString(" " + nstring(bs.MD5) + " " + disposition(bs) + " " + language(bs) + " " + nstring(bs.Location))
	}
	b.WriteByte(')')
	return b.String()
}

func disposition(bs *imap.BodyStructure) string {
	if bs.Disposition == "" {
		return "NIL"
	}
	return "(" + strconv.Quote(bs.Disposition) + " " + paramList(bs.DispositionParams) + ")"
}

func language(bs *imap.BodyStructure) string {
	if len(bs.Language) == 0 {
		return "NIL"
	}
	return paramList(bs.Language)
}

// all is the sequence set 1:*.
var all = imap.NumSet{Ranges: []imap.NumRange{{Start: 1, Stop: 0}}}

func set(t testing.TB, s string) imap.NumSet {
	t.Helper()
	ns, err := imap.ParseNumSet(s)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
