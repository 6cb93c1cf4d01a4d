package imapbackend

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// openCounter wraps a store so that its mailboxes count OpenMessage calls
// and, with noHdrCache, hide mailstore.HeaderCacher (the file-only path).
type openCounter struct {
	mailstore.Store
	opens      *atomic.Int64 // a parallel SEARCH opens from several goroutines
	noHdrCache bool
}

func (s openCounter) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	mb, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &countingMailbox{Mailbox: mb, opens: s.opens}
	if s.noHdrCache {
		return c, nil
	}
	return hdrCachingMailbox{c}, nil
}

type countingMailbox struct {
	mailstore.Mailbox
	opens *atomic.Int64
}

func (m *countingMailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	m.opens.Add(1)
	return m.Mailbox.OpenMessage(ctx, uid)
}

type hdrCachingMailbox struct{ *countingMailbox }

func (m hdrCachingMailbox) HeaderCache(ctx context.Context, uids []uint32) ([]mailstore.CacheEntry, error) {
	return m.Mailbox.(mailstore.HeaderCacher).HeaderCache(ctx, uids)
}

func (m hdrCachingMailbox) SetHeaderCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	return m.Mailbox.(mailstore.HeaderCacher).SetHeaderCache(ctx, entries)
}

// trickyHeaders are messages whose headers test that the header cache
// answers exactly as the file does.
var trickyHeaders = []string{
	// Encoded words, in two charsets, adjacent (the space between dropped).
	"From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\r\nSubject: =?UTF-8?B?w6l0w6k=?= =?UTF-8?Q?_d=C3=A9j=C3=A0?= vu\r\n\r\nbody\r\n",
	// Folded fields, tab and space continuations.
	"Subject: a very\r\n long\r\n\tfolded subject\r\nTo: one@example.org,\r\n two@example.org\r\n\r\nbody\r\n",
	// Several Subject fields: the file path matches any of them.
	"Subject: first subject\r\nX-Foo: 1\r\nSubject: second subject\r\nsubject: third\r\n\r\nbody\r\n",
	// Groups, comments, quoted names.
	"From: carol@example.com (Carol Comment)\r\nTo: friends: alice@example.org, \"Bob (x)\" <bob@example.org>;, undisclosed-recipients:;\r\nCc: \"Doe, John\" <jd@example.net>\r\nBcc: hidden@example.org\r\n\r\nbody\r\n",
	// 8-bit bytes: raw UTF-8, raw Latin-1.
	"Subject: Ünïcödé raw\r\nFrom: \xe9t\xe9 <latin@example.org>\r\n\r\nbody\r\n",
	// A line without a colon, a name with space before its colon, upper
	// case names, an empty field, LF line ends.
	"nocolon line\nSubject : spaced name\nSUBJECT: upper\nX-Empty:\nX-Foo:   padded   \n\nbody\n",
	// A header without a body or a blank line, last line without an end.
	"From: last@example.org\r\nSubject: no end",
	// A To: list too big for an entry: left to the file.
	"Subject: big list\r\nTo: " + strings.Repeat("someone.with.a.long.name@example.org, ", 300) + "end@example.org\r\n\r\nbody\r\n",
	// A leading continuation line.
	" leading continuation\r\nSubject: after it\r\n\r\nbody\r\n",
}

