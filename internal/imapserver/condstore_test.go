package imapserver

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/memconn"

	"github.com/postern/postern/internal/imap"
)

// fakeCondSession adds CONDSTORE and QRESYNC (RFC 7162) to the fake, just
// enough for the protocol layer: every message has MODSEQ 40+UID, the
// mailbox HIGHESTMODSEQ 45, and UNCHANGEDSINCE fails for messages above
// the given value. It records what the server handed it.
type fakeCondSession struct {
	fakeMoveSession
	rec *condRecord
}

// condRecord is what a fakeCondSession saw, shared with the test.
type condRecord struct {
	mu      sync.Mutex
	enabled []string
	resync  *imap.SelectQResync
	search  *imap.SearchOptions
}

const fakeHighestModSeq = 45

var _ SessionCondStore = fakeCondSession{}

// condSessions wraps the fake's sessions (with MOVE) from inner.
func condSessions(inner func(context.Context, *ConnInfo) (Session, error), rec *condRecord) func(context.Context, *ConnInfo) (Session, error) {
	return func(ctx context.Context, info *ConnInfo) (Session, error) {
		s, err := inner(ctx, info)
		if err != nil {
			return nil, err
		}
		return fakeCondSession{s.(fakeMoveSession), rec}, nil
	}
}

func (s fakeCondSession) Enable(ext string) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.rec.enabled = append(s.rec.enabled, ext)
}

func (s fakeCondSession) Select(ctx context.Context, name string, readOnly bool) (*imap.SelectData, error) {
	d, err := s.fakeSession.Select(ctx, name, readOnly)
	if err == nil && name != "Empty" {
		d.HighestModSeq = fakeHighestModSeq
	}
	return d, err
}

func (s fakeCondSession) HighestModSeq(ctx context.Context) (uint64, error) {
	return fakeHighestModSeq, nil
}

func (s fakeCondSession) Search(ctx context.Context, kind imap.NumKind, c *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	s.rec.mu.Lock()
	s.rec.search = opts
	s.rec.mu.Unlock()
	d, err := s.fakeSession.Search(ctx, kind, c, opts)
	if err == nil && opts.ModSeq && len(d.All) > 0 {
		d.ModSeq = 40 + uint64(d.All[len(d.All)-1])
	}
	return d, err
}

func (s fakeCondSession) StoreConditional(ctx context.Context, w FetchWriter, kind imap.NumKind, set imap.NumSet, sf *imap.StoreFlags) (*imap.StoreResult, error) {
	res := &imap.StoreResult{}
	if !sf.Conditional {
		return res, s.fakeSession.Store(ctx, w, kind, set, sf)
	}
	// Numbers above UNCHANGEDSINCE-40 fail; the others are stored.
	var pass, fail []uint32
	for _, r := range set.Resolved(uint32(len(s.view))) {
		for n := r.Start; n <= r.Stop && n != 0; n++ {
			if uint64(n)+40 > sf.UnchangedSince {
				fail = append(fail, n)
			} else {
				pass = append(pass, n)
			}
		}
	}
	res.Modified = imap.NumSetOf(fail)
	if len(pass) == 0 {
		s.st.mu.Lock()
		s.st.lastStore = sf
		s.st.mu.Unlock()
		return res, nil
	}
	return res, s.fakeSession.Store(ctx, w, kind, imap.NumSetOf(pass), sf)
}

func (s fakeCondSession) Resync(ctx context.Context, w FetchWriter, q *imap.SelectQResync) error {
	s.rec.mu.Lock()
	s.rec.resync = q
	s.rec.mu.Unlock()
	if q.UIDValidity == 0 {
		return nil
	}
	if err := w.(ModSeqWriter).WriteVanished(imap.NumSetOf([]uint32{7, 8, 9, 11}), true); err != nil {
		return err
	}
	return w.(ModSeqWriter).WriteMessageModSeq(2, 2, []imap.Flag{imap.FlagSeen}, 42)
}

// newCondTestServer is newTestServer with fakeCondSession sessions.
func newCondTestServer(t *testing.T) (*testServer, *condRecord) {
	rec := &condRecord{}
	ts := newTestServer(t, func(o *Options) { o.NewSession = condSessions(o.NewSession, rec) })
	return ts, rec
}

