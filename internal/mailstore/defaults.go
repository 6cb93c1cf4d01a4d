package mailstore

import (
	"context"
	"errors"
	"fmt"
)

// DefaultMailbox is a mailbox to make in a new store (CreateDefaults).
type DefaultMailbox struct {
	Name       string
	SpecialUse string // one of the Special* constants, or ""
}

// CreateDefaults makes each mailbox with its special use (RFC 6154) and
// subscribes it, so that clients find their Drafts, Sent and Trash at
// once. A mailbox that exists already is left as it is (subscribed still):
// two processes may open the same new store at once. It goes on past a
// failure and returns the first.
func CreateDefaults(ctx context.Context, st Store, boxes []DefaultMailbox) error {
	var first error
	for _, b := range boxes {
		err := st.Create(ctx, b.Name, b.SpecialUse)
		if err == nil || errors.Is(err, ErrExist) {
			err = st.SetSubscribed(ctx, b.Name, true)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("mailstore: default mailbox %q: %w", b.Name, err)
		}
	}
	return first
}
