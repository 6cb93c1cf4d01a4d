package sqlindex

import (
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"
)

// Linger is how long an index's *sql.DB stays open after its last user
// released it, so that a user who logs in again (a client reconnecting, a
// webmail, a login storm) finds its connections open: opening one costs
// its pragmas and the parse of the whole schema, most of a login's CPU
// (issue 7). A variable so tests can shorten it.
var Linger = time.Minute

// pool shares one *sql.DB per data source name among a process's stores.
var pool = struct {
	mu sync.Mutex
	m  map[string]*pooled // guarded by mu
}{m: map[string]*pooled{}}

// pooled is one shared *sql.DB. Its fields are guarded by pool.mu.
type pooled struct {
	dsn   string
	path  string
	db    *sql.DB
	refs  int
	info  os.FileInfo // the index file the connections opened; nil until Ready
	timer *time.Timer // closes db after Linger with no users
	gone  bool        // no longer in pool.m: closed after its last user
	stmts stmts       // prepared statements, shared by the users
}

// DB is a handle on a shared *sql.DB, from Open. Close it once. Its
// QueryContext, QueryRowContext and ExecContext run through prepared
// statements shared by every handle on the index (stmts.go).
type DB struct {
	*sql.DB
	p    *pooled
	once sync.Once
}

// Open returns a *sql.DB on the SQLite file at path with the data source
// name dsn, shared with every other open handle of this process on the
// same dsn and file, and kept open for Linger after the last Close. A file
// replaced or removed since (a lost index being rebuilt) gets new
// connections. setup configures a new *sql.DB (connection limits) and runs
// before it is shared.
func Open(dsn, path string, setup func(*sql.DB)) (*DB, error) {
	info, statErr := os.Stat(path)
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if p := pool.m[dsn]; p != nil {
		if statErr == nil && p.info != nil && os.SameFile(p.info, info) {
			p.refs++
			if p.timer != nil {
				p.timer.Stop()
				p.timer = nil
			}
			return &DB{DB: p.db, p: p}, nil
		}
		// Another file now, or not yet known to be the same: leave the
		// old one to its users and give new handles new connections.
		p.gone = true
		delete(pool.m, dsn)
		p.closeIfUnused()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlindex: %w", err)
	}
	if setup != nil {
		setup(db)
	}
	p := &pooled{dsn: dsn, path: path, db: db, refs: 1}
	pool.m[dsn] = p
	return &DB{DB: db, p: p}, nil
}

// Ready records the identity of the file the connections use, once the
// caller made sure it exists (after its schema check): only then may
// later Opens share the handle.
func (d *DB) Ready() {
	info, err := os.Stat(d.p.path)
	if err != nil {
		return
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if d.p.info == nil {
		d.p.info = info
	}
}

// Close releases the handle. The *sql.DB closes Linger after its last
// user, or at once when it was replaced, never used, or Linger is 0.
func (d *DB) Close() error {
	d.once.Do(func() {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		d.p.refs--
		d.p.closeIfUnused()
	})
	return nil
}

// Discard releases the handle and closes the shared *sql.DB once unused,
// without lingering: for an Open whose setup failed.
func (d *DB) Discard() {
	d.once.Do(func() {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		d.p.refs--
		if pool.m[d.p.dsn] == d.p {
			delete(pool.m, d.p.dsn)
		}
		d.p.gone = true
		d.p.closeIfUnused()
	})
}

// closeIfUnused closes or schedules the close of an unused *sql.DB.
// Called with pool.mu held.
func (p *pooled) closeIfUnused() {
	if p.refs > 0 {
		return
	}
	if p.gone || p.info == nil || Linger <= 0 {
		if pool.m[p.dsn] == p {
			delete(pool.m, p.dsn)
		}
		if p.timer != nil {
			p.timer.Stop()
			p.timer = nil
		}
		p.stmts.closeAll()
		p.db.Close()
		return
	}
	if p.timer != nil {
		return
	}
	p.timer = time.AfterFunc(Linger, func() {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		if p.refs > 0 || p.timer == nil {
			return
		}
		p.timer = nil
		p.gone = true
		p.closeIfUnused()
	})
}
