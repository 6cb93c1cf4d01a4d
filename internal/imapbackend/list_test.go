package imapbackend

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// listRec records LIST lines as "name (attrs)".
type listRec struct{ lines []string }

func (l *listRec) WriteList(d *imap.ListData) error {
	attrs := make([]string, len(d.Attrs))
	for i, a := range d.Attrs {
		attrs[i] = string(a)
	}
	l.lines = append(l.lines, fmt.Sprintf("%s (%s)", d.Mailbox, strings.Join(attrs, " ")))
	return nil
}

func TestList(t *testing.T) {
	tests := []struct {
		ref      string
		patterns []string
		want     string
	}{
		{"", []string{"*"}, `Archive (\HasChildren) | Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren) | Archive/2025/Q1 (\HasNoChildren) | INBOX (\HasNoChildren) | Sent (\HasNoChildren \Sent) | Trash (\HasNoChildren \Trash) | work (\HasNoChildren)`},
		{"", []string{"%"}, `Archive (\HasChildren) | INBOX (\HasNoChildren) | Sent (\HasNoChildren \Sent) | Trash (\HasNoChildren \Trash) | work (\HasNoChildren)`},
		{"", []string{"INBOX"}, `INBOX (\HasNoChildren)`},
		{"", []string{"inbox"}, `INBOX (\HasNoChildren)`},
		{"", []string{"InBoX"}, `INBOX (\HasNoChildren)`},
		{"", []string{"Archive/%"}, `Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren)`},
		{"Archive/", []string{"%"}, `Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren)`},
		{"Archive/", []string{"*"}, `Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren) | Archive/2025/Q1 (\HasNoChildren)`},
		{"Archive", []string{"/%"}, ``}, // absolute pattern: no name starts with "/"
		{"Arch", []string{"ive"}, `Archive (\HasChildren)`},
		{"", []string{"*/Q1"}, `Archive/2025/Q1 (\HasNoChildren)`},
		{"", []string{"%/Q1"}, ``},
		{"", []string{"%/%/%"}, `Archive/2025/Q1 (\HasNoChildren)`},
		{"", []string{"A*"}, `Archive (\HasChildren) | Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren) | Archive/2025/Q1 (\HasNoChildren)`},
		{"", []string{"A%"}, `Archive (\HasChildren)`},
		{"", []string{"*2025*"}, `Archive/2025 (\HasChildren) | Archive/2025/Q1 (\HasNoChildren)`},
		{"", []string{"%e%"}, `Archive (\HasChildren) | Sent (\HasNoChildren \Sent)`},
		{"", []string{"nosuch"}, ``},
		{"", []string{"Sent", "Trash"}, `Sent (\HasNoChildren \Sent) | Trash (\HasNoChildren \Trash)`},
		{"", []string{"S*", "*t"}, `Sent (\HasNoChildren \Sent)`},
		{"", []string{"**"}, `Archive (\HasChildren) | Archive/2024 (\HasNoChildren) | Archive/2025 (\HasChildren) | Archive/2025/Q1 (\HasNoChildren) | INBOX (\HasNoChildren) | Sent (\HasNoChildren \Sent) | Trash (\HasNoChildren \Trash) | work (\HasNoChildren)`},
		{"inbox", []string{""}, ``}, // empty pattern: the server answers it
		{"", []string{"INBOX*"}, `INBOX (\HasNoChildren)`},
		{"", []string{"WORK"}, ``}, // only INBOX is case-insensitive
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, mb := range []struct{ name, use string }{
			{"Archive/2024", ""}, {"Archive/2025/Q1", ""}, {"Sent", mailstore.SpecialSent}, {"Trash", mailstore.SpecialTrash}, {"work", ""},
		} {
			if err := st.Create(ctx, mb.name, mb.use); err != nil {
				t.Fatal(err)
			}
		}
		s := login(t, st)
		for _, tt := range tests {
			var lr listRec
			if err := s.List(ctx, &lr, tt.ref, tt.patterns, &imap.ListOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(lr.lines, " | "); got != tt.want {
				t.Errorf("LIST %q %q =\n%s\nwant\n%s", tt.ref, tt.patterns, got, tt.want)
			}
		}
	})
}

