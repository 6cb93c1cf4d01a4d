package imapbackend

import (
	"context"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// listExtended answers an extended LIST (RFC 5258 §3, RFC 9051 §6.3.9):
// selection options SUBSCRIBED, SPECIAL-USE (RFC 6154 §2) and
// RECURSIVEMATCH, return options SUBSCRIBED, CHILDREN and STATUS (RFC 5819),
// with \NonExistent and \Subscribed computed exactly.
//
// RECURSIVEMATCH is honoured with SUBSCRIBED, the one selection option that
// defines a CHILDINFO value (RFC 5258 §3.5); with SPECIAL-USE alone it
// changes nothing.
func (s *session) listExtended(ctx context.Context, w imapserver.ListWriter, patterns []string, opts *imap.ListOptions) error {
	infos, err := s.store.List(ctx)
	if err != nil {
		return storeError("list", err)
	}
	byName := make(map[string]mailstore.MailboxInfo, len(infos))
	parents := make(map[string]bool) // names with an existing descendant
	for _, in := range infos {
		byName[in.Name] = in
		forEachParent(in.Name, func(p string) { parents[p] = true })
	}
	subscribed := map[string]bool{}
	if opts.SelectSubscribed || opts.ReturnSubscribed {
		subs, err := s.store.Subscriptions(ctx)
		if err != nil {
			return storeError("list subscriptions", err)
		}
		for _, n := range subs {
			subscribed[n] = true
		}
	}
	selecting := opts.SelectSubscribed || opts.SelectSpecialUse
	// meets reports whether a name satisfies every selection option
	// (RFC 5258 §3: "the server MUST return information about mailbox
	// names that satisfy every selection option").
	meets := func(name string) bool {
		in, exists := byName[name]
		if opts.SelectSubscribed && !subscribed[name] {
			return false
		}
		if opts.SelectSpecialUse && (!exists || in.SpecialUse == "") {
			return false
		}
		return true
	}
	recursive := opts.SelectRecursiveMatch && opts.SelectSubscribed

	// The names the criteria select, and (RECURSIVEMATCH, or no selection
	// option at all) their ancestors.
	var selected []string
	if opts.SelectSubscribed {
		for n := range subscribed {
			if meets(n) {
				selected = append(selected, n)
			}
		}
	} else {
		for _, in := range infos {
			if meets(in.Name) {
				selected = append(selected, in.Name)
			}
		}
	}
	candidates := make(map[string]bool, len(selected))
	// childMatches[p]: p has a descendant that meets the criteria;
	// hiddenChild[p]: one such descendant matches no pattern, so only
	// CHILDINFO on p tells the client about it (RFC 5258 §3.5).
	childMatches := map[string]bool{}
	hiddenChild := map[string]bool{}
	for _, n := range selected {
		candidates[n] = true
		hidden := !matchAny(patterns, n)
		forEachParent(n, func(p string) {
			childMatches[p] = true
			if hidden {
				hiddenChild[p] = true
			}
			if recursive || !selecting {
				candidates[p] = true
			}
		})
	}
	names := make([]string, 0, len(candidates))
	for n := range candidates {
		names = append(names, n)
	}
	slices.Sort(names)

	for _, name := range names {
		if !matchAny(patterns, name) {
			continue
		}
		in, exists := byName[name]
		ok := meets(name) && (exists || opts.SelectSubscribed)
		var childInfo []string
		switch {
		case !selecting && !exists:
			// A missing parent of existing mailboxes: reported as
			// \NonExistent \HasChildren when a pattern shows its level
			// but not the children below it (RFC 5258 §3.5, example 11).
			if !impliedMatch(patterns, name, selected) {
				continue
			}
		case recursive && ok && childMatches[name]:
			childInfo = []string{"SUBSCRIBED"}
		case recursive && !ok && hiddenChild[name]:
			childInfo = []string{"SUBSCRIBED"}
		case !ok:
			continue
		}
		var attrs []imap.MailboxAttr
		switch {
		case !exists:
			attrs = append(attrs, imap.MailboxAttrNonExistent)
		case in.NoSelect:
			attrs = append(attrs, imap.MailboxAttrNoSelect)
		}
		if subscribed[name] && (opts.SelectSubscribed || opts.ReturnSubscribed) {
			attrs = append(attrs, imap.MailboxAttrSubscribed)
		}
		// CHILDREN (RFC 5258 §4) is always computed: it is cheap here.
		switch {
		case parents[name]:
			attrs = append(attrs, imap.MailboxAttrHasChildren)
		case exists:
			attrs = append(attrs, imap.MailboxAttrHasNoChildren)
		}
		// Special-use attributes are always sent (RFC 6154 §2 allows it,
		// as Dovecot does).
		if exists && in.SpecialUse != "" {
			attrs = append(attrs, imap.MailboxAttr(in.SpecialUse))
		}
		ld := &imap.ListData{Delim: delim, Mailbox: name, Attrs: attrs, ChildInfo: childInfo}
		// RFC 5819 §2: STATUS for each selectable mailbox that meets the
		// criteria; a failure (the mailbox vanished) drops the STATUS
		// and nothing else.
		if opts.ReturnStatus != nil && ok && exists && !in.NoSelect {
			if st, err := s.Status(ctx, name, opts.ReturnStatus); err == nil {
				ld.Status = st
			}
		}
		if err := w.WriteList(ld); err != nil {
			return err
		}
	}
	return nil
}

// forEachParent calls f with each proper ancestor of name, nearest first.
func forEachParent(name string, f func(string)) {
	for i := strings.LastIndexByte(name, delim); i > 0; i = strings.LastIndexByte(name[:i], delim) {
		f(name[:i])
	}
}
