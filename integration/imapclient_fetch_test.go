package integration

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// wantStructure is the BODYSTRUCTURE of each demo message, in bsString's
// notation, worked out by hand from the .eml files.
var wantStructure = []string{
	`text/plain(charset=us-ascii) 7bit 143 L6`,
	`multipart/alternative(boundary=alt-2)[text/plain(charset=UTF-8) quoted-printable 62 L1, text/html(charset=UTF-8) quoted-printable 76 L1]`,
	`multipart/mixed(boundary=mix-3)[text/plain(charset=us-ascii) 7bit 25 L1 disp=inline(), application/pdf(name=report.pdf) base64 132 disp=attachment(filename=report.pdf)]`,
	`multipart/mixed(boundary=fwd-4)[text/plain(charset=us-ascii) 7bit 29 L1, message/rfc822() 7bit 263 {Meeting notes: text/plain(charset=us-ascii) 7bit 40 L2} L10]`,
	`text/plain(charset=UTF-8) 8bit 54 L1`,
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.RFC1123Z, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIMAPClientFetch covers SELECT, EXAMINE and FETCH of every item.
func TestIMAPClientFetch(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)

	t.Run("Examine", func(t *testing.T) {
		d := selectMailbox(t, c, "INBOX", true)
		if d.NumMessages != 5 || d.UIDNext != 6 || d.UIDValidity == 0 {
			t.Errorf("EXAMINE INBOX = %d messages, UIDNEXT %d, UIDVALIDITY %d; want 5, 6, non-zero", d.NumMessages, d.UIDNext, d.UIDValidity)
		}
		for _, f := range []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft} {
			if !slices.Contains(d.Flags, f) {
				t.Errorf("EXAMINE INBOX FLAGS = %v, missing %s", d.Flags, f)
			}
		}
		// BODY[] in a read-only mailbox does not set \Seen (RFC 3501 §6.3.2).
		msgs := fetch(t, c, imap.SeqSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}})
		if len(msgs) != 1 || string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})) != string(demoMessages[1]) {
			t.Fatalf("BODY[] of 2 in EXAMINE differs from 02-alternative.eml")
		}
		if got := flagsOf(t, c)[2]; got != "" {
			t.Errorf("flags of 2 after BODY[] under EXAMINE = %q, want none", got)
		}
		if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err == nil {
			t.Error("STORE under EXAMINE succeeded, want NO")
		}
	})

	// A failed SELECT leaves no mailbox selected (RFC 3501 §6.3.1).
	// imapclient keeps its own state on failure, so ask the server on a
	// raw connection.
	raw := dialRaw(t, s.IMAP, true)
	raw.mustOK("EXAMINE INBOX")
	if _, st := raw.cmd("SELECT Nonexistent"); !strings.HasPrefix(st, "NO") {
		t.Errorf("SELECT Nonexistent = %q, want NO", st)
	}
	if _, st := raw.cmd("FETCH 1 FLAGS"); !strings.HasPrefix(st, "BAD") {
		t.Errorf("FETCH after a failed SELECT = %q, want BAD (no mailbox selected)", st)
	}
	d := selectMailbox(t, c, "INBOX", false)
	if d.NumMessages != 5 || d.UIDNext != 6 {
		t.Errorf("SELECT INBOX = %d messages, UIDNEXT %d; want 5, 6", d.NumMessages, d.UIDNext)
	}
	// imapclient does not report [UNSEEN n]: read the raw lines.
	u := raw.mustOK("EXAMINE INBOX")
	for _, want := range []string{"* 5 EXISTS", "* OK [UNSEEN 2]", "* OK [UIDNEXT 6]", "* OK [UIDVALIDITY "} {
		if !slices.ContainsFunc(u, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("EXAMINE INBOX untagged = %q, want a line starting %q", u, want)
		}
	}
	if !slices.Contains(d.PermanentFlags, imap.FlagFlagged) || !slices.Contains(d.PermanentFlags, imap.FlagWildcard) {
		t.Errorf("SELECT INBOX PERMANENTFLAGS = %v, want the system flags and \\*", d.PermanentFlags)
	}

	t.Run("Attributes", func(t *testing.T) {
		msgs := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
			Flags: true, InternalDate: true, RFC822Size: true, UID: true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		})
		if len(msgs) != 5 {
			t.Fatalf("FETCH 1:* returned %d messages, want 5", len(msgs))
		}
		var prev time.Time
		for i, m := range msgs {
			if m.SeqNum != uint32(i+1) || m.UID != imap.UID(i+1) {
				t.Errorf("message %d: seq %d UID %d, want %d %d", i+1, m.SeqNum, m.UID, i+1, i+1)
			}
			if m.RFC822Size != int64(len(demoMessages[i])) {
				t.Errorf("RFC822.SIZE of %d = %d, want %d", i+1, m.RFC822Size, len(demoMessages[i]))
			}
			wantFlags := ""
			if i == 0 {
				wantFlags = `\Seen`
			}
			if got := flagString(m.Flags); got != wantFlags {
				t.Errorf("FLAGS of %d = %q, want %q", i+1, got, wantFlags)
			}
			// The demo delivers an hour apart, ending before now.
			if m.InternalDate.IsZero() || !m.InternalDate.Before(time.Now().Add(time.Minute)) || (i > 0 && m.InternalDate.Sub(prev) != time.Hour) {
				t.Errorf("INTERNALDATE of %d = %v (previous %v), want an hour after the previous one", i+1, m.InternalDate, prev)
			}
			prev = m.InternalDate
			if got := bsString(m.BodyStructure); got != wantStructure[i] {
				t.Errorf("BODYSTRUCTURE of %d =\n\t%s\nwant\n\t%s", i+1, got, wantStructure[i])
			}
		}
		// BODY (the non-extensible form) has the same shape.
		msgs = fetch(t, c, imap.SeqSetNum(4), &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{}})
		if got := bsString(msgs[0].BodyStructure); len(msgs) != 1 || got != `multipart/mixed()[text/plain(charset=us-ascii) 7bit 29 L1, message/rfc822() 7bit 263 {Meeting notes: text/plain(charset=us-ascii) 7bit 40 L2} L10]` {
			t.Errorf("BODY of 4 = %s", got)
		}
	})

	t.Run("Envelope", func(t *testing.T) {
		msgs := fetch(t, c, imap.SeqSetNum(1, 2, 4), &imap.FetchOptions{Envelope: true})
		alice := []imap.Address{{Name: "Alice Example", Mailbox: "alice", Host: "example.org"}}
		bjorn := []imap.Address{{Name: "Björn Bob", Mailbox: "bob", Host: "example.net"}}
		carol := []imap.Address{{Name: "Carol", Mailbox: "carol", Host: "example.com"}}
		want := []imap.Envelope{{
			Date:    mustDate(t, "Mon, 23 Nov 2026 09:15:00 +0000"),
			Subject: "Welcome to Postern",
			From:    alice, Sender: alice, ReplyTo: alice,
			To:        []imap.Address{{Name: "Demo User", Mailbox: "demo", Host: "localhost"}},
			MessageID: "welcome-1@example.org",
		}, {
			Date:    mustDate(t, "Mon, 23 Nov 2026 10:30:40 +0100"),
			Subject: "Café menu for Friday",
			From:    bjorn, Sender: bjorn, ReplyTo: bjorn,
			To:        []imap.Address{{Mailbox: "demo", Host: "localhost"}, carol[0]},
			Cc:        []imap.Address{{Mailbox: "dave", Host: "example.com"}},
			MessageID: "cafe-2@example.net",
		}, {
			Date:    mustDate(t, "Wed, 25 Nov 2026 08:00:00 -0500"),
			Subject: "Fwd: Meeting notes",
			From:    carol, Sender: carol, ReplyTo: carol,
			To:        []imap.Address{{Mailbox: "demo", Host: "localhost"}},
			MessageID: "fwd-4@example.com",
		}}
		if len(msgs) != 3 {
			t.Fatalf("FETCH 1,2,4 ENVELOPE returned %d messages", len(msgs))
		}
		for i, m := range msgs {
			got, w := *m.Envelope, want[i]
			if !got.Date.Equal(w.Date) {
				t.Errorf("ENVELOPE date of %d = %v, want %v", m.SeqNum, got.Date, w.Date)
			}
			got.Date, w.Date = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("ENVELOPE of %d =\n\t%+v\nwant\n\t%+v", m.SeqNum, got, w)
			}
		}
	})

	t.Run("Sections", func(t *testing.T) {
		m1, m2, m3, m4 := demoMessages[0], demoMessages[1], demoMessages[2], demoMessages[3]
		tests := []struct {
			seq     uint32
			section imap.FetchItemBodySection
			want    string
		}{
			{1, imap.FetchItemBodySection{}, string(m1)},
			{2, imap.FetchItemBodySection{}, string(m2)},
			{3, imap.FetchItemBodySection{}, string(m3)},
			{4, imap.FetchItemBodySection{}, string(m4)},
			{5, imap.FetchItemBodySection{}, string(demoMessages[4])},
			{1, imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader}, string(headerOf(m1))},
			{1, imap.FetchItemBodySection{Specifier: imap.PartSpecifierText}, string(bodyOf(m1))},
			{1, imap.FetchItemBodySection{Part: []int{1}}, string(bodyOf(m1))},
			{1, imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}}, "Subject: Welcome to Postern\r\n\r\n"},
			{1, imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"subject", "FROM", "X-Missing"}}, "From: Alice Example <alice@example.org>\r\nSubject: Welcome to Postern\r\n\r\n"},
			{1, imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"Date", "From", "To", "Message-ID", "MIME-Version", "Content-Type"}}, "Subject: Welcome to Postern\r\n\r\n"},
			{2, imap.FetchItemBodySection{Part: []int{1}, Specifier: imap.PartSpecifierMIME}, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"},
			{2, imap.FetchItemBodySection{Part: []int{1}}, "Caf=C3=A9 au lait and cr=C3=A8me br=C3=BBl=C3=A9e on Friday.\r\n"},
			{2, imap.FetchItemBodySection{Part: []int{2}, Partial: &imap.SectionPartial{Offset: 0, Size: 10}}, "<p>Caf=C3="},
			{3, imap.FetchItemBodySection{Part: []int{2}, Partial: &imap.SectionPartial{Offset: 0, Size: 10}}, "JVBERi0xLj"},
			{3, imap.FetchItemBodySection{Part: []int{2}, Partial: &imap.SectionPartial{Offset: 120, Size: 100}}, "UlRU9GCg==\r\n"},
			{3, imap.FetchItemBodySection{Partial: &imap.SectionPartial{Offset: 630, Size: 100}}, string(m3[630:])},
			{3, imap.FetchItemBodySection{Partial: &imap.SectionPartial{Offset: 700, Size: 10}}, ""},
			{3, imap.FetchItemBodySection{Part: []int{1}}, "The report is attached.\r\n"},
			{4, imap.FetchItemBodySection{Part: []int{2}, Specifier: imap.PartSpecifierHeader}, "Date: Tue, 24 Nov 2026 08:00:00 -0500\r\nFrom: Eve <eve@example.org>\r\nTo: Carol <carol@example.com>\r\nSubject: Meeting notes\r\nMessage-ID: <notes-0@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"},
			{4, imap.FetchItemBodySection{Part: []int{2}, Specifier: imap.PartSpecifierText}, "1. Ship the demo.\r\n2. Write the tests.\r\n"},
			{4, imap.FetchItemBodySection{Part: []int{2, 1}}, "1. Ship the demo.\r\n2. Write the tests.\r\n"},
			{4, imap.FetchItemBodySection{Part: []int{2}, Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}}, "Subject: Meeting notes\r\n\r\n"},
		}
		for _, tc := range tests {
			sec := tc.section
			sec.Peek = true
			msgs := fetch(t, c, imap.SeqSetNum(tc.seq), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{&sec}})
			if len(msgs) != 1 {
				t.Errorf("FETCH %d %+v: %d messages, want 1", tc.seq, tc.section, len(msgs))
				continue
			}
			got := msgs[0].FindBodySection(&sec)
			if string(got) != tc.want {
				t.Errorf("FETCH %d BODY.PEEK%s = %q, want %q", tc.seq, sectionName(&tc.section), got, tc.want)
			}
		}
		// None of those set \Seen.
		if got, want := flagsOf(t, c), map[uint32]string{1: `\Seen`, 2: "", 3: "", 4: "", 5: ""}; !reflect.DeepEqual(got, want) {
			t.Errorf("flags after BODY.PEEK = %v, want %v", got, want)
		}
	})

	t.Run("BodySetsSeen", func(t *testing.T) {
		msgs := fetch(t, c, imap.SeqSetNum(3), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Part: []int{1}}}})
		if len(msgs) != 1 || string(msgs[0].FindBodySection(&imap.FetchItemBodySection{Part: []int{1}})) != "The report is attached.\r\n" {
			t.Fatalf("FETCH 3 BODY[1] = %+v", msgs)
		}
		// RFC 3501 §6.4.5: the FETCH response includes the new FLAGS.
		if got := flagString(msgs[0].Flags); got != `\Seen` {
			t.Errorf("FLAGS in the FETCH 3 BODY[1] response = %q, want \\Seen", got)
		}
		if got, want := flagsOf(t, c), map[uint32]string{1: `\Seen`, 2: "", 3: `\Seen`, 4: "", 5: ""}; !reflect.DeepEqual(got, want) {
			t.Errorf("flags after BODY[1] = %v, want %v", got, want)
		}
	})

	t.Run("UIDFetch", func(t *testing.T) {
		msgs, err := c.Fetch(imap.UIDSet{{Start: 4, Stop: 0}}, &imap.FetchOptions{RFC822Size: true}).Collect()
		if err != nil {
			t.Fatalf("UID FETCH 4:* RFC822.SIZE: %v", err)
		}
		if len(msgs) != 2 || msgs[0].UID != 4 || msgs[1].UID != 5 || msgs[0].RFC822Size != 627 || msgs[1].RFC822Size != 366 {
			t.Errorf("UID FETCH 4:* = %+v, want UIDs 4 and 5 with sizes 627 and 366", msgs)
		}
		// A UID range past the end returns nothing, without error.
		msgs, err = c.Fetch(imap.UIDSetNum(99), &imap.FetchOptions{Flags: true}).Collect()
		if err != nil || len(msgs) != 0 {
			t.Errorf("UID FETCH 99 = %v, %v; want no messages and OK", msgs, err)
		}
		// A sequence number past the end is an error (RFC 3501 §6.4.5).
		if _, err := c.Fetch(imap.SeqSetNum(9), &imap.FetchOptions{Flags: true}).Collect(); err == nil {
			t.Error("FETCH 9 in a 5-message mailbox succeeded, want BAD or NO")
		}
	})
}

func sectionName(s *imap.FetchItemBodySection) string {
	b := "["
	for i, p := range s.Part {
		if i > 0 {
			b += "."
		}
		b += strconv.Itoa(p)
	}
	if s.Specifier != "" {
		if len(s.Part) > 0 {
			b += "."
		}
		b += string(s.Specifier)
	}
	if s.HeaderFields != nil {
		b += ".FIELDS " + fmtList(s.HeaderFields)
	}
	if s.HeaderFieldsNot != nil {
		b += ".FIELDS.NOT " + fmtList(s.HeaderFieldsNot)
	}
	b += "]"
	if s.Partial != nil {
		b += "<" + itoa(s.Partial.Offset) + "." + itoa(s.Partial.Size) + ">"
	}
	return b
}

func fmtList(l []string) string {
	s := "("
	for i, x := range l {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + ")"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
