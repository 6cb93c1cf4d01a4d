package config

import (
	"fmt"
	"strings"
)

// DefaultMailbox is a mailbox made for a new account (default_mailboxes):
// a name and its special use (RFC 6154 §2), "" for none.
type DefaultMailbox struct {
	Name       string
	SpecialUse string
}

// defaultMailboxesText is default_mailboxes' default: the mailboxes
// Thunderbird, Apple Mail and K-9 look for, as Dovecot's example
// configuration creates them.
const defaultMailboxesText = `Drafts \Drafts, Sent \Sent, Trash \Trash, Junk \Junk, Archive \Archive`

// creatableUses are the special uses a stored mailbox can have: \All and
// \Flagged name virtual mailboxes, which Postern does not have.
var creatableUses = []string{`\Archive`, `\Drafts`, `\Junk`, `\Sent`, `\Trash`}

// ParseDefaultMailboxes reads default_mailboxes: comma-separated items,
// each a mailbox name (which may contain spaces and "/") optionally
// followed by one special-use attribute. Empty means none.
func ParseDefaultMailboxes(v string) ([]DefaultMailbox, error) {
	var out []DefaultMailbox
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var d DefaultMailbox
		d.Name = item
		if i := strings.LastIndexByte(item, ' '); i >= 0 && strings.HasPrefix(item[i+1:], `\`) {
			d.Name, d.SpecialUse = strings.TrimSpace(item[:i]), item[i+1:]
		} else if strings.HasPrefix(item, `\`) {
			return nil, fmt.Errorf("want a mailbox name before %q", item)
		}
		if d.SpecialUse != "" {
			ok := false
			for _, u := range creatableUses {
				if strings.EqualFold(u, d.SpecialUse) {
					d.SpecialUse, ok = u, true
				}
			}
			if !ok {
				return nil, fmt.Errorf("want a special use among %s, got %q", strings.Join(creatableUses, " "), d.SpecialUse)
			}
		}
		if strings.EqualFold(d.Name, "INBOX") || strings.HasPrefix(d.Name, "/") || strings.HasSuffix(d.Name, "/") {
			return nil, fmt.Errorf("want a mailbox name other than INBOX, not starting or ending with /, got %q", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("mailbox %q listed twice", d.Name)
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	return out, nil
}

// formatDefaultMailboxes is the inverse of ParseDefaultMailboxes.
func formatDefaultMailboxes(ds []DefaultMailbox) string {
	items := make([]string, len(ds))
	for i, d := range ds {
		items[i] = strings.TrimSpace(d.Name + " " + d.SpecialUse)
	}
	return strings.Join(items, ", ")
}

func mustDefaultMailboxes(v string) []DefaultMailbox {
	ds, err := ParseDefaultMailboxes(v)
	if err != nil {
		panic(err)
	}
	return ds
}
