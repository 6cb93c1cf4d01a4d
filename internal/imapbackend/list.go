package imapbackend

import (
	"context"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// listEntry is one name a LIST or LSUB may report.
type listEntry struct {
	name     string
	info     mailstore.MailboxInfo
	exists   bool // the store lists it (possibly as a NoSelect placeholder)
	implied  bool // only a parent of listed names, not listed itself
	children bool
}

// List implements imapserver.Session (RFC 3501 §6.3.8, §6.3.9, RFC 3348
// CHILDREN, RFC 6154 special-use attributes).
func (s *session) List(ctx context.Context, w imapserver.ListWriter, ref string, patterns []string, opts *imap.ListOptions) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	var full []string
	for _, p := range patterns {
		if p == "" {
			continue
		}
		full = append(full, listPattern(ref, p))
	}
	if len(full) == 0 {
		return nil
	}
	if opts != nil && opts.Extended && !opts.LSUB {
		return s.listExtended(ctx, w, full, opts)
	}
	subscribed := opts != nil && (opts.SelectSubscribed || opts.LSUB)
	infos, err := s.store.List(ctx)
	if err != nil {
		return storeError("list", err)
	}
	var names []string
	if subscribed {
		if names, err = s.store.Subscriptions(ctx); err != nil {
			return storeError("list subscriptions", err)
		}
	} else {
		for _, in := range infos {
			names = append(names, in.Name)
		}
	}
	entries := listEntries(names, infos)
	for _, e := range entries {
		if !e.implied {
			if !matchAny(full, e.name) {
				continue
			}
		} else if !impliedMatch(full, e.name, names) {
			continue
		}
		ld := &imap.ListData{Delim: delim, Mailbox: e.name, Attrs: listAttrs(e, opts)}
		if err := w.WriteList(ld); err != nil {
			return err
		}
	}
	return nil
}

// listPattern joins the reference and the pattern (RFC 3501 §6.3.8): the
// pattern is taken relative to the reference by concatenation, unless it
// starts with the delimiter, which makes it absolute.
func listPattern(ref, pattern string) string {
	if ref == "" || pattern[0] == delim {
		return pattern
	}
	return ref + pattern
}

// listEntries returns names (sorted, unique) and the parents they imply,
// with what the store says about each.
func listEntries(names []string, infos []mailstore.MailboxInfo) []listEntry {
	byName := make(map[string]mailstore.MailboxInfo, len(infos))
	parents := make(map[string]bool)
	for _, in := range infos {
		byName[in.Name] = in
		for i := strings.LastIndexByte(in.Name, delim); i > 0; i = strings.LastIndexByte(in.Name[:i], delim) {
			parents[in.Name[:i]] = true
		}
	}
	seen := make(map[string]bool, len(names))
	var out []listEntry
	add := func(name string, implied bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		in, ok := byName[name]
		if !ok {
			in.Name = name
		}
		out = append(out, listEntry{name: name, info: in, exists: ok, implied: implied, children: parents[name]})
	}
	for _, n := range names {
		add(n, false)
	}
	for _, n := range names {
		for i := strings.LastIndexByte(n, delim); i > 0; i = strings.LastIndexByte(n[:i], delim) {
			if !seen[n[:i]] {
				add(n[:i], true)
			}
		}
	}
	slices.SortFunc(out, func(a, b listEntry) int { return strings.Compare(a.name, b.name) })
	return out
}

// impliedMatch reports whether a parent that is not itself listed is
// reported: when a pattern matches it but not one of its descendants (RFC
// 3501 §6.3.8: "%" at the end of a pattern returns the levels of hierarchy
// above matching names, as \Noselect; §6.3.9 says the same for LSUB).
func impliedMatch(patterns []string, parent string, names []string) bool {
	prefix := parent + string(delim)
	for _, p := range patterns {
		if !matchName(p, parent) {
			continue
		}
		for _, n := range names {
			if strings.HasPrefix(n, prefix) && !matchName(p, n) {
				return true
			}
		}
	}
	return false
}

// listAttrs returns the attributes of one LIST or LSUB line.
func listAttrs(e listEntry, opts *imap.ListOptions) []imap.MailboxAttr {
	var attrs []imap.MailboxAttr
	lsub := opts != nil && opts.LSUB
	switch {
	case e.implied || e.info.NoSelect:
		attrs = append(attrs, imap.MailboxAttrNoSelect)
	case !e.exists && opts != nil && opts.SelectSubscribed && !lsub:
		// RFC 5258 §3.1: a subscribed name that does not exist.
		attrs = append(attrs, imap.MailboxAttrNonExistent)
	}
	if lsub {
		return attrs
	}
	if opts != nil && opts.SelectSubscribed && !e.implied {
		attrs = append(attrs, imap.MailboxAttrSubscribed)
	}
	if e.exists || e.implied {
		if e.children {
			attrs = append(attrs, imap.MailboxAttrHasChildren)
		} else {
			attrs = append(attrs, imap.MailboxAttrHasNoChildren)
		}
	}
	if su := e.info.SpecialUse; su != "" {
		attrs = append(attrs, imap.MailboxAttr(su))
	}
	return attrs
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if matchName(p, name) {
			return true
		}
	}
	return false
}

// matchName matches a mailbox name against a LIST pattern (RFC 3501
// §6.3.8): "*" matches anything, "%" anything but the delimiter. A leading
// INBOX in the pattern matches case-insensitively (RFC 3501 §5.1).
func matchName(pattern, name string) bool {
	if match(pattern, name) {
		return true
	}
	if len(pattern) >= 5 && strings.HasPrefix(name, "INBOX") && strings.EqualFold(pattern[:5], "INBOX") {
		return match("INBOX"+pattern[5:], name)
	}
	return false
}

// match runs the pattern as an NFA over the name: O(len(pattern) *
// len(name)) whatever the wildcards, so hostile patterns cost nothing.
func match(pattern, name string) bool {
	n := len(pattern) + 1
	cur, next := make([]bool, n), make([]bool, n)
	cur[0] = true
	closeOver(pattern, cur)
	for j := 0; j < len(name); j++ {
		c := name[j]
		clear(next)
		any := false
		for i := 0; i < len(pattern); i++ {
			if !cur[i] {
				continue
			}
			switch pattern[i] {
			case '*':
				next[i], any = true, true
			case '%':
				if c != delim {
					next[i], any = true, true
				}
			default:
				if pattern[i] == c {
					next[i+1], any = true, true
				}
			}
		}
		if !any {
			return false
		}
		closeOver(pattern, next)
		cur, next = next, cur
	}
	return cur[len(pattern)]
}

// closeOver adds the states reachable by letting wildcards match nothing.
func closeOver(pattern string, st []bool) {
	for i := 0; i < len(pattern); i++ {
		if st[i] && (pattern[i] == '*' || pattern[i] == '%') {
			st[i+1] = true
		}
	}
}
