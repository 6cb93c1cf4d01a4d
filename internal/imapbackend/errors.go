package imapbackend

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// storeError maps a mailstore error kind to a NO response with an RFC 5530
// code (STYLE.md habit 5); anything unknown is wrapped and returned, so that
// the server logs it and answers NO [SERVERBUG]. op names the operation for
// the log.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := imap.AsError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, mailstore.ErrNotExist):
		return imap.NO(imap.CodeNonExistent, "Mailbox does not exist")
	case errors.Is(err, mailstore.ErrExist):
		return imap.NO(imap.CodeAlreadyExists, "Mailbox already exists")
	case errors.Is(err, mailstore.ErrInvalidName):
		return imap.NO(imap.CodeCannot, "Invalid mailbox name")
	case errors.Is(err, mailstore.ErrHasChildren):
		// RFC 3501 §6.3.4 lets a server refuse to delete a mailbox with
		// inferiors; Dovecot answers NO [INUSE] there too.
		return imap.NO(imap.CodeInUse, "Mailbox has children, delete them first")
	case errors.Is(err, mailstore.ErrLocked):
		return imap.NO(imap.CodeInUse, "Mailbox is locked by another program, try again later")
	case errors.Is(err, mailstore.ErrNoSpace):
		// A full file system (ENOSPC): RFC 5530 §3 has no code of its own
		// for it; Dovecot answers OVERQUOTA with "Not enough disk space"
		// (lib-storage MAIL_ERROR_NOSPACE), which tells a client the
		// command may work once space is freed, as LIMIT or SERVERBUG
		// would not. Nothing was stored (the drivers undo a partial
		// write).
		return imap.NO(imap.CodeOverQuota, "Not enough disk space")
	case errors.Is(err, mailstore.ErrQuota):
		return imap.NO(imap.CodeOverQuota, "Quota exceeded")
	case errors.Is(err, mailstore.ErrTooBig):
		return imap.NO(imap.CodeTooBig, "Message too large")
	case errors.Is(err, mailstore.ErrReadOnly):
		return imap.NO(imap.CodeReadOnly, "Mailbox is read-only")
	case errors.Is(err, fs.ErrPermission):
		// A file the user's process may not touch (a spool directory it
		// cannot write, a folder of another owner): the client hears that
		// much, the log says which file.
		e := imap.NO(imap.CodeNoPerm, "Permission denied by the file system; the administrator has been told")
		e.Cause = fmt.Errorf("imapbackend: %s: %w", op, err)
		return e
	}
	return fmt.Errorf("imapbackend: %s: %w", op, err)
}

// errReadOnly answers a change attempted in a mailbox opened with EXAMINE.
var errReadOnly = imap.NO(imap.CodeReadOnly, "Mailbox is read-only")

// errBadSet answers a sequence number beyond the mailbox (RFC 9051 §6.4.5
// leaves it to the server; Dovecot answers BAD "Invalid messageset").
var errBadSet = imap.BAD("", "Invalid sequence set")
