package sqlindex

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the prepared statements kept per index: queries built
// with a varying number of placeholders (uid IN (?,?,...)) beyond it run
// unprepared.
const maxStmts = 128

// stmts keeps the statements run outside transactions prepared, once per
// shared *sql.DB (and, inside database/sql, once per connection): with
// modernc's SQLite, preparing a statement costs about as much as running
// a small one, and the hot paths (a mailbox row, one message's row per
// message opened by SEARCH or FETCH) run the same few again and again.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt // guarded by mu
}

// get returns the prepared statement for query, or nil when the cache is
// full or preparing failed (the caller then runs it unprepared, and gets
// the error there).
func (c *stmts) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		st.Close()
		return old
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st
}

// closeAll closes the statements, before their *sql.DB.
func (c *stmts) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// QueryContext runs query as *sql.DB does, through a prepared statement.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.p.stmts.get(ctx, d.DB, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query as *sql.DB does, through a prepared
// statement.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.p.stmts.get(ctx, d.DB, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// ExecContext runs query as *sql.DB does, through a prepared statement.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := d.p.stmts.get(ctx, d.DB, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, query, args...)
}

// TxQuerier runs a transaction's queries through the statements prepared
// for its index (database/sql reuses the one already prepared on the
// transaction's connection), as DB does outside transactions.
type TxQuerier struct {
	Tx *sql.Tx
	db *DB
}

// Querier returns the TxQuerier of tx, a transaction begun on d.
func (d *DB) Querier(tx *sql.Tx) *TxQuerier { return &TxQuerier{Tx: tx, db: d} }

// stmt returns tx's statement for query, or nil to run it unprepared.
func (q *TxQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := q.db.p.stmts.get(ctx, q.db.DB, query); st != nil {
		return q.Tx.StmtContext(ctx, st)
	}
	return nil
}

// QueryContext runs query in the transaction.
func (q *TxQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (q *TxQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.Tx.QueryRowContext(ctx, query, args...)
}

// ExecContext runs query in the transaction.
func (q *TxQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.Tx.ExecContext(ctx, query, args...)
}
