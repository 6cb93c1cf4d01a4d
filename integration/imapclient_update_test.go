package integration

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPClientSearch covers SEARCH and UID SEARCH with many keys.
func TestIMAPClientSearch(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	selectMailbox(t, c, "INBOX", false)
	// Flag 2 and 4, answer 4, so flag keys have something to find.
	if err := c.Store(imap.SeqSetNum(2, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close(); err != nil {
		t.Fatal(err)
	}

	day := func(d int) time.Time {
		y, m, dd := time.Now().Date()
		return time.Date(y, m, dd+d, 0, 0, 0, 0, time.UTC)
	}
	hdr := func(k, v string) []imap.SearchCriteriaHeaderField {
		return []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}
	}
	tests := []struct {
		name string
		crit imap.SearchCriteria
		want []uint32
	}{
		{"ALL", imap.SearchCriteria{}, []uint32{1, 2, 3, 4, 5}},
		{"SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{1}},
		{"UNSEEN", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{2, 3, 4, 5}},
		{"FLAGGED", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, []uint32{2, 4}},
		{"FLAGGED ANSWERED", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged, imap.FlagAnswered}}, []uint32{4}},
		{"NOT FLAGGED", imap.SearchCriteria{Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagFlagged}}}}, []uint32{1, 3, 5}},
		{"OR SEEN ANSWERED", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagSeen}}, {Flag: []imap.Flag{imap.FlagAnswered}}}}}, []uint32{1, 4}},
		{"HEADER Subject Caf", imap.SearchCriteria{Header: hdr("Subject", "Caf")}, []uint32{2}},
		{"HEADER Message-ID report-3", imap.SearchCriteria{Header: hdr("Message-ID", "report-3")}, []uint32{3}},
		{"HEADER From alice (case-insensitive)", imap.SearchCriteria{Header: hdr("From", "ALICE")}, []uint32{1}},
		{"HEADER X-Missing empty", imap.SearchCriteria{Header: hdr("X-Missing", "")}, nil},
		{"HEADER Cc empty (field present)", imap.SearchCriteria{Header: hdr("Cc", "")}, []uint32{2}},
		{"SUBJECT decoded Café", imap.SearchCriteria{Header: hdr("Subject", "Café")}, []uint32{2}},
		{"FROM decoded Björn", imap.SearchCriteria{Header: hdr("From", "Björn")}, []uint32{2}},
		{"SUBJECT decoded Übersicht", imap.SearchCriteria{Header: hdr("Subject", "übersicht")}, []uint32{5}},
		{"TO carol", imap.SearchCriteria{Header: hdr("To", "carol@example.com")}, []uint32{2}},
		{"BODY attached", imap.SearchCriteria{Body: []string{"attached"}}, []uint32{3}},
		{"BODY Zürich (8bit UTF-8)", imap.SearchCriteria{Body: []string{"Zürich"}}, []uint32{5}},
		{"BODY Привет", imap.SearchCriteria{Body: []string{"привет"}}, []uint32{5}},
		{"BODY crème (quoted-printable)", imap.SearchCriteria{Body: []string{"crème"}}, []uint32{2}},
		{"BODY Subject text is not body", imap.SearchCriteria{Body: []string{"Welcome"}}, nil},
		{"BODY Ship the demo (inside message/rfc822)", imap.SearchCriteria{Body: []string{"Ship the demo"}}, []uint32{4}},
		{"TEXT Grüße", imap.SearchCriteria{Text: []string{"Grüße"}}, []uint32{5}},
		{"TEXT Welcome (header)", imap.SearchCriteria{Text: []string{"welcome"}}, []uint32{1}},
		{"TEXT example.com", imap.SearchCriteria{Text: []string{"example.com"}}, []uint32{2, 3, 4}},
		{"LARGER 700", imap.SearchCriteria{Larger: 700}, []uint32{2}},
		{"SMALLER 370", imap.SearchCriteria{Smaller: 370}, []uint32{5}},
		{"SINCE two days ago", imap.SearchCriteria{Since: day(-2)}, []uint32{1, 2, 3, 4, 5}},
		{"SINCE in two days", imap.SearchCriteria{Since: day(2)}, nil},
		{"BEFORE in two days", imap.SearchCriteria{Before: day(2)}, []uint32{1, 2, 3, 4, 5}},
		{"BEFORE two days ago", imap.SearchCriteria{Before: day(-2)}, nil},
		{"SENTBEFORE 24-Nov-2026", imap.SearchCriteria{SentBefore: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}, []uint32{1, 2}},
		{"SENTSINCE 25-Nov-2026", imap.SearchCriteria{SentSince: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}, []uint32{4, 5}},
		{"SEQ 2:4", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 4}}}}, []uint32{2, 3, 4}},
		{"UID 3:*", imap.SearchCriteria{UID: []imap.UIDSet{{{Start: 3, Stop: 0}}}}, []uint32{3, 4, 5}},
		{"UID 2,4 UNSEEN", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 4)}, NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{2, 4}},
		{"NOT OR", imap.SearchCriteria{Not: []imap.SearchCriteria{{Or: [][2]imap.SearchCriteria{{{Larger: 700}, {Smaller: 370}}}}}}, []uint32{1, 3, 4}},
		{"KEYWORD none", imap.SearchCriteria{Flag: []imap.Flag{"$Important"}}, nil},
	}
	for _, tc := range tests {
		if got := searchSeq(t, c, &tc.crit); !slices.Equal(got, tc.want) {
			t.Errorf("SEARCH %s = %v, want %v", tc.name, got, tc.want)
		}
	}

	// UID SEARCH answers UIDs; after an expunge they differ from
	// sequence numbers.
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	d, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, nil).Wait()
	if err != nil {
		t.Fatalf("UID SEARCH FLAGGED: %v", err)
	}
	if got := d.AllUIDs(); !slices.Equal(got, []imap.UID{2, 4}) {
		t.Errorf("UID SEARCH FLAGGED = %v, want [2 4]", got)
	}
	if got := searchSeq(t, c, &imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}); !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("SEARCH FLAGGED after expunging 1 = %v, want [1 3]", got)
	}
	d, err = c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{{Start: 1, Stop: 3}}}}, nil).Wait()
	if err != nil {
		t.Fatalf("UID SEARCH UID 1:3: %v", err)
	}
	if got := d.AllUIDs(); !slices.Equal(got, []imap.UID{2, 3}) {
		t.Errorf("UID SEARCH UID 1:3 after expunging UID 1 = %v, want [2 3]", got)
	}
}

