package message

import (
	"reflect"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	gs := func(name string) Address { return Address{GroupStart: true, Mailbox: name} }
	ge := Address{GroupEnd: true}
	tests := []struct {
		in   string
		want []Address
	}{
		{"", nil},
		{"alice@example.org", []Address{{Mailbox: "alice", Host: "example.org"}}},
		{"Alice Example <alice@example.org>", []Address{{Name: "Alice Example", Mailbox: "alice", Host: "example.org"}}},
		{`"Doe, John" <john@x.com>`, []Address{{Name: "Doe, John", Mailbox: "john", Host: "x.com"}}},
		{`"Quote \"q\" \\ b" <q@x>`, []Address{{Name: `Quote "q" \ b`, Mailbox: "q", Host: "x"}}},
		{"alice@example.org (Alice Cooper)", []Address{{Name: "Alice Cooper", Mailbox: "alice", Host: "example.org"}}},
		{"(comment first) bob@x", []Address{{Name: "comment first", Mailbox: "bob", Host: "x"}}},
		{"Bob <bob@x> (ignored: name given)", []Address{{Name: "Bob", Mailbox: "bob", Host: "x"}}},
		{"<bob@x> (Bob)", []Address{{Name: "Bob", Mailbox: "bob", Host: "x"}}},
		{"a@x, b@y,,c@z", []Address{{Mailbox: "a", Host: "x"}, {Mailbox: "b", Host: "y"}, {Mailbox: "c", Host: "z"}}},
		{"undisclosed-recipients:;", []Address{gs("undisclosed-recipients"), ge}},
		{"undisclosed-recipients: ;", []Address{gs("undisclosed-recipients"), ge}},
		{"Team: a@x, B <b@y>; c@z", []Address{gs("Team"), {Mailbox: "a", Host: "x"}, {Name: "B", Mailbox: "b", Host: "y"}, ge, {Mailbox: "c", Host: "z"}}},
		{"Unclosed: a@x", []Address{gs("Unclosed"), {Mailbox: "a", Host: "x"}, ge}},
		{"<@r1,@r2:user@host>", []Address{{Route: "@r1,@r2", Mailbox: "user", Host: "host"}}},
		{"Name <@r1:user@host>", []Address{{Name: "Name", Route: "@r1", Mailbox: "user", Host: "host"}}},
		{"localonly", []Address{{Mailbox: "localonly"}}},
		{"<localonly>", []Address{{Mailbox: "localonly"}}},
		{"<>", nil},
		{"=?UTF-8?Q?Bj=C3=B6rn_Bob?= <bob@example.net>", []Address{{Name: "=?UTF-8?Q?Bj=C3=B6rn_Bob?=", Mailbox: "bob", Host: "example.net"}}},
		{"Jürgen <j@x.de>", []Address{{Name: "Jürgen", Mailbox: "j", Host: "x.de"}}},
		{`"john doe"@example.com`, []Address{{Mailbox: "john doe", Host: "example.com"}}},
		{"user@[192.0.2.1]", []Address{{Mailbox: "user", Host: "[192.0.2.1]"}}},
		{"Unclosed <a@x", []Address{{Name: "Unclosed", Mailbox: "a", Host: "x"}}},
		{"Unclosed <a@x, b@y", []Address{{Name: "Unclosed", Mailbox: "a", Host: "x"}, {Mailbox: "b", Host: "y"}}},
		{"J. Smith <j@x>", []Address{{Name: "J. Smith", Mailbox: "j", Host: "x"}}},
	}
	for _, tt := range tests {
		got := ParseAddressList(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAddressList(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzAddressList(f *testing.F) {
	for _, s := range []string{
		"alice@example.org", `"Doe, John" <john@x.com> (c)`, "undisclosed-recipients:;",
		"Team: a@x, B <b@y>;", "<@r1,@r2:user@host>", "<>", "(unclosed", `"unclosed`, "<a@x",
		"a@[1.2.3.4", ":;:;,,<>@@", "=?utf-8?q?x?= <a@b>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		as := ParseAddressList(s)
		depth := 0
		for _, a := range as {
			switch {
			case a.GroupStart:
				if a.GroupEnd || a.Host != "" || depth != 0 {
					t.Fatalf("ParseAddressList(%q): bad group start %+v in %+v", s, a, as)
				}
				depth++
			case a.GroupEnd:
				if a != (Address{GroupEnd: true}) || depth != 1 {
					t.Fatalf("ParseAddressList(%q): bad group end %+v in %+v", s, a, as)
				}
				depth--
			case a == (Address{}):
				t.Fatalf("ParseAddressList(%q): empty address in %+v", s, as)
			}
		}
		if depth != 0 {
			t.Fatalf("ParseAddressList(%q): unbalanced groups %+v", s, as)
		}
	})
}
