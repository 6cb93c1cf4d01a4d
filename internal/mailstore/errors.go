package mailstore

import "errors"

// Error kinds every driver returns (wrapped with %w and context); adapters
// map them to protocol responses with errors.Is.
var (
	ErrNotExist    = errors.New("mailstore: mailbox or message does not exist")
	ErrExist       = errors.New("mailstore: mailbox already exists")
	ErrInvalidName = errors.New("mailstore: invalid mailbox name")
	ErrHasChildren = errors.New("mailstore: mailbox has children")
	ErrLocked      = errors.New("mailstore: mailbox is locked by another program")
	ErrQuota       = errors.New("mailstore: quota exceeded")
	ErrNoSpace     = errors.New("mailstore: no space left on device")
	ErrTooBig      = errors.New("mailstore: message too large")
	ErrReadOnly    = errors.New("mailstore: mailbox is read-only")
)
