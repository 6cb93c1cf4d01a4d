package imapbackend

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// searchCorpus is five messages; the first two are claimed \Recent by
// another session, so messages 3-5 are \Recent for the tested one.
var searchCorpus = []struct {
	msg   string
	flags []string
	date  time.Time
}{
	{"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hello World\r\nDate: Thu, 1 Jan 2026 09:00:00 +0000\r\n\r\nthe quick brown fox\r\n",
		[]string{`\Seen`}, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
	{"From: =?UTF-8?Q?Bj=C3=B6rn?= <bob@example.net>\r\nTo: Carol <carol@example.com>\r\nCc: dave@example.com\r\nSubject: =?UTF-8?Q?Caf=C3=A9?= menu\r\nDate: Sun, 15 Mar 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncr=C3=A8me br=C3=BBl=C3=A9e\r\n",
		[]string{`\Answered`, `\Flagged`}, time.Date(2026, 3, 15, 0, 30, 0, 0, time.UTC)},
	{"From: carol@example.com\r\nBcc: eve@example.org\r\nSubject: attachments\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>The Lazy Dog</p>\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte("a secret phrase\r\n")) + "\r\n--b--\r\n",
		[]string{`\Deleted`, "Work"}, time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)},
	{"From: dave@example.com\r\nSubject: draft\r\nX-Custom: yes\r\nDate: Tue, 30 Jun 2026 23:30:00 -0700\r\n\r\ndraft body\r\n",
		[]string{`\Draft`, "$Label1"}, time.Date(2026, 7, 1, 0, 10, 0, 0, time.UTC)},
	{"From: a@example.org\r\nSubject: message 5\r\n\r\nBody 5.\r\n",
		nil, testTime},
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func crit(f func(c *imap.SearchCriteria)) *imap.SearchCriteria {
	var c imap.SearchCriteria
	f(&c)
	return &c
}

func TestSearch(t *testing.T) {
	size2 := int64(len(searchCorpus[1].msg)) // the largest
	tests := []struct {
		name string
		c    *imap.SearchCriteria
		want []uint32 // sequence numbers
	}{
		{"ALL", &imap.SearchCriteria{}, []uint32{1, 2, 3, 4, 5}},
		{"2:3", crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "2:3")} }), []uint32{2, 3}},
		{"4:*", crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "4:*")} }), []uint32{4, 5}},
		{"7", crit(func(c *imap.SearchCriteria) { c.SeqNum = []imap.NumSet{set(t, "7")} }), nil},
		{"UID 3,5", crit(func(c *imap.SearchCriteria) { c.UID = []imap.NumSet{set(t, "3,5")} }), []uint32{2, 4}},
		{"UID *", crit(func(c *imap.SearchCriteria) { c.UID = []imap.NumSet{set(t, "*")} }), []uint32{5}},
		{"SEEN", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Seen`} }), []uint32{1}},
		{"UNSEEN", crit(func(c *imap.SearchCriteria) { c.NotFlag = []imap.Flag{`\Seen`} }), []uint32{2, 3, 4, 5}},
		{"ANSWERED", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Answered`} }), []uint32{2}},
		{"FLAGGED", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\FLAGGED`} }), []uint32{2}},
		{"DELETED", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Deleted`} }), []uint32{3}},
		{"UNDELETED", crit(func(c *imap.SearchCriteria) { c.NotFlag = []imap.Flag{`\Deleted`} }), []uint32{1, 2, 4, 5}},
		{"DRAFT", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Draft`} }), []uint32{4}},
		{"KEYWORD Work", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{"Work"} }), []uint32{3}},
		{"KEYWORD work", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{"work"} }), []uint32{3}},
		{"UNKEYWORD $Label1", crit(func(c *imap.SearchCriteria) { c.NotFlag = []imap.Flag{"$Label1"} }), []uint32{1, 2, 3, 5}},
		{"RECENT", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Recent`} }), []uint32{3, 4, 5}},
		{"OLD", crit(func(c *imap.SearchCriteria) { c.NotFlag = []imap.Flag{`\Recent`} }), []uint32{1, 2}},
		{"NEW", crit(func(c *imap.SearchCriteria) { c.Flag = []imap.Flag{`\Recent`}; c.NotFlag = []imap.Flag{`\Seen`} }), []uint32{3, 4, 5}},
		{"LARGER", crit(func(c *imap.SearchCriteria) { c.Larger = size2 - 1 }), []uint32{2}},
		{"LARGER size", crit(func(c *imap.SearchCriteria) { c.Larger = size2 }), nil},
		{"SMALLER", crit(func(c *imap.SearchCriteria) { c.Smaller = 60 }), []uint32{5}},
		{"SINCE", crit(func(c *imap.SearchCriteria) { c.Since = day(2026, 3, 15) }), []uint32{2, 3, 4, 5}},
		{"BEFORE", crit(func(c *imap.SearchCriteria) { c.Before = day(2026, 3, 15) }), []uint32{1}},
		{"ON", crit(func(c *imap.SearchCriteria) { c.On = day(2026, 6, 30) }), []uint32{3}},
		{"SENTON", crit(func(c *imap.SearchCriteria) { c.SentOn = day(2026, 6, 30) }), []uint32{4}},
		{"SENTBEFORE", crit(func(c *imap.SearchCriteria) { c.SentBefore = day(2026, 2, 1) }), []uint32{1}},
		{"SENTSINCE", crit(func(c *imap.SearchCriteria) { c.SentSince = day(2026, 3, 1) }), []uint32{2, 4}},
		{"FROM bob", crit(func(c *imap.SearchCriteria) { c.Header = []imap.SearchCriteriaHeaderField{{Key: "From", Value: "bob"}} }), []uint32{2}},
		{"FROM BJÖRN", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "From", Value: "BJÖRN"}}
		}), []uint32{2}},
		{"SUBJECT café", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "café"}}
		}), []uint32{2}},
		{"SUBJECT hello", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "hello"}}
		}), []uint32{1}},
		{"TO carol", crit(func(c *imap.SearchCriteria) { c.Header = []imap.SearchCriteriaHeaderField{{Key: "To", Value: "carol"}} }), []uint32{2}},
		{"CC dave", crit(func(c *imap.SearchCriteria) { c.Header = []imap.SearchCriteriaHeaderField{{Key: "Cc", Value: "dave"}} }), []uint32{2}},
		{"BCC eve", crit(func(c *imap.SearchCriteria) { c.Header = []imap.SearchCriteriaHeaderField{{Key: "Bcc", Value: "eve"}} }), []uint32{3}},
		{"HEADER X-Custom \"\"", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "X-Custom", Value: ""}}
		}), []uint32{4}},
		{"HEADER x-custom YES", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "x-custom", Value: "YES"}}
		}), []uint32{4}},
		{"HEADER x-custom no", crit(func(c *imap.SearchCriteria) {
			c.Header = []imap.SearchCriteriaHeaderField{{Key: "x-custom", Value: "no"}}
		}), nil},
		{"BODY fox", crit(func(c *imap.SearchCriteria) { c.Body = []string{"FOX"} }), []uint32{1}},
		{"BODY crème (QP, UTF-8)", crit(func(c *imap.SearchCriteria) { c.Body = []string{"CRÈME"} }), []uint32{2}},
		{"BODY secret (base64)", crit(func(c *imap.SearchCriteria) { c.Body = []string{"secret phrase"} }), []uint32{3}},
		{"BODY lazy dog (html)", crit(func(c *imap.SearchCriteria) { c.Body = []string{"lazy dog"} }), []uint32{3}},
		{"BODY hello (header only)", crit(func(c *imap.SearchCriteria) { c.Body = []string{"hello"} }), nil},
		{"TEXT hello", crit(func(c *imap.SearchCriteria) { c.Text = []string{"hello world"} }), []uint32{1}},
		{"TEXT café (decoded header)", crit(func(c *imap.SearchCriteria) { c.Text = []string{"CAFÉ"} }), []uint32{2}},
		{"TEXT fox", crit(func(c *imap.SearchCriteria) { c.Text = []string{"fox"} }), []uint32{1}},
		{"NOT SEEN", crit(func(c *imap.SearchCriteria) { c.Not = []imap.SearchCriteria{{Flag: []imap.Flag{`\Seen`}}} }), []uint32{2, 3, 4, 5}},
		{"OR SEEN DELETED", crit(func(c *imap.SearchCriteria) {
			c.Or = [][2]imap.SearchCriteria{{{Flag: []imap.Flag{`\Seen`}}, {Flag: []imap.Flag{`\Deleted`}}}}
		}), []uint32{1, 3}},
		{"NOT OR SEEN FLAGGED", crit(func(c *imap.SearchCriteria) {
			c.Not = []imap.SearchCriteria{{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{`\Seen`}}, {Flag: []imap.Flag{`\Flagged`}}}}}}
		}), []uint32{3, 4, 5}},
		{"UNSEEN OR BODY fox FROM dave", crit(func(c *imap.SearchCriteria) {
			c.NotFlag = []imap.Flag{`\Seen`}
			c.Or = [][2]imap.SearchCriteria{{{Body: []string{"fox"}}, {Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "dave"}}}}}
		}), []uint32{4}},
		{"MODSEQ 1", crit(func(c *imap.SearchCriteria) { c.ModSeq = 1 }), []uint32{1, 2, 3, 4, 5}},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		// A first message expunged, so UIDs are sequence numbers + 1.
		first := appendMsg(t, st, "INBOX", simpleMsg(0))
		pre := login(t, st)
		selectBox(t, pre, "INBOX", false)
		if _, err := pre.sel.mb.Expunge(ctx, []uint32{first}); err != nil {
			t.Fatal(err)
		}
		for i, m := range searchCorpus {
			if _, _, err := st.Append(ctx, "INBOX", strings.NewReader(m.msg), mailstore.AppendOptions{Flags: m.flags, InternalDate: m.date}); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				pre.Poll(ctx, discardUpdates{}, true) // claims 1 and 2
			}
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		for _, tt := range tests {
			got, err := s.Search(ctx, imap.NumKindSeq, tt.c, &imap.SearchOptions{})
			if err != nil {
				t.Errorf("SEARCH %s: %v", tt.name, err)
				continue
			}
			if !reflect.DeepEqual(got.All, tt.want) {
				t.Errorf("SEARCH %s = %v, want %v", tt.name, got.All, tt.want)
			}
			got, err = s.Search(ctx, imap.NumKindUID, tt.c, &imap.SearchOptions{})
			var wantUIDs []uint32
			for _, n := range tt.want {
				wantUIDs = append(wantUIDs, n+1)
			}
			if err != nil || !reflect.DeepEqual(got.All, wantUIDs) {
				t.Errorf("UID SEARCH %s = %v, %v, want %v", tt.name, got, err, wantUIDs)
			}
		}

		// Internal dates compare by day in the server's zone.
		b := newBackend(st, Options{Location: time.FixedZone("UTC-1", -3600)})
		ss, _ := b.NewSession(ctx, testConn)
		ss.Login(ctx, "alice", "secret")
		defer ss.Close()
		ss.Select(ctx, "INBOX", true)
		got, err := ss.Search(ctx, imap.NumKindSeq, crit(func(c *imap.SearchCriteria) { c.On = day(2026, 6, 30) }), &imap.SearchOptions{})
		if err != nil || fmt.Sprint(got.All) != "[3 4]" {
			t.Errorf("SEARCH ON 30-Jun-2026 in UTC-1 = %v, %v, want [3 4]", got, err)
		}
	})
}
