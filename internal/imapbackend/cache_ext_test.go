package imapbackend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// countStore counts the message files its mailboxes open, to prove what
// is served from the cached structure alone.
type countStore struct {
	mailstore.Store
	opens *atomic.Int64
}

func (s countStore) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	mb, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return countMailbox{mb, s.opens}, nil
}

type countMailbox struct {
	mailstore.Mailbox
	opens *atomic.Int64
}

func (mb countMailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	mb.opens.Add(1)
	return mb.Mailbox.OpenMessage(ctx, uid)
}

// cacheExtMsgs exercise References, In-Reply-To, Message-ID, none of them,
// a folded References, an HTML-only body and quoted-printable text.
var cacheExtMsgs = []string{
	"Message-ID: <root@x>\r\nSubject: root\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nThe   root\r\nmessage.\r\n",
	"Message-ID: <r1@x>\r\nIn-Reply-To: <root@x>\r\nSubject: Re: root\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nFirst reply.\r\n",
	"Message-ID: <r2@x>\r\nReferences: <root@x>\r\n <r1@x>\r\nIn-Reply-To: <r1@x>\r\nSubject: Re: root\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n" +
		"Content-Type: text/html\r\n\r\n<html><head><title>t</title></head><body><p>Second <b>re</b>ply</p></body></html>\r\n",
	"Subject: lone\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 =\r\nau lait\r\n",
	"Message-ID: <m@y>\r\nSubject: mixed\r\nDate: Mon, 23 Nov 2026 13:00:00 +0000\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n--b--\r\n",
}

// fileExt computes the EMAILID, THREADID and PREVIEW of a message from its
// file, independently of the cache: the header bytes hashed here, the
// thread root from the header fields.
func fileExt(t *testing.T, mb mailstore.Mailbox, uid uint32, date int64) string {
	t.Helper()
	r, err := mb.OpenMessage(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	root, err := message.Parse(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	hdr := raw[:root.BodyStart]
	hs := sha256.Sum256(hdr)
	e := sha256.New()
	e.Write(hs[:16])
	e.Write([]byte("\x00" + strconv.FormatInt(int64(len(raw))-root.BodyStart, 10) + "\x00" + strconv.FormatInt(date, 10)))
	emailid := "M" + hex.EncodeToString(e.Sum(nil))[:objectIDLen]
	h := message.ParseHeader(hdr)
	threadid := threadID(h.Get("References"), h.Get("In-Reply-To"), h.Get("Message-ID"), emailid)
	pv, err := preview(bytes.NewReader(raw), root)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("PREVIEW %q EMAILID (%s) THREADID (%s)", pv, emailid, threadid)
}

// TestCachedExtMatchesFile checks that EMAILID, THREADID and PREVIEW
// served from the cached structure equal what the message file gives, and
// that once cached, FETCH of them, SEARCH EMAILID/THREADID and
// THREAD=REFERENCES open no message file.
func TestCachedExtMatchesFile(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, m := range cacheExtMsgs {
			appendMsg(t, st, "INBOX", m)
		}
		var opens atomic.Int64
		s := login(t, countStore{st, &opens})
		selectBox(t, s, "INBOX", false)
		opts := &imap.FetchOptions{Preview: true, EmailID: true, ThreadID: true}
		fetch := func() string {
			fr := &fetchRec{}
			if err := s.Fetch(ctx, fr, imap.NumKindSeq, all, opts); err != nil {
				t.Fatal(err)
			}
			return fr.take()
		}
		first := fetch()
		if opens.Load() == 0 {
			t.Fatalf("first FETCH opened no file: was it cached at APPEND with its preview?")
		}

		mb, err := st.Open(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		defer mb.Close()
		infos, err := mb.Info(ctx, s.sel.uids)
		if err != nil || len(infos) != len(cacheExtMsgs) {
			t.Fatalf("Info = %d, %v", len(infos), err)
		}
		var want []string
		for i, in := range infos {
			want = append(want, fmt.Sprintf("* %d FETCH (%s)", i+1, fileExt(t, mb, in.UID, in.InternalDate.Unix())))
			p, err := message.UnmarshalPart(in.Cache)
			if err != nil || !p.HasPreview {
				t.Errorf("UID %d: cache %v, HasPreview %v after FETCH PREVIEW", in.UID, err, p != nil && p.HasPreview)
			}
		}
		if w := strings.Join(want, "\n"); first != w {
			t.Fatalf("FETCH =\n%s\nwant (from the files)\n%s", first, w)
		}

		opens.Store(0)
		if again := fetch(); again != first {
			t.Errorf("cached FETCH =\n%s\nwant\n%s", again, first)
		}
		threads, err := s.Thread(ctx, imap.NumKindSeq, imap.ThreadReferences, &imap.SearchCriteria{})
		if err != nil {
			t.Fatal(err)
		}
		// (1 2 3)(4)(5), as RFC 5256 REFERENCES links them by
		// In-Reply-To and References.
		wantThreads := []imap.Thread{{Nums: []uint32{1, 2, 3}}, {Nums: []uint32{4}}, {Nums: []uint32{5}}}
		if !reflect.DeepEqual(threads, wantThreads) {
			t.Errorf("THREAD REFERENCES = %+v, want %+v", threads, wantThreads)
		}
		tid := first[strings.Index(first, "THREADID (")+10:]
		tid = tid[:strings.IndexByte(tid, ')')]
		d, err := s.Search(ctx, imap.NumKindSeq, &imap.SearchCriteria{ThreadID: []string{tid}}, &imap.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.All, []uint32{1, 2, 3}) {
			t.Errorf("SEARCH THREADID %s = %v, want [1 2 3]", tid, d.All)
		}
		if n := opens.Load(); n != 0 {
			t.Errorf("cached FETCH, THREAD and SEARCH opened %d message files, want 0", n)
		}
	})
}

// TestOldCacheEntryReparsed checks that a structure cached by an older
// encoding version is parsed again, not misread, and replaced by the
// current encoding.
func TestOldCacheEntryReparsed(t *testing.T) {
	// A valid version-2 encoding of an empty part: version 3 must not
	// read it as one.
	old := []byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		msg := cacheExtMsgs[2]
		uid := appendMsg(t, st, "INBOX", msg)
		mb, err := st.Open(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		defer mb.Close()
		if err := mb.SetCache(ctx, []mailstore.CacheEntry{{UID: uid, Data: old}}); err != nil {
			t.Fatal(err)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		if err := s.Fetch(ctx, fr, imap.NumKindSeq, all, &imap.FetchOptions{RFC822Size: true, Preview: true, EmailID: true, ThreadID: true}); err != nil {
			t.Fatal(err)
		}
		infos, err := mb.Info(ctx, []uint32{uid})
		if err != nil || len(infos) != 1 {
			t.Fatalf("Info = %v, %v", infos, err)
		}
		want := fmt.Sprintf("* 1 FETCH (RFC822.SIZE %d %s)", len(msg), fileExt(t, mb, uid, infos[0].InternalDate.Unix()))
		if got := fr.take(); got != want {
			t.Errorf("FETCH = %s\nwant %s", got, want)
		}
		c := infos[0].Cache
		if len(c) == 0 || c[0] != 3 {
			t.Fatalf("cache entry not replaced: % x", c[:min(len(c), 8)])
		}
		p, err := message.UnmarshalPart(c)
		if err != nil || p.Envelope == nil || p.Envelope.References == "" || !p.HasPreview {
			t.Fatalf("replaced entry = %+v, %v", p, err)
		}
	})
}
