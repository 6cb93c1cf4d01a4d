package imapbackend

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

func TestStoreError(t *testing.T) {
	perm := &fs.PathError{Op: "open", Path: "/var/mail/alice", Err: fs.ErrPermission}
	tests := []struct {
		err       error
		want      string // "" means not an IMAP answer: logged, NO [SERVERBUG]
		wantCause bool
	}{
		{fmt.Errorf("mbox: %w", mailstore.ErrNotExist), "NO [NONEXISTENT] Mailbox does not exist", false},
		{mailstore.ErrLocked, "NO [INUSE] Mailbox is locked by another program, try again later", false},
		{fmt.Errorf("mbox: append: %w", perm), "NO [NOPERM] Permission denied by the file system; the administrator has been told", true},
		{errors.New("disk on fire"), "", false},
	}
	for _, tt := range tests {
		err := storeError("append", tt.err)
		e, ok := imap.AsError(err)
		if tt.want == "" {
			if ok || !errors.Is(err, tt.err) {
				t.Errorf("storeError(%v) = %v, want the error wrapped for the log", tt.err, err)
			}
			continue
		}
		got, cause := "", error(nil)
		if ok {
			got, cause = string(e.Type)+" ["+string(e.Code)+"] "+e.Text, e.Cause
		}
		if got != tt.want || (cause != nil) != tt.wantCause {
			t.Errorf("storeError(%v) = %q (cause %v), want %q (cause %v)", tt.err, got, cause, tt.want, tt.wantCause)
		}
		if tt.wantCause && !errors.Is(cause, fs.ErrPermission) {
			t.Errorf("storeError(%v).Cause = %v, want the file system error", tt.err, e.Cause)
		}
	}
}