// trickyQueries are header searches over trickyHeaders.
var trickyQueries = []imap.SearchCriteriaHeaderField{
	{Key: "Subject", Value: "déjà"}, {Key: "Subject", Value: "ÉTÉ DÉJÀ VU"}, {Key: "Subject", Value: "été déjà"},
	{Key: "From", Value: "andré"}, {Key: "subject", Value: "long folded"}, {Key: "Subject", Value: "very long"},
	{Key: "Subject", Value: "second"}, {Key: "Subject", Value: "third"}, {Key: "Subject", Value: ""},
	{Key: "To", Value: "two@"}, {Key: "To", Value: "friends"}, {Key: "To", Value: "bob (x)"}, {Key: "To", Value: "undisclosed"},
	{Key: "From", Value: "comment"}, {Key: "Cc", Value: "doe, john"}, {Key: "Bcc", Value: "hidden"}, {Key: "Bcc", Value: ""},
	{Key: "Subject", Value: "ünïcödé"}, {Key: "From", Value: "latin"}, {Key: "From", Value: "\xe9t\xe9"},
	{Key: "Subject", Value: "spaced"}, {Key: "Subject", Value: "UPPER"}, {Key: "X-Empty", Value: ""}, {Key: "x-empty", Value: "x"},
	{Key: "X-Foo", Value: "padded"}, {Key: "X-Foo", Value: "1"}, {Key: "X-Foo", Value: ""}, {Key: "X-Missing", Value: ""},
	{Key: "nocolon line", Value: ""}, {Key: "", Value: ""}, {Key: "", Value: "leading"},
	{Key: "Subject", Value: "no end"}, {Key: "From", Value: "last@"},
	{Key: "To", Value: "end@example.org"}, {Key: "Subject", Value: "big list"}, {Key: "Subject", Value: "after it"},
}

// TestHeaderCacheSameAsFile checks that every header search gives the
// same messages from the file (a store without a header cache), on the
// first SEARCH of a caching store (which fills the cache) and on its
// second (answered from the cache, opening no file but for the fields an
// entry cannot hold).
func TestHeaderCacheSameAsFile(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, m := range trickyHeaders {
			appendMsg(t, st, "INBOX", m)
		}
		var fileOpens, cacheOpens atomic.Int64
		file := login(t, openCounter{Store: st, opens: &fileOpens, noHdrCache: true})
		selectBox(t, file, "INBOX", true)
		cached := login(t, openCounter{Store: st, opens: &cacheOpens})
		selectBox(t, cached, "INBOX", false)
		for _, q := range trickyQueries {
			c := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{q}}
			want, err := file.Search(ctx, imap.NumKindSeq, c, nil)
			if err != nil {
				t.Fatalf("file SEARCH HEADER %q %q: %v", q.Key, q.Value, err)
			}
			for pass := 1; pass <= 2; pass++ {
				cacheOpens.Store(0)
				got, err := cached.Search(ctx, imap.NumKindSeq, c, nil)
				if err != nil || !reflect.DeepEqual(got.All, want.All) {
					t.Errorf("SEARCH HEADER %q %q, pass %d = %v, %v; from the file %v", q.Key, q.Value, pass, got.All, err, want.All)
				}
				// Only the oversized To: and the nameless lines are
				// left to the file.
				wantOpens := 0
				switch asciiLower(q.Key) {
				case "to":
					wantOpens = 1
				case "":
					wantOpens = len(trickyHeaders)
				}
				if n := cacheOpens.Load(); pass == 2 && n != int64(wantOpens) {
					t.Errorf("SEARCH HEADER %q %q, second pass: %d files opened, want %d", q.Key, q.Value, n, wantOpens)
				}
			}
		}
	})
}

// TestHeaderCacheCombined checks header keys beside other keys (flags,
// sizes, BODY, NOT and OR) with a warm cache, against the file path.
func TestHeaderCacheCombined(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i, m := range trickyHeaders {
			uid := appendMsg(t, st, "INBOX", m)
			if i%2 == 0 {
				s := login(t, st)
				selectBox(t, s, "INBOX", false)
				if _, _, err := s.sel.mb.StoreFlags(ctx, []uint32{uid}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		var n atomic.Int64
		file := login(t, openCounter{Store: st, opens: &n, noHdrCache: true})
		selectBox(t, file, "INBOX", true)
		cached := login(t, st)
		selectBox(t, cached, "INBOX", true) // EXAMINE fills the cache too
		subj := imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "subject"}}}
		foo := imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Foo", Value: ""}}}
		cases := []*imap.SearchCriteria{
			{Header: subj.Header, Flag: []imap.Flag{`\Seen`}},
			{Header: subj.Header, Larger: 60},
			{Header: subj.Header, Body: []string{"body"}},
			{Not: []imap.SearchCriteria{subj}},
			{Or: [][2]imap.SearchCriteria{{subj, foo}}},
			{Or: [][2]imap.SearchCriteria{{foo, {Smaller: 100}}}},
			{Not: []imap.SearchCriteria{{Or: [][2]imap.SearchCriteria{{subj, {Flag: []imap.Flag{`\Seen`}}}}}}},
		}
		for i, c := range cases {
			want, err := file.Search(ctx, imap.NumKindUID, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			for pass := 1; pass <= 2; pass++ {
				got, err := cached.Search(ctx, imap.NumKindUID, c, nil)
				if err != nil || !reflect.DeepEqual(got.All, want.All) {
					t.Errorf("case %d, pass %d = %v, %v; from the file %v", i, pass, got.All, err, want.All)
				}
			}
		}
	})
}

