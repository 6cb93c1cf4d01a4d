package imapbackend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// listExtRec records extended LIST lines as "name (attrs) CHILDINFO (...)
// STATUS n".
type listExtRec struct{ lines []string }

func (l *listExtRec) WriteList(d *imap.ListData) error {
	attrs := make([]string, len(d.Attrs))
	for i, a := range d.Attrs {
		attrs[i] = string(a)
	}
	line := fmt.Sprintf("%s (%s)", d.Mailbox, strings.Join(attrs, " "))
	if d.ChildInfo != nil {
		line += " CHILDINFO (" + strings.Join(d.ChildInfo, " ") + ")"
	}
	if d.Status != nil && d.Status.NumMessages != nil {
		line += fmt.Sprintf(" MESSAGES %d", *d.Status.NumMessages)
	}
	l.lines = append(l.lines, line)
	return nil
}

// TestListExtended runs RFC 5258 §5's examples 2, 8, 9 and 10, RFC 5819
// §3 and RFC 6154's selection option over a hierarchy adapted from them
// (CHILDREN attributes are always computed here; parents exist, since both
// drivers create them).
func TestListExtended(t *testing.T) {
	sub := &imap.ListOptions{Extended: true, SelectSubscribed: true}
	rec := &imap.ListOptions{Extended: true, SelectSubscribed: true, SelectRecursiveMatch: true}
	tests := []struct {
		opts     *imap.ListOptions
		patterns []string
		want     string
	}{
		// Example 2: LIST (SUBSCRIBED) "" "*", with \NonExistent.
		{sub, []string{"*"}, `Fruit/Banana (\Subscribed \HasNoChildren) | Fruit/Peach (\NonExistent \Subscribed) | INBOX (\Subscribed \HasNoChildren) | ` +
			`Sent (\Subscribed \HasNoChildren \Sent) | baz2/bar2 (\Subscribed \HasNoChildren) | baz2/bar22 (\Subscribed \HasNoChildren) | ` +
			`baz2/bar222 (\Subscribed \HasNoChildren) | eps2 (\Subscribed \HasChildren) | eps2/mamba (\Subscribed \HasNoChildren) | ` +
			`foo2/bar1 (\Subscribed \HasNoChildren) | foo2/bar2 (\Subscribed \HasNoChildren) | qux2/bar2 (\NonExistent \Subscribed)`},
		// Example 8: unsubscribed parents are not reported without
		// RECURSIVEMATCH.
		{sub, []string{"%"}, `INBOX (\Subscribed \HasNoChildren) | Sent (\Subscribed \HasNoChildren \Sent) | eps2 (\Subscribed \HasChildren)`},
		// Example 9, first command: CHILDINFO only where a subscribed
		// descendant is not itself reported (§3.5's SHOULD).
		{rec, []string{"*2"}, `baz2/bar2 (\Subscribed \HasNoChildren) | baz2/bar22 (\Subscribed \HasNoChildren) | baz2/bar222 (\Subscribed \HasNoChildren) | ` +
			`eps2 (\Subscribed \HasChildren) CHILDINFO (SUBSCRIBED) | foo2 (\HasChildren) CHILDINFO (SUBSCRIBED) | ` +
			`foo2/bar2 (\Subscribed \HasNoChildren) | qux2/bar2 (\NonExistent \Subscribed)`},
		// Examples 8 A/A2 at the top level, with a parent that does not
		// exist (qux2).
		{rec, []string{"%"}, `Fruit (\HasChildren) CHILDINFO (SUBSCRIBED) | INBOX (\Subscribed \HasNoChildren) | Sent (\Subscribed \HasNoChildren \Sent) | ` +
			`baz2 (\HasChildren) CHILDINFO (SUBSCRIBED) | eps2 (\Subscribed \HasChildren) CHILDINFO (SUBSCRIBED) | ` +
			`foo2 (\HasChildren) CHILDINFO (SUBSCRIBED) | qux2 (\NonExistent) CHILDINFO (SUBSCRIBED)`},
		// Example 10: a3.
		{rec, []string{"Fruit"}, `Fruit (\HasChildren) CHILDINFO (SUBSCRIBED)`},
		// Example 6 without remote mailboxes: RETURN (SUBSCRIBED).
		{&imap.ListOptions{Extended: true, SelectRemote: true, ReturnSubscribed: true}, []string{"%"},
			`Fruit (\HasChildren) | INBOX (\Subscribed \HasNoChildren) | Sent (\Subscribed \HasNoChildren \Sent) | Tofu (\HasNoChildren) | ` +
				`Trash (\HasNoChildren \Trash) | baz2 (\HasChildren) | eps2 (\Subscribed \HasChildren) | foo2 (\HasChildren)`},
		// Example 7: several patterns, one response per name; "" ignored.
		{&imap.ListOptions{Extended: true}, []string{"INBOX", "", "Fruit/%", "Fruit/*"}, `Fruit/Apple (\HasNoChildren) | Fruit/Banana (\HasNoChildren) | INBOX (\HasNoChildren)`},
		// RFC 6154 §2: the SPECIAL-USE selection option, alone and with
		// SUBSCRIBED.
		{&imap.ListOptions{Extended: true, SelectSpecialUse: true}, []string{"*"}, `Sent (\HasNoChildren \Sent) | Trash (\HasNoChildren \Trash)`},
		{&imap.ListOptions{Extended: true, SelectSpecialUse: true, SelectSubscribed: true}, []string{"*"}, `Sent (\Subscribed \HasNoChildren \Sent)`},
		// RFC 5819 §3: STATUS for the mailboxes that meet the criteria,
		// not for a parent reported for CHILDINFO.
		{&imap.ListOptions{Extended: true, ReturnStatus: &imap.StatusOptions{NumMessages: true}}, []string{"%"},
			`Fruit (\HasChildren) MESSAGES 0 | INBOX (\HasNoChildren) MESSAGES 2 | Sent (\HasNoChildren \Sent) MESSAGES 0 | Tofu (\HasNoChildren) MESSAGES 0 | ` +
				`Trash (\HasNoChildren \Trash) MESSAGES 0 | baz2 (\HasChildren) MESSAGES 0 | eps2 (\HasChildren) MESSAGES 0 | foo2 (\HasChildren) MESSAGES 0`},
		{&imap.ListOptions{Extended: true, SelectSubscribed: true, SelectRecursiveMatch: true, ReturnStatus: &imap.StatusOptions{NumMessages: true}}, []string{"INBOX", "foo2"},
			`INBOX (\Subscribed \HasNoChildren) MESSAGES 2 | foo2 (\HasChildren) CHILDINFO (SUBSCRIBED)`},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, mb := range []struct{ name, use string }{
			{"Fruit", ""}, {"Fruit/Apple", ""}, {"Fruit/Banana", ""}, {"Tofu", ""}, {"Sent", mailstore.SpecialSent}, {"Trash", mailstore.SpecialTrash},
			{"foo2", ""}, {"foo2/bar1", ""}, {"foo2/bar2", ""}, {"baz2", ""}, {"baz2/bar2", ""}, {"baz2/bar22", ""}, {"baz2/bar222", ""},
			{"eps2", ""}, {"eps2/mamba", ""},
		} {
			if err := st.Create(ctx, mb.name, mb.use); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"INBOX", "foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222", "eps2", "eps2/mamba", "qux2/bar2", "Fruit/Banana", "Fruit/Peach", "Sent"} {
			if err := st.SetSubscribed(ctx, n, true); err != nil {
				t.Fatal(err)
			}
		}
		appendMsg(t, st, "INBOX", simpleMsg(1))
		appendMsg(t, st, "INBOX", simpleMsg(2))
		s := login(t, st)
		for _, tt := range tests {
			var lr listExtRec
			if err := s.List(ctx, &lr, "", tt.patterns, tt.opts); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(lr.lines, " | "); got != tt.want {
				t.Errorf("LIST %+v %q =\n%s\nwant\n%s", *tt.opts, tt.patterns, got, tt.want)
			}
		}
	})
}
