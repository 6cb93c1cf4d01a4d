package sortthread

import (
	"slices"
	"testing"
)

func TestMessageIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"<a@b>", []string{"<a@b>"}},
		{"  <a@b>  <c@d>\r\n\t<e@f>", []string{"<a@b>", "<c@d>", "<e@f>"}},
		// RFC 5256 §3 REFERENCES: quoting does not make a different id.
		{`<"01KF8JCEOCBS0045PS"@xxx.yyy.com>`, []string{"<01KF8JCEOCBS0045PS@xxx.yyy.com>"}},
		{`<"a\"b"@x>`, []string{`<a"b@x>`}},
		{"< a @ b >", []string{"<a@b>"}},                                // obs-id CFWS
		{"<a(comment)@b>", []string{"<a@b>"}},                           // comment inside
		{"<a@[1.2.3.4]>", []string{"<a@[1.2.3.4]>"}},                    // no-fold-literal
		{"<a@b> (Joe's message of <x)", []string{"<a@b>"}},              // comment skipped
		{`"Joe <no@id>" <a@b>`, []string{"<a@b>"}},                      // quoted phrase skipped
		{"<Case@Sensitive>", []string{"<Case@Sensitive>"}},              // case kept
		{"<nohost> <@x> <x@> <a@b>", []string{"<a@b>"}},                 // invalid ones skipped
		{"<a@b <c@d>", []string{"<c@d>"}},                               // unclosed: restart at "<"
		{"a@b", nil},                                                    // no brackets
		{"<a@b@c>", []string{"<a@b@c>"}},                                // lenient
		{"message of Mon, 1 Jan 2001 <id@host>", []string{"<id@host>"}}, // In-Reply-To prose
	}
	for _, tt := range tests {
		if got := MessageIDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("MessageIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
