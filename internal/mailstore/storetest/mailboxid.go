package storetest

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// testMailboxID checks the OBJECTID rules of RFC 8474 §4: every mailbox has
// an ID in objectid syntax, no two current mailboxes share one, RENAME keeps
// it (children's too), a re-created mailbox gets a new one, and renaming
// INBOX makes a new mailbox (RFC 3501 §6.3.5), whose ID is not INBOX's.
func testMailboxID(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	id := func(name string) string {
		t.Helper()
		st, err := s.Status(ctx, name)
		if err != nil {
			t.Fatalf("Status(%s): %v", name, err)
		}
		mb := mustOpen(t, s, name)
		defer mb.Close()
		ms, err := mb.State(ctx)
		if err != nil {
			t.Fatalf("State(%s): %v", name, err)
		}
		if st.MailboxID != ms.MailboxID {
			t.Errorf("%s: Status MailboxID %q, State MailboxID %q", name, st.MailboxID, ms.MailboxID)
		}
		if !validObjectID(st.MailboxID) {
			t.Errorf("%s: MailboxID %q is not an RFC 8474 objectid", name, st.MailboxID)
		}
		return st.MailboxID
	}
	mustCreate(t, s, "A", "")
	mustCreate(t, s, "A/Child", "")
	mustCreate(t, s, "B", "")
	inbox, a, child, b := id("INBOX"), id("A"), id("A/Child"), id("B")
	seen := map[string]string{}
	for name, v := range map[string]string{"INBOX": inbox, "A": a, "A/Child": child, "B": b} {
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s share MailboxID %q", name, other, v)
		}
		seen[v] = name
	}
	if again := id("INBOX"); again != inbox {
		t.Errorf("INBOX MailboxID changed from %q to %q", inbox, again)
	}
	if err := s.Rename(ctx, "A", "C"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if got := id("C"); got != a {
		t.Errorf("after RENAME A C: MailboxID %q, want A's %q", got, a)
	}
	if got := id("C/Child"); got != child {
		t.Errorf("after RENAME A C: child's MailboxID %q, want %q", got, child)
	}
	if err := s.Delete(ctx, "B"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustCreate(t, s, "B", "")
	if got := id("B"); got == b || seen[got] != "" {
		t.Errorf("re-created B has MailboxID %q, already used (%q)", got, seen[got])
	}
	if err := s.Rename(ctx, "INBOX", "Old"); err != nil {
		t.Fatalf("Rename INBOX: %v", err)
	}
	if got := id("Old"); got == inbox {
		t.Errorf("mailbox made by RENAME INBOX has INBOX's MailboxID %q", got)
	}
}

// validObjectID reports whether s is an objectid (RFC 8474 §7:
// 1*255(ALPHA / DIGIT / "_" / "-")).
func validObjectID(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