// TestListEntries checks the placeholder rules without a store: parents
// that only exist as levels of hierarchy (RFC 3501 §6.3.8).
func TestListEntries(t *testing.T) {
	infos := []mailstore.MailboxInfo{{Name: "INBOX"}, {Name: "a/b/c"}, {Name: "x", NoSelect: true}, {Name: "x/y"}}
	names := []string{"INBOX", "a/b/c", "x", "x/y"}
	tests := []struct {
		pattern, want string
	}{
		{"%", `INBOX (\HasNoChildren) | a (\Noselect \HasChildren) | x (\Noselect \HasChildren)`},
		{"*", `INBOX (\HasNoChildren) | a/b/c (\HasNoChildren) | x (\Noselect \HasChildren) | x/y (\HasNoChildren)`},
		{"a/%", `a/b (\Noselect \HasChildren)`},
		{"a/%/%", `a/b/c (\HasNoChildren)`},
		{"a*", `a/b/c (\HasNoChildren)`},
		{"a", `a (\Noselect \HasChildren)`},
	}
	for _, tt := range tests {
		var lines []string
		for _, e := range listEntries(names, infos) {
			if e.implied && !impliedMatch([]string{tt.pattern}, e.name, names) || !e.implied && !matchName(tt.pattern, e.name) {
				continue
			}
			attrs := listAttrs(e, &imap.ListOptions{})
			as := make([]string, len(attrs))
			for i, a := range attrs {
				as[i] = string(a)
			}
			lines = append(lines, e.name+" ("+strings.Join(as, " ")+")")
		}
		if got := strings.Join(lines, " | "); got != tt.want {
			t.Errorf("list %q = %s, want %s", tt.pattern, got, tt.want)
		}
	}
}

func TestLSUB(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		st.Create(ctx, "lists/go", "")
		st.Create(ctx, "lists/rust", "")
		s := login(t, st)
		for _, n := range []string{"lists/go", "inbox", "gone"} {
			if err := s.Subscribe(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			pattern string
			opts    imap.ListOptions
			want    string
		}{
			{"*", imap.ListOptions{LSUB: true}, `INBOX () | gone () | lists/go ()`},
			// RFC 3501 §6.3.9: "lists" is not subscribed but matched by %.
			{"%", imap.ListOptions{LSUB: true}, `INBOX () | gone () | lists (\Noselect)`},
			{"lists/%", imap.ListOptions{LSUB: true}, `lists/go ()`},
			{"*", imap.ListOptions{SelectSubscribed: true}, `INBOX (\Subscribed \HasNoChildren) | gone (\NonExistent \Subscribed) | lists/go (\Subscribed \HasNoChildren)`},
		}
		for _, tt := range tests {
			var lr listRec
			if err := s.List(ctx, &lr, "", []string{tt.pattern}, &tt.opts); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(lr.lines, " | "); got != tt.want {
				t.Errorf("LSUB %q %+v = %s, want %s", tt.pattern, tt.opts, got, tt.want)
			}
		}
		s.Unsubscribe(ctx, "gone")
		var lr listRec
		s.List(ctx, &lr, "", []string{"g*"}, &imap.ListOptions{LSUB: true})
		if len(lr.lines) != 0 {
			t.Errorf("after UNSUBSCRIBE: %v", lr.lines)
		}
	})
}

// naiveMatch is the pattern match by regular expression, for the fuzzer.
func naiveMatch(pattern, name string) bool {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '%':
			b.WriteString(`[^/]*`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String()).MatchString(name)
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true}, {"%", "a/b", false}, {"a%c", "abbc", true}, {"a%c", "ab/c", false},
		{"a*c", "ab/c", true}, {"%%%", "abc", true}, {"*/*", "a/b/c", true}, {"%/%", "a/b/c", false},
		{"abc", "abd", false}, {"", "", true}, {"", "a", false}, {"a*", "", false},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b%c", "axxb/yc")
	f.Add("%/%", "a/b")
	f.Add("*%*%", "////")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 64 || !utf8Valid(pattern) || !utf8Valid(name) {
			return
		}
		if got, want := match(pattern, name), naiveMatch(pattern, name); got != want {
			t.Errorf("match(%q, %q) = %v, want %v", pattern, name, got, want)
		}
	})
}
