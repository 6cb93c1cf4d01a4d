package sortthread

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/message"
)

var day0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return day0.Add(time.Duration(n) * time.Hour) }

func seqs(ms []Message) string {
	var sb strings.Builder
	for i, m := range ms {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprint(&sb, m.Seq)
	}
	return sb.String()
}

func addrs(s string) []message.Address {
	if s == "" {
		return nil
	}
	return message.ParseAddressList(s)
}

func TestSort(t *testing.T) {
	// Built so that RFC 5256 §3's example "SORT (SUBJECT REVERSE DATE)"
	// answers its "5 3 4 1 2".
	rfc := []Message{
		{Seq: 1, Subject: "b", Date: day(2)},
		{Seq: 2, Subject: "Re: C", Date: day(1)},
		{Seq: 3, Subject: "a", Date: day(3)},
		{Seq: 4, Subject: "[list] A", Date: day(1)},
		{Seq: 5, Date: day(9)}, // no subject: empty, sorts first
	}
	mixed := []Message{
		{Seq: 1, InternalDate: day(5), Size: 300, Date: day(1),
			From: addrs("Zed <alice@example.org>"), To: addrs("bob@example.org"), Cc: addrs("x@y")},
		{Seq: 2, InternalDate: day(3), Size: 100, // no Date: sent date is the internal date
			From: addrs("=?UTF-8?Q?=C3=89mile?= <zoe@example.org>"), To: addrs("undisclosed-recipients:;")},
		{Seq: 3, InternalDate: day(4), Size: 200, Date: day(3),
			From: addrs("\"\" <Bob@Example.org>"), To: addrs("Carol <ALICE@example.org>")},
		{Seq: 4, InternalDate: day(3), Size: 100, Date: day(3),
			From: addrs("Eve <carol@example.org>")},
	}
	tests := []struct {
		name string
		msgs []Message
		keys []Key
		want string
	}{
		{"rfc5256 example", rfc, []Key{{Name: KeySubject}, {Name: KeyDate, Reverse: true}}, "5 3 4 1 2"},
		{"subject", rfc, []Key{{Name: KeySubject}}, "5 3 4 1 2"},
		{"reverse subject keeps seq order for ties", rfc, []Key{{Name: KeySubject, Reverse: true}}, "2 1 3 4 5"},
		{"date", rfc, []Key{{Name: KeyDate}}, "2 4 1 3 5"},
		{"no keys: sequence order", rfc, nil, "1 2 3 4 5"},
		{"arrival", mixed, []Key{{Name: KeyArrival}}, "2 4 3 1"},
		{"reverse arrival", mixed, []Key{{Name: KeyArrival, Reverse: true}}, "1 3 2 4"},
		{"size", mixed, []Key{{Name: KeySize}}, "2 4 3 1"},
		// 2 and 4 have the same size and sent date: REVERSE does not
		// reverse the implicit sequence number key.
		{"size reverse date", mixed, []Key{{Name: KeySize}, {Name: KeyDate, Reverse: true}}, "2 4 3 1"},
		{"date with internal-date fallback", mixed, []Key{{Name: KeyDate}}, "1 2 3 4"},
		// FROM is the addr-mailbox only: alice < Bob < carol < zoe.
		{"from", mixed, []Key{{Name: KeyFrom}}, "1 3 4 2"},
		// TO: "" (absent) < ALICE < bob < group name.
		{"to", mixed, []Key{{Name: KeyTo}}, "4 3 1 2"},
		{"cc", mixed, []Key{{Name: KeyCc}}, "2 3 4 1"},
		// DISPLAYFROM (RFC 5957): Bob@Example.org (empty name) < Eve <
		// Émile (E + U+0301 after V) < Zed.
		{"displayfrom", mixed, []Key{{Name: KeyDisplayFrom}}, "3 4 2 1"},
		{"reverse displayfrom", mixed, []Key{{Name: KeyDisplayFrom, Reverse: true}}, "1 2 4 3"},
		// DISPLAYTO: "" < bob@example.org < Carol < group name.
		{"displayto", mixed, []Key{{Name: KeyDisplayTo}}, "4 1 3 2"},
		{"invalid key ignored", mixed, []Key{{Name: "BOGUS"}}, "1 2 3 4"},
	}
	for _, tt := range tests {
		got := seqs(Sort(tt.msgs, tt.keys))
		if got != tt.want {
			t.Errorf("%s: Sort(%v) = %s, want %s", tt.name, tt.keys, got, tt.want)
		}
	}
}

func TestSortDoesNotModifyInput(t *testing.T) {
	in := []Message{{Seq: 2, Size: 1}, {Seq: 1, Size: 2}}
	Sort(in, []Key{{Name: KeySize, Reverse: true}})
	if got := seqs(in); got != "2 1" {
		t.Errorf("input after Sort = %s, want 2 1", got)
	}
}

func TestDisplayAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Alice <a@x>", "Alice"},
		{"=?ISO-8859-1?Q?Andr=E9?= <a@x>", "André"},
		{"\"\" <a@x>", "a@x"},         // empty name: the address
		{"a@x", "a@x"},                // no name
		{"a@x (Al)", "Al"},            // a comment stands in for the name (message.Address.Name)
		{"<nohost>", "nohost"},        // mailbox only
		{"team: a@x, b@y;", "team"},   // a group: its name is the first addr-mailbox
		{"=?UTF-8?Q??= <a@x>", "a@x"}, // decodes to empty: the address
	}
	for _, tt := range tests {
		if got := DisplayAddress(addrs(tt.in)); got != tt.want {
			t.Errorf("DisplayAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKeyNameValid(t *testing.T) {
	for _, k := range []KeyName{KeyArrival, KeyCc, KeyDate, KeyFrom, KeySize, KeySubject, KeyTo, KeyDisplayFrom, KeyDisplayTo} {
		if !k.Valid() {
			t.Errorf("%s.Valid() = false, want true", k)
		}
	}
	for _, k := range []KeyName{"", "REVERSE", "arrival", "DISPLAY"} {
		if k.Valid() {
			t.Errorf("%q.Valid() = true, want false", k)
		}
	}
}