// TestIMAPClientStore covers STORE and UID STORE in all their forms.
func TestIMAPClientStore(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	selectMailbox(t, c, "INBOX", false)

	store := func(set imap.NumSet, op imap.StoreFlagsOp, silent bool, flags ...imap.Flag) []*imapclient.FetchMessageBuffer {
		t.Helper()
		msgs, err := c.Store(set, &imap.StoreFlags{Op: op, Silent: silent, Flags: flags}, nil).Collect()
		if err != nil {
			t.Fatalf("STORE %v %v %v: %v", set, op, flags, err)
		}
		return msgs
	}
	got := store(imap.SeqSetNum(1, 2), imap.StoreFlagsAdd, false, imap.FlagFlagged)
	if len(got) != 2 || flagString(got[0].Flags) != `\Flagged \Seen` || flagString(got[1].Flags) != `\Flagged` {
		t.Errorf("STORE 1:2 +FLAGS (\\Flagged) answered %d messages: %v", len(got), fetchFlags(got))
	}
	got = store(imap.SeqSetNum(1), imap.StoreFlagsDel, false, imap.FlagSeen)
	if len(got) != 1 || flagString(got[0].Flags) != `\Flagged` {
		t.Errorf("STORE 1 -FLAGS (\\Seen) answered %v", fetchFlags(got))
	}
	got = store(imap.SeqSetNum(3), imap.StoreFlagsSet, false, imap.FlagAnswered, "$Label1")
	if len(got) != 1 || flagString(got[0].Flags) != `$Label1 \Answered` {
		t.Errorf("STORE 3 FLAGS (\\Answered $Label1) answered %v", fetchFlags(got))
	}
	if got = store(imap.SeqSetNum(4), imap.StoreFlagsAdd, true, imap.FlagDraft, imap.FlagSeen); len(got) != 0 {
		t.Errorf("STORE 4 +FLAGS.SILENT answered %v, want no FETCH", fetchFlags(got))
	}
	if got = store(imap.SeqSetNum(4), imap.StoreFlagsDel, true, imap.FlagDraft); len(got) != 0 {
		t.Errorf("STORE 4 -FLAGS.SILENT answered %v, want no FETCH", fetchFlags(got))
	}
	if got = store(imap.SeqSetNum(2), imap.StoreFlagsSet, true); len(got) != 0 {
		t.Errorf("STORE 2 FLAGS.SILENT () answered %v, want no FETCH", fetchFlags(got))
	}
	// UID STORE answers with UIDs (RFC 3501 §6.4.8).
	msgs, err := c.Store(imap.UIDSetNum(5), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"$Important"}}, nil).Collect()
	if err != nil {
		t.Fatalf("UID STORE 5: %v", err)
	}
	if len(msgs) != 1 || msgs[0].UID != 5 || msgs[0].SeqNum != 5 || flagString(msgs[0].Flags) != "$Important" {
		t.Errorf("UID STORE 5 +FLAGS ($Important) answered %+v", msgs)
	}
	want := map[uint32]string{1: `\Flagged`, 2: "", 3: `$Label1 \Answered`, 4: `\Seen`, 5: "$Important"}
	if got := flagsOf(t, c); !reflect.DeepEqual(got, want) {
		t.Errorf("flags after STORE = %v, want %v", got, want)
	}
	// The flags are permanent: another session sees them.
	c2 := loginIMAP(t, s.IMAP, nil)
	selectMailbox(t, c2, "INBOX", true)
	if got := flagsOf(t, c2); !reflect.DeepEqual(got, want) {
		t.Errorf("flags seen by a second session = %v, want %v", got, want)
	}
	// The new keywords are in FLAGS and PERMANENTFLAGS of a new SELECT.
	d := selectMailbox(t, c2, "INBOX", false)
	if !slices.Contains(d.Flags, "$Label1") || !slices.Contains(d.Flags, "$Important") {
		t.Errorf("FLAGS after storing keywords = %v, want $Label1 and $Important in it", d.Flags)
	}
}

