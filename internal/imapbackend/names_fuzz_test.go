package imapbackend

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postern/postern/internal/mailstore"
)

// FuzzCanonicalName checks that the names the IMAP layer accepts from a
// client are the ones the store contract accepts (minus control characters,
// which only this layer refuses) and canonicalise the same way, so a name
// never passes here and fails in a driver, or the reverse; and that newName
// never lets through a wildcard or a trailing delimiter.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"INBOX", "inbox", "InBoX/Sub", "a/b", "a//b", "/a", "a/", "a/../b", ".", "a\tb", "Entwürfe", "\xff", "a*b", "%", "INBOXES", "~user/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := canonicalName(name)
		if !utf8.ValidString(name) {
			return // the wire layer hands over UTF-8 only; the store refuses the rest
		}
		hasCtl := strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f })
		want, serr := mailstore.CanonicalName(name)
		switch {
		case err == nil && serr != nil:
			t.Fatalf("canonicalName(%q) = %q, but the store refuses it: %v", name, got, serr)
		case err == nil && got != want:
			t.Fatalf("canonicalName(%q) = %q, store says %q", name, got, want)
		case err != nil && serr == nil && !hasCtl:
			t.Fatalf("canonicalName(%q) refused (%v), the store accepts it as %q", name, err, want)
		}
		if err == nil {
			if again, err := canonicalName(got); err != nil || again != got {
				t.Fatalf("canonicalName(canonicalName(%q)) = %q, %v", name, again, err)
			}
		}
		if n, err := newName(name); err == nil {
			if strings.ContainsAny(n, "*%") || strings.HasSuffix(n, "/") {
				t.Fatalf("newName(%q) = %q: wildcard or trailing delimiter", name, n)
			}
		}
	})
}
