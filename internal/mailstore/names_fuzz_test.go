package mailstore

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCanonicalName checks the contract's name rules: an accepted name is
// valid UTF-8 without NUL or an empty, "." or ".." component, and
// canonicalising it again changes nothing.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"INBOX", "inbox/Sub", "a/b/c", "a//b", "../x", "a/./b", "/abs", "x/", "Entwürfe", "\xff", "a\x00b", "~root/x", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		cn, err := CanonicalName(name)
		if err != nil {
			return
		}
		if !utf8.ValidString(cn) || strings.ContainsRune(cn, 0) {
			t.Fatalf("CanonicalName(%q) = %q: not UTF-8 or holds NUL", name, cn)
		}
		for _, p := range strings.Split(cn, "/") {
			if p == "" || p == "." || p == ".." {
				t.Fatalf("CanonicalName(%q) = %q: component %q", name, cn, p)
			}
		}
		if !strings.EqualFold(cn, name) || len(cn) != len(name) {
			t.Fatalf("CanonicalName(%q) = %q: more than INBOX's case changed", name, cn)
		}
		if again, err := CanonicalName(cn); err != nil || again != cn {
			t.Fatalf("CanonicalName(CanonicalName(%q)) = %q, %v; want %q", name, again, err, cn)
		}
	})
}

// FuzzNormalizeFlags checks that NormalizeFlags gives a sorted set without
// \Recent and is idempotent. The input is a space-separated list.
func FuzzNormalizeFlags(f *testing.F) {
	for _, s := range []string{`\Seen \SEEN \recent`, `$Forwarded \Deleted \Answered`, `\Flagged \Draft foo bar foo`, "", "a\x00b", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		in := strings.Split(list, " ")
		out, err := NormalizeFlags(in)
		if err != nil {
			return
		}
		if !slices.IsSorted(out) || len(slices.Compact(slices.Clone(out))) != len(out) {
			t.Fatalf("NormalizeFlags(%q) = %q: not a sorted set", in, out)
		}
		for _, fl := range out {
			if strings.EqualFold(fl, `\Recent`) {
				t.Fatalf("NormalizeFlags(%q) = %q: holds \\Recent", in, out)
			}
		}
		again, err := NormalizeFlags(out)
		if err != nil || !slices.Equal(again, out) {
			t.Fatalf("NormalizeFlags(NormalizeFlags(%q)) = %q, %v; want %q", in, again, err, out)
		}
		// Applying a set to itself is the identity, adding it is too.
		if got := ApplyFlags(out, FlagsAdd, out); !slices.Equal(got, out) {
			t.Fatalf("ApplyFlags(%q, add, itself) = %q", out, got)
		}
		if got := ApplyFlags(out, FlagsRemove, out); len(got) != 0 {
			t.Fatalf("ApplyFlags(%q, remove, itself) = %q", out, got)
		}
	})
}
