package maildir

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// TestFullIndexIsNoSpace: SQLite's SQLITE_FULL (its file or WAL could not
// grow on a full file system) becomes mailstore.ErrNoSpace, so APPEND gets
// NO [OVERQUOTA] rather than SERVERBUG; other errors pass unchanged.
func TestFullIndexIsNoSpace(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	db.Exec(`CREATE TABLE t (b BLOB)`)
	db.Exec(`PRAGMA max_page_count = 8`)
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.Exec(`INSERT INTO t VALUES (?)`, make([]byte, 4096))
	}
	if got := fullAsNoSpace(full); !errors.Is(got, mailstore.ErrNoSpace) {
		t.Errorf("fullAsNoSpace(%v) = %v, want ErrNoSpace", full, got)
	}
	other := errors.New("something else")
	if got := fullAsNoSpace(other); got != other {
		t.Errorf("fullAsNoSpace(%v) = %v", other, got)
	}
}