func fetchFlags(msgs []*imapclient.FetchMessageBuffer) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, flagString(m.Flags))
	}
	return out
}

// TestIMAPClientCopyMoveExpunge covers COPY, MOVE (and their UID forms),
// EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, CHECK and APPEND.
func TestIMAPClientCopyMoveExpunge(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	selectMailbox(t, c, "INBOX", false)
	if !c.Caps().Has(imap.CapMove) {
		t.Fatalf("no MOVE capability after login: imapclient would fall back to COPY")
	}
	peekAll := &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}

	// COPY 1:2 Archive, with COPYUID (RFC 4315).
	cd, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
	if err != nil {
		t.Fatalf("COPY 1:2 Archive: %v", err)
	}
	archive := statusValidity(t, c, "Archive")
	if cd.UIDValidity != archive || cd.SourceUIDs.String() != "1:2" || cd.DestUIDs.String() != "1:2" {
		t.Errorf("COPYUID = %d %s %s, want %d 1:2 1:2", cd.UIDValidity, cd.SourceUIDs, cd.DestUIDs, archive)
	}
	// UID COPY
	cd, err = c.Copy(imap.UIDSetNum(5), "Archive").Wait()
	if err != nil {
		t.Fatalf("UID COPY 5 Archive: %v", err)
	}
	if cd.SourceUIDs.String() != "5" || cd.DestUIDs.String() != "3" {
		t.Errorf("UID COPY COPYUID = %s %s, want 5 3", cd.SourceUIDs, cd.DestUIDs)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Nonexistent").Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Errorf("COPY to a missing mailbox = %v, want NO [TRYCREATE]", err)
	}
	if got, want := statusOf(t, c, "Archive"), "messages=3 uidnext=4 unseen=2"; got != want {
		t.Errorf("STATUS Archive after COPY = %s, want %s", got, want)
	}

	// MOVE 3 Trash: message 3 is expunged from INBOX.
	mv, err := c.Move(imap.SeqSetNum(3), "Trash").Wait()
	if err != nil {
		t.Fatalf("MOVE 3 Trash: %v", err)
	}
	trash := statusValidity(t, c, "Trash")
	if mv.UIDValidity != trash || mv.SourceUIDs.String() != "3" || mv.DestUIDs.String() != "1" {
		t.Errorf("MOVE COPYUID = %d %v %v, want %d 3 1", mv.UIDValidity, mv.SourceUIDs, mv.DestUIDs, trash)
	}
	if n := c.Mailbox().NumMessages; n != 4 {
		t.Errorf("INBOX has %d messages after MOVE, want 4", n)
	}
	// UID MOVE 4 Junk: UID 4 is now sequence number 3.
	if _, err := c.Move(imap.UIDSetNum(4), "Junk").Wait(); err != nil {
		t.Fatalf("UID MOVE 4 Junk: %v", err)
	}
	msgs := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, peekAll)
	if len(msgs) != 3 || msgs[0].UID != 1 || msgs[1].UID != 2 || msgs[2].UID != 5 {
		t.Fatalf("INBOX after MOVE = %d messages %+v, want UIDs 1 2 5", len(msgs), msgs)
	}
	for _, box := range []struct {
		name string
		msg  []byte
	}{{"Trash", demoMessages[2]}, {"Junk", demoMessages[3]}} {
		if got, want := statusOf(t, c, box.name), "messages=1 uidnext=2 unseen=1"; got != want {
			t.Errorf("STATUS %s after MOVE = %s, want %s", box.name, got, want)
		}
	}

	// EXPUNGE: delete 1 and 3 (UIDs 1 and 5); the responses are 3 then 1
	// or 1 then 2, both correct; check the result instead.
	if err := c.Store(imap.SeqSetNum(1, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	expunged, err := c.Expunge().Collect()
	if err != nil {
		t.Fatalf("EXPUNGE: %v", err)
	}
	if !slices.Equal(expunged, []uint32{1, 2}) && !slices.Equal(expunged, []uint32{3, 1}) {
		t.Errorf("EXPUNGE responses = %v, want [1 2] or [3 1]", expunged)
	}
	msgs = fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, peekAll)
	if len(msgs) != 1 || msgs[0].UID != 2 || string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})) != string(demoMessages[1]) {
		t.Fatalf("INBOX after EXPUNGE = %+v, want only UID 2", msgs)
	}

	// UID EXPUNGE only removes the given UIDs (RFC 4315 §2.1).
	selectMailbox(t, c, "Archive", false)
	if err := c.Store(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	expunged, err = c.UIDExpunge(imap.UIDSetNum(2)).Collect()
	if err != nil {
		t.Fatalf("UID EXPUNGE 2: %v", err)
	}
	if !slices.Equal(expunged, []uint32{2}) {
		t.Errorf("UID EXPUNGE 2 responses = %v, want [2]", expunged)
	}
	// UNSELECT leaves the other \Deleted messages in place (RFC 3691).
	if err := c.Unselect().Wait(); err != nil {
		t.Fatalf("UNSELECT: %v", err)
	}
	if st := stateOf(t, c); st != imap.ConnStateAuthenticated {
		t.Errorf("state after UNSELECT = %v, want authenticated", st)
	}
	if got, want := statusOf(t, c, "Archive"), "messages=2 uidnext=4 unseen=1"; got != want {
		t.Errorf("STATUS Archive after UID EXPUNGE and UNSELECT = %s, want %s", got, want)
	}
	// CLOSE expunges them silently (RFC 3501 §6.4.2).
	selectMailbox(t, c, "Archive", false)
	if err := c.UnselectAndExpunge().Wait(); err != nil {
		t.Fatalf("CLOSE: %v", err)
	}
	if got, want := statusOf(t, c, "Archive"), "messages=0 uidnext=4 unseen=0"; got != want {
		t.Errorf("STATUS Archive after CLOSE = %s, want %s", got, want)
	}
	// CLOSE under EXAMINE does not expunge.
	selectMailbox(t, c, "INBOX", false)
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	selectMailbox(t, c, "INBOX", true)
	if err := c.UnselectAndExpunge().Wait(); err != nil {
		t.Fatalf("CLOSE under EXAMINE: %v", err)
	}
	if got, want := statusOf(t, c, "INBOX"), "messages=1 uidnext=6 unseen=1"; got != want {
		t.Errorf("STATUS INBOX after CLOSE under EXAMINE = %s, want %s", got, want)
	}

	// CHECK (not in imapclient): a raw session.
	raw := dialRaw(t, s.IMAP, true)
	raw.mustOK("SELECT INBOX")
	if u, st := raw.cmd("CHECK"); len(u) != 0 || !strings.HasPrefix(st, "OK") {
		t.Errorf("CHECK = %q %q, want a bare OK", u, st)
	}
}

