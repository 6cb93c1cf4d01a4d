package sqlindex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Queryer is what *sql.DB, *DB and *sql.Tx have in common for reading.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check on an index and
// returns what it reports wrong: nil for a sound file
// (https://sqlite.org/pragma.html#pragma_integrity_check).
func IntegrityCheck(ctx context.Context, q Queryer) []string {
	rows, err := q.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return []string{fmt.Sprintf("integrity_check: %v", err)}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return append(out, fmt.Sprintf("integrity_check: %v", err))
		}
		if line != "ok" {
			out = append(out, line)
		}
	}
	if err := rows.Err(); err != nil {
		out = append(out, fmt.Sprintf("integrity_check: %v", err))
	}
	return out
}

// IsCorrupt reports whether err is SQLite finding its file damaged:
// SQLITE_CORRUPT (11) or SQLITE_NOTADB (26), in their primary or extended
// forms (https://sqlite.org/rescode.html).
func IsCorrupt(err error) bool {
	var ce interface{ Code() int }
	if errors.As(err, &ce) {
		c := ce.Code() & 0xff
		return c == 11 || c == 26
	}
	return false
}

// IsFull reports whether err is SQLite unable to grow its file or its
// write-ahead log: SQLITE_FULL (13), what a full file system gives.
func IsFull(err error) bool {
	var ce interface{ Code() int }
	return errors.As(err, &ce) && ce.Code()&0xff == 13
}

// MoveAside renames a damaged index file, with its -wal and -shm, to
// PATH.corrupt-UNIXTIME (kept for a post-mortem), so the next open makes
// a new one; it returns the new name.
func MoveAside(path string, now time.Time) (string, error) {
	dst := fmt.Sprintf("%s.corrupt-%d", path, now.Unix())
	for _, ext := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+ext, dst+ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("sqlindex: %w", err)
		}
	}
	return dst, nil
}

// Probe opens an index read-only and reads its schema, the first thing
// every open does: a damaged file gives an error IsCorrupt recognizes. A
// missing file is no error. Nothing is written (postern fsck without
// --repair).
func Probe(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlindex: %w", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		return fmt.Errorf("sqlindex: %s: %w", path, err)
	}
	return nil
}