// TestCondStoreParse checks the modifiers, select parameters and search
// key of RFC 7162 as the session receives them.
func TestCondStoreParse(t *testing.T) {
	ts, rec := newCondTestServer(t)
	tc := ts.dial(t)
	tc.login()
	tc.send("e ENABLE QRESYNC\r\n")
	tc.expect("* ENABLED QRESYNC", "e OK ENABLE completed")

	known := set(rng(1, 5), rng(9, 0))
	selects := []struct {
		args string
		want *imap.SelectQResync
	}{
		{"(QRESYNC (67890007 90060115194045000))", &imap.SelectQResync{UIDValidity: 67890007, ModSeq: 90060115194045000}},
		{"(QRESYNC (67890007 9 1:5,9:*))", &imap.SelectQResync{UIDValidity: 67890007, ModSeq: 9, KnownUIDs: &known}},
		{"(condstore QRESYNC (1 9223372036854775807 1:5,9:* (1:2,4 3:4,9)))", &imap.SelectQResync{UIDValidity: 1, ModSeq: 9223372036854775807,
			KnownUIDs: &known, KnownSeqs: ptr(set(rng(1, 2), rng(4, 4))), KnownSeqUIDs: ptr(set(rng(3, 4), rng(9, 9)))}},
		{"(QRESYNC (1 2 (1 3)))", &imap.SelectQResync{UIDValidity: 1, ModSeq: 2, KnownSeqs: ptr(set(rng(1, 1))), KnownSeqUIDs: ptr(set(rng(3, 3)))}},
	}
	for _, tt := range selects {
		rec.mu.Lock()
		rec.resync = nil
		rec.mu.Unlock()
		tc.send("s SELECT INBOX " + tt.args + "\r\n")
		lines := tc.until("s")
		if last := lines[len(lines)-1]; last != "s OK [READ-WRITE] SELECT completed" {
			t.Errorf("SELECT %q: %q", tt.args, lines)
			continue
		}
		rec.mu.Lock()
		got := rec.resync
		rec.mu.Unlock()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SELECT %q: QRESYNC %+v, want %+v", tt.args, got, tt.want)
		}
	}

	fetches := []struct {
		args string
		want imap.FetchOptions
	}{
		{"(MODSEQ)", imap.FetchOptions{ModSeq: true}},
		{"(FLAGS) (CHANGEDSINCE 12345)", imap.FetchOptions{Flags: true, ModSeq: true, ChangedSince: 12345}},
		{"FLAGS (changedsince 7 vanished)", imap.FetchOptions{UID: true, Flags: true, ModSeq: true, ChangedSince: 7, Vanished: true}},
	}
	for _, tt := range fetches {
		tc.send("f UID FETCH 1:* " + tt.args + "\r\n")
		lines := tc.until("f")
		if last := lines[len(lines)-1]; last != "f OK UID FETCH completed" {
			t.Errorf("UID FETCH %q: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got := *ts.store.lastFetch
		ts.store.mu.Unlock()
		tt.want.UID = true
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("UID FETCH %q = %+v, want %+v", tt.args, got, tt.want)
		}
	}

	stores := []struct {
		args string
		want imap.StoreFlags
	}{
		{"(UNCHANGEDSINCE 50) +FLAGS (\\Seen)", imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, UnchangedSince: 50, Conditional: true}},
		{"(unchangedsince 0) -FLAGS.SILENT ($MDNSent)", imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{"$MDNSent"}, Conditional: true}},
	}
	for _, tt := range stores {
		tc.send("t STORE 1 " + tt.args + "\r\n")
		tc.until("t")
		ts.store.mu.Lock()
		got := *ts.store.lastStore
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("STORE %q = %+v, want %+v", tt.args, got, tt.want)
		}
	}

	searches := []struct {
		args string
		want uint64
	}{
		{"MODSEQ 620162338", 620162338},
		{`MODSEQ "/flags/\\draft" all 620162338`, 620162338},
		{`MODSEQ "/flags/$Work" PRIV 7`, 7},
		{"MODSEQ 0", 1}, // mod-sequence-valzer: 0 matches all, as 1 does
	}
	for _, tt := range searches {
		tc.send("q SEARCH " + tt.args + "\r\n")
		tc.until("q")
		ts.store.mu.Lock()
		got := ts.store.lastSearch.ModSeq
		ts.store.mu.Unlock()
		rec.mu.Lock()
		opt := rec.search
		rec.mu.Unlock()
		if got != tt.want || opt == nil || !opt.ModSeq {
			t.Errorf("SEARCH %q: ModSeq %d, options %+v, want %d and ModSeq set", tt.args, got, opt, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestCondStoreErrors checks the BAD answers RFC 7162 requires.
func TestCondStoreErrors(t *testing.T) {
	ts, _ := newCondTestServer(t)
	tc := ts.dial(t)
	tc.login()
	tests := []struct{ cmd, want string }{
		// §3.2.3: QRESYNC before ENABLE QRESYNC.
		{"SELECT INBOX (QRESYNC (1 2))", "x BAD [CLIENTBUG] QRESYNC must be enabled first"},
		{"SELECT INBOX (FOO)", "x BAD Unknown SELECT parameter"},
		{"SELECT INBOX (CONDSTORE", "x BAD expected SP or \")\", found end of line"},
		{"SELECT INBOX", "x OK [READ-WRITE] SELECT completed"},
		// §3.2.6: VANISHED needs UID FETCH, QRESYNC and CHANGEDSINCE.
		{"FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "x BAD VANISHED is only allowed with UID FETCH"},
		{"UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "x BAD [CLIENTBUG] QRESYNC must be enabled first"},
		{"FETCH 1 (FLAGS) (CHANGEDSINCE x)", "x BAD Invalid mod-sequence"},
		{"FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)", "x BAD Invalid mod-sequence"},
		{"FETCH 1 (FLAGS) ()", "x OK FETCH completed"},
		{"STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) +FLAGS (\\Seen)", "x BAD Unknown STORE modifier"},
		{"STORE 1 (FOO 1) +FLAGS (\\Seen)", "x BAD Unknown STORE modifier"},
		{"SEARCH MODSEQ \"/flags/\\\\seen\" none 5", "x BAD Invalid MODSEQ entry type"},
		{"SEARCH MODSEQ \"/x\" all 5", "x BAD Invalid MODSEQ entry name"},
		{"SEARCH MODSEQ", "x BAD expected SP, found end of line"},
	}
	for _, tt := range tests {
		tc.send("x " + tt.cmd + "\r\n")
		lines := tc.until("x")
		if last := lines[len(lines)-1]; last != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cmd, lines, tt.want)
		}
	}
	tc.send("e ENABLE QRESYNC\r\n")
	tc.until("e")
	for _, tt := range []struct{ cmd, want string }{
		{"UID FETCH 1 (FLAGS) (VANISHED)", "x BAD VANISHED needs CHANGEDSINCE"},
		{"SELECT INBOX (QRESYNC (1 0))", "x BAD Invalid mod-sequence"},
		{"SELECT INBOX (QRESYNC (0 1))", "x BAD expected non-zero number, found \"0\""},
		{"SELECT INBOX (QRESYNC (1 2 1:3 (1:2 *)))", "x BAD Invalid QRESYNC sequence match data"},
		{"SELECT INBOX (QRESYNC (1 2) QRESYNC (1 2))", "x BAD QRESYNC given twice"},
	} {
		tc.send("x " + tt.cmd + "\r\n")
		lines := tc.until("x")
		if last := lines[len(lines)-1]; last != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cmd, lines, tt.want)
		}
	}
}

// TestCondStoreNotOffered checks that a session without SessionCondStore
// gets neither the capabilities nor the syntax.
func TestCondStoreNotOffered(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	tc.send("e ENABLE CONDSTORE QRESYNC\r\n")
	tc.expect("* ENABLED", "e OK ENABLE completed")
	for _, tt := range []struct{ cmd, want string }{
		{"FETCH 1 (MODSEQ)", "x BAD Unknown FETCH item"},
		{"FETCH 1 (FLAGS) (CHANGEDSINCE 1)", "x BAD Unknown FETCH modifier"},
		{"STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)", "x BAD Unknown STORE modifier"},
		{"SEARCH MODSEQ 1", "x BAD Unknown search key"},
		{"STATUS INBOX (HIGHESTMODSEQ)", "x BAD Unknown STATUS item"},
		{"SELECT INBOX (CONDSTORE)", "x BAD Unknown SELECT parameter"},
	} {
		tc.send("x " + tt.cmd + "\r\n")
		lines := tc.until("x")
		if last := lines[len(lines)-1]; last != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cmd, lines, tt.want)
		}
	}
}