// statusValidity returns a mailbox's UIDVALIDITY.
func statusValidity(t *testing.T, c *imapclient.Client, name string) uint32 {
	t.Helper()
	d, err := c.Status(name, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s (UIDVALIDITY): %v", name, err)
	}
	return d.UIDValidity
}

// TestIMAPClientAppend covers APPEND with flags and date, APPENDUID, and
// reading the message back byte for byte.
func TestIMAPClientAppend(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)

	msg := []byte("From: Demo <demo@localhost>\r\nTo: x@example.org\r\nSubject: Draft über alles\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nEntwurf: schöne Grüße.\r\n")
	date := time.Date(2026, 11, 26, 9, 30, 15, 0, time.FixedZone("", -7*3600))
	validity := statusValidity(t, c, "Drafts")
	for i := range 2 {
		cmd := c.Append("Drafts", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, imap.FlagSeen, "$Work"}, Time: date})
		if _, err := cmd.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		d, err := cmd.Wait()
		if err != nil {
			t.Fatalf("APPEND Drafts: %v", err)
		}
		if d.UID != imap.UID(i+1) || d.UIDValidity != validity {
			t.Errorf("APPENDUID = %d %d, want %d %d", d.UIDValidity, d.UID, validity, i+1)
		}
	}
	// APPEND to a missing mailbox: NO [TRYCREATE].
	cmd := c.Append("Nonexistent", int64(len(msg)), nil)
	cmd.Write(msg)
	cmd.Close()
	if _, err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Errorf("APPEND to a missing mailbox = %v, want NO [TRYCREATE]", err)
	}
	// An empty APPEND without flags or date gets the current time.
	cmd = c.Append("Sent", int64(len(demoMessages[0])), nil)
	cmd.Write(demoMessages[0])
	cmd.Close()
	before := time.Now().Add(-time.Minute)
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND Sent: %v", err)
	}

	selectMailbox(t, c, "Drafts", false)
	msgs := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	if len(msgs) != 2 {
		t.Fatalf("Drafts has %d messages, want 2", len(msgs))
	}
	for i, m := range msgs {
		if m.UID != imap.UID(i+1) || flagString(m.Flags) != `$Work \Draft \Seen` || !m.InternalDate.Equal(date) || m.RFC822Size != int64(len(msg)) {
			t.Errorf("appended message %d: UID %d flags %q date %v size %d; want %d, `$Work \\Draft \\Seen`, %v, %d",
				i+1, m.UID, flagString(m.Flags), m.InternalDate, m.RFC822Size, i+1, date, len(msg))
		}
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); string(got) != string(msg) {
			t.Errorf("appended message %d = %q, want %q", i+1, got, msg)
		}
	}
	if got := searchSeq(t, c, &imap.SearchCriteria{Body: []string{"Grüße"}}); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("SEARCH BODY Grüße in Drafts = %v, want [1 2]", got)
	}
	selectMailbox(t, c, "Sent", true)
	msgs = fetch(t, c, imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(msgs) != 1 || flagString(msgs[0].Flags) != "" || msgs[0].InternalDate.Before(before) || string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})) != string(demoMessages[0]) {
		t.Errorf("appended Sent message = %+v", msgs)
	}
}

