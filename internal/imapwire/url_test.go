package imapwire

import (
	"math"
	"reflect"
	"testing"

	"github.com/postern/postern/internal/imap"
)

func TestParseMessageURL(t *testing.T) {
	sec := func(spec imap.PartSpecifier, part ...int) *imap.FetchItemBodySection {
		return &imap.FetchItemBodySection{Specifier: spec, Part: part, Peek: true}
	}
	tests := []struct {
		in   string
		want *imap.MessageURL
		user string
	}{
		// RFC 4469 §5's examples.
		{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER",
			&imap.MessageURL{Mailbox: "Drafts", UIDValidity: 385759045, UID: 20, Section: sec(imap.PartSpecifierHeader)}, ""},
		{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME",
			&imap.MessageURL{Mailbox: "Drafts", UIDValidity: 385759045, UID: 20, Section: sec(imap.PartSpecifierMIME, 1)}, ""},
		{"/Drafts;UIDVALIDITY=385759045/;UID=30",
			&imap.MessageURL{Mailbox: "Drafts", UIDValidity: 385759045, UID: 30}, ""},
		{"/INBOX/;UID=5/;SECTION=2.3.text/;PARTIAL=10.20",
			&imap.MessageURL{Mailbox: "INBOX", UID: 5, Section: &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Part: []int{2, 3}, Peek: true,
				Partial: &imap.SectionPartial{Offset: 10, Size: 20}}}, ""},
		{"/INBOX/;UID=5/;PARTIAL=10",
			&imap.MessageURL{Mailbox: "INBOX", UID: 5, Section: &imap.FetchItemBodySection{Peek: true,
				Partial: &imap.SectionPartial{Offset: 10, Size: math.MaxInt64}}}, ""},
		{"imap://fred@example.com/Entw%26APw-rfe%2F2026/;UID=1",
			&imap.MessageURL{Mailbox: "Entwürfe/2026", UID: 1}, "fred"},
		{"IMAP://joe;AUTH=*@host:143/a%20b;uidvalidity=7/;uid=9",
			&imap.MessageURL{Mailbox: "a b", UIDValidity: 7, UID: 9}, "joe"},
		{"/Entw%C3%BCrfe/;UID=1", &imap.MessageURL{Mailbox: "Entwürfe", UID: 1}, ""}, // UTF-8, leniently
	}
	for _, tt := range tests {
		got, user, err := ParseMessageURL(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) || user != tt.user {
			t.Errorf("ParseMessageURL(%q) = %+v, %q, %v; want %+v, %q", tt.in, got, user, err, tt.want, tt.user)
		}
	}
	for _, in := range []string{"", "/", "INBOX/;UID=1", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=x", "/;UID=1",
		"/INBOX;UIDVALIDITY=/;UID=1", "/INBOX;FOO=1/;UID=1", "/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(To)",
		"/INBOX/;UID=1/;SECTION=MIME", "/INBOX/;UID=1/;SECTION=1..2", "/INBOX/;UID=1/;PARTIAL=1.0", "/IN%2/;UID=1",
		"/INBOX/;UID=1/;SECTION=1/;SECTION=2", "/INBOX/;UID=1/x", "imap://host", "/IN%00BOX/;UID=1", "/%FF/;UID=1",
		"/INBOX/;UID=1/;PARTIAL=1/;PARTIAL=2"} {
		if got, _, err := ParseMessageURL(in); err == nil {
			t.Errorf("ParseMessageURL(%q) = %+v, want an error", in, got)
		}
	}
}

// FuzzParseMessageURL checks that ParseMessageURL never panics and that
// what it accepts is usable: a mailbox, a UID, valid part numbers.
func FuzzParseMessageURL(f *testing.F) {
	for _, s := range []string{"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME", "imap://u@h/a/;UID=1/;PARTIAL=0.5",
		"/%41/;uid=1", "/&AOQ-/;UID=2/;SECTION=TEXT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, _, err := ParseMessageURL(s)
		if err != nil {
			return
		}
		if u.Mailbox == "" || u.UID == 0 {
			t.Fatalf("ParseMessageURL(%q) = %+v: empty mailbox or zero UID", s, u)
		}
		if u.Section != nil {
			for _, p := range u.Section.Part {
				if p <= 0 {
					t.Fatalf("ParseMessageURL(%q): part number %d", s, p)
				}
			}
		}
	})
}
