package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// Options control Copy. The zero value copies everything and stops at the
// first destination mailbox that already holds messages, before writing
// anything.
type Options struct {
	// SkipExisting leaves a destination mailbox that already holds
	// messages alone (reported as Skipped) instead of refusing the whole
	// copy. False (the zero value) refuses.
	SkipExisting bool
	// Progress, when not nil, is called after each mailbox is done
	// (copied or skipped).
	Progress func(MailboxResult)
	// Logger receives a line per mailbox. Nil discards them.
	Logger *slog.Logger
}

// MailboxResult is what Copy did with one mailbox.
type MailboxResult struct {
	Name        string
	Messages    int
	UIDValidity uint32
	UIDNext     uint32
	// Skipped is true for a mailbox left alone under SkipExisting.
	Skipped bool
}

// Summary is the outcome of Copy.
type Summary struct {
	Mailboxes     []MailboxResult // in the order copied
	Messages      int             // messages copied, skipped mailboxes not counted
	Subscriptions int             // subscriptions recorded in the destination
}

// ErrDestinationNotEmpty is returned (wrapping mailstore.ErrExist) when
// destination mailboxes hold messages and Options.SkipExisting is false.
var ErrDestinationNotEmpty = fmt.Errorf("migrate: destination mailboxes hold messages: %w", mailstore.ErrExist)

// Copy copies every mailbox of from into to, keeping UIDVALIDITY, UIDs,
// UIDNEXT, flags, keywords, internal dates and special-use attributes,
// then the subscriptions. to must implement mailstore.Importer.
//
// Before anything is written, every destination mailbox is checked: one
// that holds messages stops the copy with ErrDestinationNotEmpty (naming
// them) unless opts.SkipExisting. Each mailbox is then imported all or
// nothing; an error stops the copy, leaving the mailboxes done so far in
// place (a second run with SkipExisting finishes the job).
func Copy(ctx context.Context, from, to mailstore.Store, opts Options) (Summary, error) {
	var sum Summary
	imp, ok := to.(mailstore.Importer)
	if !ok {
		return sum, fmt.Errorf("migrate: the destination store (%T) cannot import mailboxes keeping UIDs", to)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	list, err := from.List(ctx)
	if err != nil {
		return sum, fmt.Errorf("migrate: list source: %w", err)
	}
	// Parents before children, INBOX first.
	slices.SortFunc(list, func(a, b mailstore.MailboxInfo) int {
		if (a.Name == "INBOX") != (b.Name == "INBOX") {
			if a.Name == "INBOX" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	skip := map[string]bool{}
	var full []string
	for _, mi := range list {
		if mi.NoSelect {
			continue
		}
		st, err := to.Status(ctx, mi.Name)
		if errors.Is(err, mailstore.ErrNotExist) {
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("migrate: destination %q: %w", mi.Name, err)
		}
		if st.Messages > 0 {
			skip[mi.Name] = true
			full = append(full, fmt.Sprintf("%s (%d messages)", mi.Name, st.Messages))
		}
	}
	if len(full) > 0 && !opts.SkipExisting {
		return sum, fmt.Errorf("%w: %s", ErrDestinationNotEmpty, strings.Join(full, ", "))
	}
	for _, mi := range list {
		if mi.NoSelect {
			continue
		}
		var res MailboxResult
		if skip[mi.Name] {
			res = MailboxResult{Name: mi.Name, Skipped: true}
			log.Info("migrate: mailbox skipped: the destination holds messages", "mailbox", mi.Name)
		} else {
			if res, err = copyMailbox(ctx, from, imp, mi); err != nil {
				return sum, err
			}
			sum.Messages += res.Messages
			log.Info("migrate: mailbox copied", "mailbox", mi.Name, "messages", res.Messages, "uidvalidity", res.UIDValidity)
		}
		sum.Mailboxes = append(sum.Mailboxes, res)
		if opts.Progress != nil {
			opts.Progress(res)
		}
	}
	subs, err := from.Subscriptions(ctx)
	if err != nil {
		return sum, fmt.Errorf("migrate: source subscriptions: %w", err)
	}
	for _, n := range subs {
		if err := to.SetSubscribed(ctx, n, true); err != nil {
			return sum, fmt.Errorf("migrate: subscribe %q: %w", n, err)
		}
		sum.Subscriptions++
	}
	return sum, nil
}

// copyMailbox imports one source mailbox into the destination.
func copyMailbox(ctx context.Context, from mailstore.Store, to mailstore.Importer, mi mailstore.MailboxInfo) (MailboxResult, error) {
	res := MailboxResult{Name: mi.Name}
	mb, err := from.Open(ctx, mi.Name)
	if err != nil {
		return res, fmt.Errorf("migrate: open %q: %w", mi.Name, err)
	}
	defer mb.Close()
	st, err := mb.State(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %q: %w", mi.Name, err)
	}
	metas, err := mb.Messages(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %q: %w", mi.Name, err)
	}
	uids := make([]uint32, len(metas))
	for i, m := range metas {
		uids[i] = m.UID
	}
	infos, err := mb.Info(ctx, uids)
	if err != nil {
		return res, fmt.Errorf("migrate: %q: %w", mi.Name, err)
	}
	im := mailstore.ImportMailbox{Name: mi.Name, SpecialUse: mi.SpecialUse, UIDValidity: st.UIDValidity, UIDNext: st.UIDNext}
	for _, in := range infos {
		for _, f := range in.Flags {
			if !strings.HasPrefix(f, `\`) && !slices.Contains(im.Keywords, f) {
				im.Keywords = append(im.Keywords, f)
			}
		}
		uid := in.UID
		im.Messages = append(im.Messages, mailstore.ImportMessage{
			UID: uid, Flags: in.Flags, InternalDate: in.InternalDate,
			Open: func() (io.ReadCloser, error) {
				r, err := mb.OpenMessage(ctx, uid)
				if err != nil {
					return nil, fmt.Errorf("migrate: %q UID %d: %w", mi.Name, uid, err)
				}
				return readCloser{io.NewSectionReader(r, 0, r.Size()), r}, nil
			},
		})
	}
	slices.Sort(im.Keywords)
	if err := to.ImportMailbox(ctx, im); err != nil {
		return res, fmt.Errorf("migrate: import %q: %w", mi.Name, err)
	}
	res.Messages, res.UIDValidity, res.UIDNext = len(im.Messages), im.UIDValidity, im.UIDNext
	return res, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
