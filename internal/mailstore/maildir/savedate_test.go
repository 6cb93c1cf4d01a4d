package maildir

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// TestSaveDateOldIndex checks the upgrade of an index made before save
// dates were kept (RFC 8514): it opens, its messages have no SaveDate
// (SAVEDATE NIL), and messages stored from then on have one.
func TestSaveDateOldIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	open := func() *Store {
		st, err := Open(dir, Options{NoFsync: true, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	if _, _, err := st.Append(ctx, "INBOX", strings.NewReader("Subject: old\r\n\r\nx\r\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	// An index from before savedate also had no schema version.
	if _, err := db.Exec(`DROP TABLE savedate; PRAGMA user_version = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st = open()
	defer st.Close()
	now = now.Add(time.Hour)
	if _, _, err := st.Append(ctx, "INBOX", strings.NewReader("Subject: new\r\n\r\ny\r\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	info, err := mb.Info(ctx, []uint32{1, 2})
	if err != nil || len(info) != 2 {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if !info[0].SaveDate.IsZero() {
		t.Errorf("SaveDate of a message from the old index = %v, want zero", info[0].SaveDate)
	}
	if !info[1].SaveDate.Equal(now) {
		t.Errorf("SaveDate of a new message = %v, want %v", info[1].SaveDate, now)
	}
}
