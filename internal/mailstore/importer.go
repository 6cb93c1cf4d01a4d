package mailstore

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Importer is an optional Store capability (found by type assertion): it
// makes a whole mailbox with the UIDVALIDITY and UIDs it is given, so that
// clients of the server being replaced keep their caches (RFC 3501
// §2.3.1.1: a UID is meaningful only with its UIDVALIDITY, and a mailbox
// whose UIDs are renumbered must get a new UIDVALIDITY, which makes every
// client download it again). Append cannot do this: it always hands out
// the next UID.
type Importer interface {
	// ImportMailbox creates the mailbox (and its missing parents) holding
	// exactly the given messages. It refuses with ErrExist a mailbox that
	// exists and holds messages; an existing empty one (INBOX, typically)
	// is replaced. The import is all or nothing: a failure (an error from
	// a message's Open, a full disk) or a crash leaves no partial mailbox.
	ImportMailbox(ctx context.Context, mb ImportMailbox) error
}

// ImportMailbox is one mailbox to import.
type ImportMailbox struct {
	// Name is the mailbox name (see CanonicalName).
	Name string
	// SpecialUse is one of the Special* constants, or "" for none.
	SpecialUse string
	// UIDValidity is kept as given (RFC 3501 §2.3.1.1); it must not be 0.
	UIDValidity uint32
	// UIDNext is the UIDNEXT to keep; the store uses one more than the
	// highest UID when that is larger (0 means just that).
	UIDNext uint32
	// Keywords are the mailbox's keyword names in the order the source
	// defined them (UW's X-IMAP list, Dovecot's dovecot-keywords), so a
	// driver that numbers keywords keeps the source's numbering. Keywords
	// that only appear in message flags are added after these.
	Keywords []string
	// Messages are in strictly ascending UID order.
	Messages []ImportMessage
}

// ImportMessage is one message of an ImportMailbox.
type ImportMessage struct {
	UID          uint32
	Flags        []string  // as for AppendOptions.Flags
	InternalDate time.Time // RFC 3501 §2.3.3; zero means now
	// Open returns the message octets. It is called once, when the
	// driver writes the message, so a large mailbox is never held in
	// memory at once; its error aborts the import.
	Open func() (io.ReadCloser, error)
}

// Check validates an import: a UIDVALIDITY, UIDs strictly ascending and
// neither 0 nor the largest value (which would leave no UIDNEXT), flags
// that NormalizeFlags accepts. It returns the UIDNEXT to store (the larger
// of mb.UIDNext and one past the highest UID). Drivers call it first.
func (mb *ImportMailbox) Check() (uidNext uint32, err error) {
	if mb.UIDValidity == 0 {
		return 0, fmt.Errorf("mailstore: import %q: UIDVALIDITY 0", mb.Name)
	}
	uidNext = max(mb.UIDNext, 1)
	var last uint32
	for _, m := range mb.Messages {
		if m.UID == 0 || m.UID == 0xffffffff || m.UID <= last {
			return 0, fmt.Errorf("mailstore: import %q: UID %d after %d: UIDs must be ascending, between 1 and 4294967294", mb.Name, m.UID, last)
		}
		if m.Open == nil {
			return 0, fmt.Errorf("mailstore: import %q: UID %d has no content", mb.Name, m.UID)
		}
		if _, err := NormalizeFlags(m.Flags); err != nil {
			return 0, fmt.Errorf("mailstore: import %q: UID %d: %w", mb.Name, m.UID, err)
		}
		last = m.UID
	}
	return max(uidNext, last+1), nil
}
