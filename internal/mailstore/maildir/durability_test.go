package maildir

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// TestLazyCommit: a flag change commits with synchronous=NORMAL (as
// Dovecot, no fsync; Store.writeLazy), and every pooled connection is back
// at FULL afterwards, so an APPEND never commits lazily unasked.
func TestLazyCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	uids := appendN(t, s, 1)
	mb := openT(t, s, "INBOX")
	var inside int
	err = s.writeLazy(ctx, func(w *wtx) error {
		return w.tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inside)
	})
	if err != nil || inside != 1 {
		t.Errorf("synchronous in a lazy transaction = %d, %v; want 1 (NORMAL)", inside, err)
	}
	if _, _, err := mb.StoreFlags(ctx, uids, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	// Hold every connection the pool may have (Open allows 8) and ask each.
	for i := range 8 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var level int
		if err := conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil || level != 2 {
			t.Errorf("connection %d: synchronous = %d, %v; want 2 (FULL)", i, level, err)
		}
	}
}
