// Package sqlindex holds what the drivers' SQLite indexes (DESIGN.md §4)
// do the same way inside a write transaction: statements prepared once
// per transaction, and the UIDVALIDITY counter of the meta table.
package sqlindex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Tx is one write transaction of an index.
type Tx struct {
	ctx    context.Context
	tx     *sql.Tx
	prefix string               // error prefix, e.g. "maildir: index"
	stmts  map[string]*sql.Stmt // closed with the transaction (database/sql)
	db     *DB                  // when set, statements come from its shared ones
}

// NewTx wraps tx; errors are prefixed with prefix.
func NewTx(ctx context.Context, tx *sql.Tx, prefix string) *Tx {
	return &Tx{ctx: ctx, tx: tx, prefix: prefix}
}

// Exec runs a statement, prepared once per transaction: many run once per
// message, and preparing costs about as much as running.
func (t *Tx) Exec(query string, args ...any) error {
	st := t.stmts[query]
	if st == nil {
		var err error
		if shared := t.sharedStmt(query); shared != nil {
			st = t.tx.StmtContext(t.ctx, shared)
		} else if st, err = t.tx.PrepareContext(t.ctx, query); err != nil {
			return fmt.Errorf("%s: %w", t.prefix, err)
		}
		if t.stmts == nil {
			t.stmts = map[string]*sql.Stmt{}
		}
		t.stmts[query] = st
	}
	if _, err := st.ExecContext(t.ctx, args...); err != nil {
		return fmt.Errorf("%s: %w", t.prefix, err)
	}
	return nil
}

// NewTx is NewTx for a transaction begun on d: its statements come from
// the ones d's index shares, prepared once per connection rather than once
// per transaction.
func (d *DB) NewTx(ctx context.Context, tx *sql.Tx, prefix string) *Tx {
	return &Tx{ctx: ctx, tx: tx, prefix: prefix, db: d}
}

func (t *Tx) sharedStmt(query string) *sql.Stmt {
	if t.db == nil {
		return nil
	}
	return t.db.p.stmts.get(t.ctx, t.db.DB, query)
}

// NextUIDValidity returns a UIDVALIDITY never handed out before by this
// index: now, or one more than the last when the clock has not moved on
// (RFC 3501 §2.3.1.1: a re-created mailbox must get a new one). The meta
// table has columns key and value.
func (t *Tx) NextUIDValidity(now time.Time) (uint32, error) {
	var last int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT value FROM meta WHERE key = 'uidvalidity'`).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w", t.prefix, err)
	}
	uv := now.Unix()
	if uv <= last {
		uv = last + 1
	}
	if uv <= 0 || uv > 0xffffffff {
		uv = 1
	}
	if err := t.Exec(`INSERT INTO meta(key, value) VALUES ('uidvalidity', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, uv); err != nil {
		return 0, err
	}
	return uint32(uv), nil
}

// NoteUIDValidity records a UIDVALIDITY taken from outside (a file's
// header, an import), so that later ones handed out are greater.
func (t *Tx) NoteUIDValidity(uv uint32) error {
	return t.Exec(`INSERT INTO meta(key, value) VALUES ('uidvalidity', ?)
		ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)`, int64(uv))
}
