package imapbackend

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// TestRev2UnsolicitedFetchUID: once IMAP4rev2 is enabled, a flag change by
// another session is reported with the UID (RFC 9051 §7.5.2); an
// IMAP4rev1 session keeps the plain form.
func TestRev2UnsolicitedFetchUID(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 2; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i))
		}
		claim := login(t, st) // takes \Recent, so the flags below are just \Flagged
		selectBox(t, claim, "INBOX", false)
		rev2 := login(t, st)
		rev2.Enable(imapserver.ExtIMAP4rev2)
		selectBox(t, rev2, "INBOX", false)
		rev1 := login(t, st)
		selectBox(t, rev1, "INBOX", false)
		other := login(t, st)
		selectBox(t, other, "INBOX", false)
		if err := other.Store(ctx, &fetchRec{}, imap.NumKindUID, set(t, "2"), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{`\Flagged`}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			s    *session
			want string
		}{
			{rev2, `* 2 FETCH (UID 2 FLAGS (\Flagged))`},
			{rev1, `* 2 FETCH (FLAGS (\Flagged))`},
		} {
			u := &updates{}
			if err := tc.s.Poll(ctx, u, true); err != nil {
				t.Fatal(err)
			}
			if got := u.take(); got != tc.want {
				t.Errorf("Poll wrote %q, want %q", got, tc.want)
			}
		}
	})
}
