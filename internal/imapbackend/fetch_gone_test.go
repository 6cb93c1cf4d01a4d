package imapbackend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// goneStore is a store in which another process expunges message gone
// between the index read (Info, with the cached structure) and the read
// of its bytes (OpenMessage).
type goneStore struct {
	mailstore.Store
	gone uint32
}

func (s *goneStore) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	mb, err := s.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return goneMailbox{mb, s}, nil
}

type goneMailbox struct {
	mailstore.Mailbox
	s *goneStore
}

func (m goneMailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	if uid == m.s.gone {
		return nil, fmt.Errorf("test: UID %d: %w", uid, mailstore.ErrNotExist)
	}
	return m.Mailbox.OpenMessage(ctx, uid)
}

// TestFetchGoneAfterCache: a message whose structure is cached but whose
// bytes are gone when the body is read (expunged by another process in
// between) is skipped like any message expunged meanwhile, with no half
// FETCH response, and the command ends OK [EXPUNGEISSUED] (RFC 5530 §3,
// RFC 2180 §4.1). It used to fail with [SERVERBUG] after starting the
// response (found by integration/stress_test.go).
func TestFetchGoneAfterCache(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1))
		appendMsg(t, st, "INBOX", simpleMsg(2))
		gs := &goneStore{Store: st}
		s := login(t, gs)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		// The structures are parsed and cached.
		if err := s.Fetch(ctx, fr, imap.NumKindSeq, set(t, "1:2"), &imap.FetchOptions{BodyStructure: true}); err != nil {
			t.Fatal(err)
		}
		fr.take()
		gs.gone = 2
		opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{
			{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true},
			{Peek: true},
		}}
		if err := s.Fetch(ctx, fr, imap.NumKindUID, set(t, "1:2"), opts); err != expungeIssued {
			t.Fatalf("Fetch of a message gone after its structure was read = %v, want OK [EXPUNGEISSUED]", err)
		}
		got := fr.take()
		if strings.Contains(got, "* 2 FETCH") || !strings.HasPrefix(got, "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject)] ") {
			t.Errorf("Fetch wrote %q, want message 1 only", got)
		}
	})
}
