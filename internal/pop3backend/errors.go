package pop3backend

import (
	"errors"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/pop3server"
)

// errRemoved answers RETR and TOP for a message of the snapshot that another
// session expunged since (RFC 3206 §4: the client may retry after logging
// in again, when its snapshot no longer holds the message).
var errRemoved = &pop3server.Error{Code: pop3server.CodeSysTemp, Text: "message was removed by another session"}

// openError maps a failure to open the maildrop at login.
func openError(err error) error {
	if errors.Is(err, mailstore.ErrLocked) {
		// RFC 2449 §8.1.1: another program holds the maildrop.
		return &pop3server.Error{Code: pop3server.CodeInUse, Text: "Mailbox is locked by another program", Cause: err}
	}
	return &pop3server.Error{Code: pop3server.CodeSysTemp, Text: "Unable to open the maildrop", Cause: err}
}

// readError maps a failure to open or read one message for RETR or TOP.
func readError(err error) error {
	switch {
	case errors.Is(err, mailstore.ErrNotExist):
		return errRemoved
	case errors.Is(err, mailstore.ErrLocked):
		return &pop3server.Error{Code: pop3server.CodeInUse, Text: "Mailbox is locked by another program", Cause: err}
	}
	return err
}