// FuzzCondStore feeds command lines with RFC 7162 syntax to a server whose
// session supports it, after ENABLE QRESYNC and SELECT: no panic, and an
// answer to every line without CR, LF or a literal.
func FuzzCondStore(f *testing.F) {
	seeds := []string{
		"a SELECT INBOX (CONDSTORE)", "a SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541))",
		"a EXAMINE INBOX (QRESYNC (1 2 1:* (1:3,5 2:4,9)))", "a SELECT INBOX (QRESYNC (1 2 (1 2)) CONDSTORE)",
		"a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)", "a FETCH 1:* (MODSEQ FLAGS) (CHANGEDSINCE 0)",
		"a STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)", "a UID STORE 2 (UNCHANGEDSINCE 0) FLAGS ()",
		"a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", "a SEARCH OR NOT MODSEQ 720162338 LARGER 50000",
		"a STATUS INBOX (HIGHESTMODSEQ MESSAGES)", "a ENABLE CONDSTORE QRESYNC", "a EXPUNGE", "a UID EXPUNGE 1:3",
		"a SELECT INBOX (QRESYNC (1 2 3 (4 5 6)))", "a FETCH 1 (FLAGS) (CHANGEDSINCE 18446744073709551616)",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		const prefix = "L LOGIN alice secret\r\nE ENABLE QRESYNC\r\nS SELECT INBOX\r\n"
		conn := memconn.New(prefix+line+"\r\nzz9 LOGOUT\r\n", 143)
		var panics panicDetector
		srv := New(Options{
			NewSession: condSessions(newFakeSessionFunc(newFakeStore(), true), &condRecord{}),
			Logger:     slog.New(slog.NewTextHandler(&panics, nil)),
		})
		srv.ServeConn(context.Background(), conn, false)
		if len(panics.panics) > 0 {
			t.Fatalf("panic for %q: %s", line, panics.panics)
		}
		if strings.ContainsAny(line, "\r\n{") {
			return
		}
		_, out, _ := strings.Cut(conn.Output(), "\r\nS OK ")
		_, out, _ = strings.Cut(out, "\r\n")
		if !statusLine.MatchString(out) {
			t.Fatalf("no answer to %q; server said %q", line, out)
		}
	})
}