// TestHeaderCacheVersion checks that an entry of another version, or a
// damaged one, is read again from the file and replaced, never misread.
func TestHeaderCacheVersion(t *testing.T) {
	ctx := context.Background()
	st := openers[0].open(t)
	uid := appendMsg(t, st, "INBOX", "Subject: real subject\r\n\r\nbody\r\n")
	s := login(t, st)
	selectBox(t, s, "INBOX", false)
	hc := s.sel.mb.(mailstore.HeaderCacher)
	lie := buildHdrEntry(ptr(message.ParseHeader([]byte("Subject: a lie\r\n\r\n"))), []string{"subject"}, nil).data
	for _, bad := range [][]byte{
		append([]byte{hdrCacheVersion + 1}, lie[1:]...), // another version
		lie[:3],                 // cut in the names
		{hdrCacheVersion, 200},  // too many names
		{hdrCacheVersion, 1, 9}, // a name past the end
	} {
		if err := hc.SetHeaderCache(ctx, []mailstore.CacheEntry{{UID: uid, Data: bad}}); err != nil {
			t.Fatal(err)
		}
		c := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "real"}}}
		got, err := s.Search(ctx, imap.NumKindUID, c, nil)
		if err != nil || fmt.Sprint(got.All) != fmt.Sprint([]uint32{uid}) {
			t.Errorf("SEARCH SUBJECT real over entry %q = %v, %v; want [%d]", bad, got, err, uid)
		}
		e, _ := hc.HeaderCache(ctx, []uint32{uid})
		if len(e) != 1 || e[0].Data[0] != hdrCacheVersion || bytes.Contains(e[0].Data, []byte("lie")) {
			t.Errorf("entry after SEARCH = %+v, want rebuilt", e)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzHeaderCache checks that an entry built from any header answers
// HEADER searches on the names it covers exactly as the header does, and
// that decoding any bytes neither panics nor covers what it cannot hold.
func FuzzHeaderCache(f *testing.F) {
	for _, h := range trickyHeaders {
		f.Add([]byte(h), "Subject")
	}
	f.Add([]byte("To: a\r\n b\r\nto: c\r\n\r\n"), "TO")
	f.Add([]byte{hdrCacheVersion, 1, 1, 'a', 'a', ':', 'x'}, "a")
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		if e, ok := decodeHdrEntry(raw); ok {
			_ = e.hdr.Values(key)
			if len(e.names) > maxHdrNames {
				t.Fatalf("decoded %d names", len(e.names))
			}
		}
		p, err := message.Parse(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return
		}
		h := &p.Header
		k := asciiLower(key)
		e := buildHdrEntry(h, []string{k}, nil)
		d, ok := decodeHdrEntry(e.data)
		if !ok || !reflect.DeepEqual(d.names, e.names) {
			t.Fatalf("decode(build) = %v, %v; built %q", d, ok, e.names)
		}
		if !d.covers(k) {
			return
		}
		if got, want := d.hdr.Has(key), h.Has(key); got != want {
			t.Fatalf("Has(%q) = %v from the entry, %v from the header", key, got, want)
		}
		if got, want := d.hdr.Values(key), h.Values(key); !reflect.DeepEqual(got, want) {
			t.Fatalf("Values(%q) = %q from the entry, %q from the header", key, got, want)
		}
	})
}