// TestIMAPClientIdle checks that an IDLE session hears of a message
// another session appends (RFC 2177).
func TestIMAPClientIdle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	exists := make(chan uint32, 10)
	a := loginIMAP(t, s.IMAP, &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	selectMailbox(t, a, "INBOX", false)
	idle, err := a.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}

	b := loginIMAP(t, s.IMAP6, nil)
	cmd := b.Append("INBOX", int64(len(demoMessages[0])), nil)
	cmd.Write(demoMessages[0])
	cmd.Close()
	if d, err := cmd.Wait(); err != nil || d.UID != 6 {
		t.Fatalf("APPEND INBOX from the second session = %+v, %v; want UID 6", d, err)
	}
	if n := recv(t, exists, "EXISTS during IDLE"); n != 6 {
		t.Errorf("EXISTS during IDLE = %d, want 6", n)
	}
	if err := idle.Close(); err != nil {
		t.Fatalf("DONE: %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE tagged response: %v", err)
	}
	msgs := fetch(t, a, imap.SeqSetNum(6), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(msgs) != 1 || msgs[0].UID != 6 || string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})) != string(demoMessages[0]) {
		t.Errorf("FETCH 6 after IDLE = %+v", msgs)
	}
}

// TestIMAPClientTwoSessions checks that a session sees another session's
// flag change and expunge at its next NOOP (RFC 3501 §7.4.1, §7.3.1).
func TestIMAPClientTwoSessions(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var mu sync.Mutex
	var fetched []string
	fetchCh := make(chan struct{}, 10)
	expungeCh := make(chan uint32, 10)
	a := loginIMAP(t, s.IMAP, &imapclient.UnilateralDataHandler{
		Fetch: func(m *imapclient.FetchMessageData) {
			buf, err := m.Collect()
			mu.Lock()
			if err != nil {
				fetched = append(fetched, "error: "+err.Error())
			} else {
				fetched = append(fetched, strings.TrimSpace(strings.Join([]string{itoa(int64(buf.SeqNum)), flagString(buf.Flags)}, " ")))
			}
			mu.Unlock()
			fetchCh <- struct{}{}
		},
		Expunge: func(seq uint32) { expungeCh <- seq },
	})
	selectMailbox(t, a, "INBOX", false)

	b := loginIMAP(t, s.IMAP, nil)
	selectMailbox(t, b, "INBOX", false)
	if err := b.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Store(imap.SeqSetNum(4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Expunge().Collect(); err != nil || !slices.Equal(got, []uint32{4}) {
		t.Fatalf("EXPUNGE in session B = %v, %v; want [4]", got, err)
	}

	if err := a.Noop().Wait(); err != nil {
		t.Fatalf("NOOP in session A: %v", err)
	}
	if seq := recv(t, expungeCh, "EXPUNGE in session A"); seq != 4 {
		t.Errorf("session A got EXPUNGE %d, want 4", seq)
	}
	recv(t, fetchCh, "FETCH in session A")
	mu.Lock()
	got := slices.Clone(fetched)
	mu.Unlock()
	// The \Deleted flag of 4 may also have been reported before the
	// expunge; the \Flagged of 2 must be.
	if !slices.Contains(got, `2 \Flagged`) {
		// Wait for a possible second FETCH (4 \Deleted came first).
		recv(t, fetchCh, "second FETCH in session A")
		mu.Lock()
		got = slices.Clone(fetched)
		mu.Unlock()
	}
	if !slices.Contains(got, `2 \Flagged`) {
		t.Errorf("session A got FETCH %q, want one for `2 \\Flagged`", got)
	}
	if n := a.Mailbox().NumMessages; n != 4 {
		t.Errorf("session A counts %d messages after NOOP, want 4", n)
	}
	if got, want := flagsOf(t, a), map[uint32]string{1: `\Seen`, 2: `\Flagged`, 3: "", 4: ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("session A flags after NOOP = %v, want %v", got, want)
	}
}
