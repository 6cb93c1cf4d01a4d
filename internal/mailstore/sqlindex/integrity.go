package sqlindex

import (
	"context"
	"database/sql"
	"fmt"
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
