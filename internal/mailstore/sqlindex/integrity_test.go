package sqlindex_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore/sqlindex"

	_ "modernc.org/sqlite"
)

// fullError returns the error SQLite gives when its file cannot grow
// (max_page_count stands in for a full file system).
func fullError(t *testing.T) error {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`CREATE TABLE t (b BLOB)`, `PRAGMA max_page_count = 8`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		if _, err := db.Exec(`INSERT INTO t VALUES (?)`, make([]byte, 4096)); err != nil {
			return err
		}
	}
	t.Fatal("max_page_count never hit")
	return nil
}

// TestErrorKinds: SQLITE_FULL is IsFull, a file of random bytes gives an
// error IsCorrupt recognizes (from Probe too), a sound index neither.
func TestErrorKinds(t *testing.T) {
	full := fullError(t)
	if !sqlindex.IsFull(full) || sqlindex.IsCorrupt(full) {
		t.Errorf("SQLITE_FULL %v: IsFull %v IsCorrupt %v", full, sqlindex.IsFull(full), sqlindex.IsCorrupt(full))
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.sqlite")
	os.WriteFile(bad, []byte(strings.Repeat("not a database at all ", 300)), 0o600)
	err := sqlindex.Probe(bad)
	if !sqlindex.IsCorrupt(err) || sqlindex.IsFull(err) {
		t.Errorf("Probe(garbage) = %v: IsCorrupt %v", err, sqlindex.IsCorrupt(err))
	}
	if err := sqlindex.Probe(filepath.Join(dir, "missing.sqlite")); err != nil {
		t.Errorf("Probe(missing) = %v", err)
	}
	good := filepath.Join(dir, "good.sqlite")
	db, _ := sql.Open("sqlite", "file:"+good)
	db.Exec(`CREATE TABLE t (x)`)
	if lines := sqlindex.IntegrityCheck(context.Background(), db); lines != nil {
		t.Errorf("IntegrityCheck(sound) = %q", lines)
	}
	db.Close()
	if err := sqlindex.Probe(good); err != nil {
		t.Errorf("Probe(sound) = %v", err)
	}
	moved, err := sqlindex.MoveAside(bad, time.Unix(1700000000, 0))
	if err != nil || moved != bad+".corrupt-1700000000" {
		t.Errorf("MoveAside = %q, %v", moved, err)
	}
	if _, err := os.Stat(moved); err != nil {
		t.Errorf("moved file: %v", err)
	}
}
