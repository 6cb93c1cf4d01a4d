package integration

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestDemoReuse serves a demo, changes its mail, stops it, and serves the
// same data directory again: the second run must reuse the data (same
// UIDVALIDITY, the flag kept) rather than fail or start afresh.
func TestDemoReuse(t *testing.T) {
	dir := t.TempDir()
	var uidValidity uint32
	t.Run("first", func(t *testing.T) {
		s := startServerIn(t, dir)
		c := loginIMAP(t, s.IMAP, nil)
		defer c.Close()
		sel := selectMailbox(t, c, "INBOX", false)
		uidValidity = sel.UIDValidity
		store := imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}
		if err := c.Store(imap.SeqSetNum(2), &store, nil).Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("second", func(t *testing.T) {
		s := startServerIn(t, dir)
		c := loginIMAP(t, s.IMAP, nil)
		defer c.Close()
		sel := selectMailbox(t, c, "INBOX", false)
		if sel.UIDValidity != uidValidity || sel.NumMessages != 5 {
			t.Errorf("second run: UIDVALIDITY %d, %d messages; want %d and 5", sel.UIDValidity, sel.NumMessages, uidValidity)
		}
		if got := flagsOf(t, c)[2]; got != `\Flagged` {
			t.Errorf("flags of UID 2 after restart = %q, want \\Flagged", got)
		}
	})
}
