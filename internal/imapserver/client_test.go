package imapserver

import (
	"strings"
	"sync"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestGoIMAPClient drives the server with an independent client
// implementation (go-imap v2's imapclient), which checks our responses with
// its own parser.
func TestGoIMAPClient(t *testing.T) {
	ts := newTestServer(t, nil)
	var mu sync.Mutex
	var expunged []uint32
	c, err := imapclient.DialInsecure(ts.addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Expunge: func(seq uint32) {
				mu.Lock()
				expunged = append(expunged, seq)
				mu.Unlock()
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for _, want := range []goimap.Cap{goimap.CapIMAP4rev1, goimap.CapLiteralPlus, goimap.CapUIDPlus, goimap.CapMove, goimap.CapIdle} {
		if !c.Caps().Has(want) {
			t.Errorf("greeting capabilities lack %s: %v", want, c.Caps())
		}
	}
	if err := c.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("Login with a wrong password succeeded")
	}
	if err := c.Login("alice", "secret").Wait(); err != nil {
		t.Fatalf("Login: %v", err)
	}

	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, b := range boxes {
		names = append(names, b.Mailbox)
	}
	if got, want := strings.Join(names, ","), "Archive,Archive/2026,Entwürfe,INBOX"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}

	st, err := c.Status("INBOX", &goimap.StatusOptions{NumMessages: true, UIDNext: true, NumUnseen: true}).Wait()
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if *st.NumMessages != 3 || st.UIDNext != 5 || *st.NumUnseen != 2 {
		t.Errorf("Status = %+v", st)
	}

	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if sel.NumMessages != 3 || sel.UIDValidity != 1700000000 || sel.UIDNext != 5 {
		t.Errorf("Select = %+v", sel)
	}

	msgs, err := c.Fetch(goimap.SeqSetNum(1, 3), &goimap.FetchOptions{
		UID: true, Flags: true, Envelope: true, BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		RFC822Size: true, InternalDate: true,
		BodySection: []*goimap.FetchItemBodySection{{Specifier: goimap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(msgs) != 2 {
		t.Fatalf("Fetch returned %d messages, want 2", len(msgs))
	}
	if m := msgs[0]; m.UID != 1 || m.Envelope.Subject != "Welcome" || m.Envelope.From[0].Addr() != "alice@example.org" ||
		m.RFC822Size != 190 || string(m.BodySection[0].Bytes) != "Subject: Welcome\r\n\r\n" {
		t.Errorf("message 1 = %+v", m)
	}
	if mp, ok := msgs[1].BodyStructure.(*goimap.BodyStructureMultiPart); !ok || mp.Subtype != "alternative" && mp.Subtype != "ALTERNATIVE" || len(mp.Children) != 2 {
		t.Errorf("message 3 body structure = %#v", msgs[1].BodyStructure)
	}

	data, err := c.Search(&goimap.SearchCriteria{
		Header: []goimap.SearchCriteriaHeaderField{{Key: "From", Value: "carol"}},
	}, nil).Wait()
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got := data.AllSeqNums(); len(got) != 1 || got[0] != 3 {
		t.Errorf("Search = %v, want [3]", got)
	}

	if _, err := c.Store(goimap.SeqSetNum(2), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagDeleted}, Silent: true}, nil).Collect(); err != nil {
		t.Fatalf("Store: %v", err)
	}
	if seqs, err := c.Expunge().Collect(); err != nil || len(seqs) != 1 || seqs[0] != 2 {
		t.Fatalf("Expunge = %v, %v; want [2]", seqs, err)
	}

	body := "Subject: appended\r\n\r\nHi.\r\n"
	ac := c.Append("INBOX", int64(len(body)), &goimap.AppendOptions{Flags: []goimap.Flag{goimap.FlagSeen}})
	ac.Write([]byte(body))
	ac.Close()
	ad, err := ac.Wait()
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if ad.UID != 5 || ad.UIDValidity != 1700000000 {
		t.Errorf("Append = %+v", ad)
	}

	md, err := c.Move(goimap.SeqSetNum(1), "Archive").Wait()
	if err != nil {
		t.Fatalf("Move: %v", err)
	}
	if md.UIDValidity != 1700000001 {
		t.Errorf("Move = %+v", md)
	}

	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("Idle: %v", err)
	}
	if err := idle.Close(); err != nil {
		t.Fatalf("Idle close: %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("Idle wait: %v", err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// EXPUNGE's own responses go to the Expunge command; MOVE's arrive
	// as unilateral data.
	if len(expunged) != 1 || expunged[0] != 1 {
		t.Errorf("unilateral EXPUNGE responses %v, want [1]", expunged)
	}
}
