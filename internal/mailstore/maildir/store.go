package maildir

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/fanout"
	"github.com/postern/postern/internal/mailstore/fswatch"
	"github.com/postern/postern/internal/mailstore/sqlindex"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// IndexName is the file name of the per-user index inside the Maildir root.
const IndexName = "postern-index.sqlite"

// Store is one user's Maildir with its SQLite index. It implements
// mailstore.Store and is safe for concurrent use; several processes may
// open the same Maildir.
type Store struct {
	root string
	opts Options
	log  *slog.Logger
	db   *sqlindex.DB // shared in the process (sqlindex.Open); statements prepared once
	sh   *shared
	shID string // sh's key in the registry
	// blobMin is the size from which a mailbox's metadata is also kept
	// as a blob (blobMinMessages; tests lower it).
	blobMin int
	// verifyReuse is how long a sameOnDisk check stays valid
	// (verifyReuse; tests set 0 to check every time).
	verifyReuse time.Duration

	pollMu  sync.Mutex
	watched map[int64]int // open watching handles per mailbox id; guarded by pollMu
	// watchBase is each watched mailbox's HIGHESTMODSEQ when its watch
	// began, the poller's first point of comparison; guarded by pollMu.
	watchBase map[int64]uint64
	pollStop  chan struct{} // closes to stop the poller; guarded by pollMu
	pollDone  chan struct{} // closed when the poller exits; guarded by pollMu
	// subs are the file watches of the watched mailboxes (nil where
	// watching failed); guarded by pollMu.
	subs map[int64]*fswatch.Sub
	// fsSignal receives (coalesced) when a watched folder changed.
	fsSignal chan struct{}
	// idxSub watches the index while the poller runs; guarded by pollMu.
	idxSub *fswatch.Sub
	// idxSignal receives (coalesced) when the index's -wal changed.
	idxSignal chan struct{}
}

var _ mailstore.Store = (*Store)(nil)

// shared is the state of one index file shared by every Store of this
// process that has it open.
type shared struct {
	// wmu serializes this process's write transactions so goroutines queue
	// here instead of spinning in SQLite's busy handler.
	wmu sync.Mutex

	// watchers are this process's handles watching each mailbox.
	watchers fanout.Watchers

	meta metaCache

	// verified is the last agreeing sameOnDisk check of each mailbox.
	verified verified

	// uidChecks holds the mailboxes checked for lost APPEND commits in
	// this process (lostcommits.go).
	uidChecks uidChecks

	// spares lists each folder's spare files (spares.go).
	spares spareFiles
}

// sharedLinger is how long an index's shared state (above all the
// metadata cache) outlives its last Store: the next login of the user
// then SELECTs a large mailbox from memory instead of reloading it (issue
// 7). The same as the index's connections (sqlindex.Linger), which the
// cache needs anyway.
func sharedLinger() time.Duration { return sqlindex.Linger }

// registry is the process-wide table of open indexes, keyed by index path,
// so every handle on a mailbox is told of a commit by any other.
var registry fanout.Registry[shared]

func acquireShared(path string) *shared {
	return registry.Acquire(path, func() *shared { return new(shared) })
}

func releaseShared(path string) { registry.ReleaseLater(path, sharedLinger()) }

// Open opens the Maildir at root (INBOX is root itself: root/cur, root/new,
// root/tmp), creating it and its index (root/postern-index.sqlite) when
// missing.
//
// The index runs in WAL mode so readers never wait for a writer; writes are
// BEGIN IMMEDIATE transactions, and busy_timeout lets several processes
// share the file. synchronous=FULL (unless Options.NoFsync): with WAL,
// NORMAL may lose the last commits on power loss, and UIDs already
// reported to clients (COPYUID) must not be handed out again; FULL costs
// one fsync of the WAL per commit. Flag changes, expunges and cached data
// commit with NORMAL (writeLazy), as Dovecot does not fsync those either;
// so does APPEND, whose file and uidlist line are durable before its OK
// (lostcommits.go).
//
// An index SQLite reports damaged (not a database, or malformed where
// Open reads it) is moved aside to IndexName.corrupt-TIME and made again
// from the folders, with the UIDVALIDITY and UIDs of their postern-uidlist
// files, as Dovecot rebuilds a corrupted index: the user keeps their mail
// and clients their caches. Damage further in is found by `postern fsck`.
func Open(root string, opts Options) (*Store, error) {
	s, err := open(root, opts)
	if err == nil || !sqlindex.IsCorrupt(err) {
		return s, err
	}
	abs, aerr := filepath.Abs(root)
	if aerr != nil {
		return nil, err
	}
	dst, merr := sqlindex.MoveAside(filepath.Join(filepath.Clean(abs), IndexName), time.Now())
	if merr != nil {
		return nil, err
	}
	opts.withDefaults().Logger.Warn("maildir: damaged index moved aside; rebuilding it from the folders, keeping UIDs", "root", abs, "moved_to", dst, "err", err)
	return open(root, opts)
}

func open(root string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	abs = filepath.Clean(abs)
	for _, d := range []string{abs, filepath.Join(abs, "cur"), filepath.Join(abs, "new"), filepath.Join(abs, "tmp")} {
		if err := os.MkdirAll(d, opts.DirMode); err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
	}
	path := filepath.Join(abs, IndexName)
	sync := "FULL"
	if opts.NoFsync {
		sync = "OFF"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(OFF)")
	q.Set("_txlock", "immediate")
	// One *sql.DB per index in the process, shared by the user's
	// sessions and kept open a while after the last: a login then costs
	// no connection open, pragmas or schema parse (sqlindex.Linger).
	dbh, err := sqlindex.Open("file:"+path+"?"+q.Encode(), path, func(db *sql.DB) {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(4)
	})
	if err != nil {
		return nil, fmt.Errorf("maildir: open index: %w", err)
	}
	s := &Store{root: abs, opts: opts, log: opts.Logger, db: dbh, watched: map[int64]int{}, watchBase: map[int64]uint64{}, subs: map[int64]*fswatch.Sub{},
		fsSignal: make(chan struct{}, 1), idxSignal: make(chan struct{}, 1), blobMin: blobMinMessages,
		verifyReuse: verifyReuse}
	if err := s.initSchema(); err != nil {
		dbh.Discard()
		return nil, err
	}
	dbh.Ready()
	s.sh, s.shID = acquireShared(path), path
	s.removeTrash()
	return s, nil
}

// schemaVersion is what PRAGMA user_version holds in an index whose schema
// is up to date: a hash of the schema's text, so that any change to it (a
// new table, from whichever branch) runs it again on indexes made before.
var schemaVersion = func() int32 {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return int32(h.Sum32()&0x7fffffff) | 1 // never 0, a new file's value
}()

// initSchema creates or completes the index's tables. An index already at
// schemaVersion is left alone after one read of its header: running the
// schema's CREATE ... IF NOT EXISTS statements on every Open costs a write
// lock and the parse of each statement, most of a login's CPU (issue 7).
func (s *Store) initSchema() error {
	ctx := context.Background()
	var v int32
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err == nil && v == schemaVersion {
		return nil
	}
	// Schema creation takes the write lock: two processes opening a new
	// Maildir at once must not both import the subscriptions file.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'mailboxes'`).Scan(&n); err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("maildir: index schema: %w", err)
	}
	// A PRAGMA takes no parameters; schemaVersion is a number we made.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("maildir: index schema: %w", err)
	}
	if n == 0 {
		// A new (or lost and re-created) index starts its epoch at
		// random: a process may still hold the metadata of the file it
		// replaces (the cache outlives the last Store, sharedLinger),
		// whose epoch, UIDVALIDITY and HIGHESTMODSEQ a rebuilt index
		// could match; an inode number is no better, it is reused.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?)`, rand.Int64N(1<<52)+1); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		// Recover what lives in files.
		for _, name := range s.readSubscriptions() {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions(name) VALUES (?)`, name); err != nil {
				return fmt.Errorf("maildir: index: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	return nil
}

// removeTrash finishes deletions of mailboxes interrupted by a crash.
func (s *Store) removeTrash() {
	ents, _ := os.ReadDir(s.root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			os.RemoveAll(filepath.Join(s.root, e.Name()))
		}
	}
}

// Close implements mailstore.Store.
func (s *Store) Close() error {
	s.pollMu.Lock()
	stop, done := s.pollStop, s.pollDone
	s.pollStop, s.pollDone = nil, nil
	for id, sub := range s.subs {
		if sub != nil {
			sub.Close()
		}
		delete(s.subs, id)
	}
	if s.idxSub != nil {
		s.idxSub.Close()
		s.idxSub = nil
	}
	s.pollMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	releaseShared(s.shID)
	return s.db.Close()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// wtx is a write transaction: BEGIN IMMEDIATE, so it holds the index's
// write lock from its start, and every file operation done in it is
// serialized with other processes' writes.
type wtx struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	qtx     *sqlindex.TxQuerier // tx's queries through the index's shared statements
	touched map[int64]bool      // mailboxes whose watchers are signalled on commit
	saved   map[int64]uint64    // the HIGHESTMODSEQ saved for each mailbox row
	after   []func()            // run after a successful commit
	undo    []func()            // run after a rollback
	// imported holds, per mailbox row made from a folder the index did not
	// know, the base -> UID map of its uidlist, for the first sync.
	imported map[int64]map[string]uint32
	// q prepares statements once per transaction and keeps the
	// UIDVALIDITY counter (shared with the other driver).
	q *sqlindex.Tx
	// mustSync is set when the transaction gave out UIDs: a lazy one
	// (writeLazy) then syncs the WAL after all.
	mustSync bool
	// agreed holds the mailboxes sync found agreeing with their
	// directories, and rows the last row saved of each: carryVerified
	// notes them after the commit.
	agreed map[int64]agreedSince
	rows   map[int64]mboxRow
}

// write runs fn in a write transaction, committed durably
// (synchronous=FULL: the WAL is fsynced).
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	return s.writeTx(ctx, false, fn)
}

// writeLazy runs fn in a write transaction whose loss on power failure is
// acceptable, as Dovecot's default durability (mail_fsync = optimized)
// has it: flag changes, expunges, \Recent claims and cached data commit
// with synchronous=NORMAL, without an fsync of the WAL (Dovecot fsyncs
// neither its index log on those). A crash of the process loses nothing:
// the WAL is written. A power loss may lose the last such commits: flags
// and expunges come back as they were, and their MODSEQs may be given out
// again. What a client must never see twice stays durable: new messages
// and their UIDs (COPY, MOVE, and a merge that picks up delivered mail,
// even inside a lazy transaction: mustSync) are fsynced; an APPEND's
// message and UID are durable in its file and its uidlist line, which
// it fsyncs itself, and recoverUIDs takes back what its lazy commit
// lost.
func (s *Store) writeLazy(ctx context.Context, fn func(w *wtx) error) error {
	return s.writeTx(ctx, !s.opts.NoFsync, fn)
}

// writeTx is write, or writeLazy when lazy is set. SQLite refuses to
// change the synchronous level inside a transaction, so a lazy one takes
// a connection of its own, lowers the level, and puts it back after.
func (s *Store) writeTx(ctx context.Context, lazy bool, fn func(w *wtx) error) error {
	s.sh.wmu.Lock()
	defer s.sh.wmu.Unlock()
	var tx *sql.Tx
	var err error
	if lazy {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("maildir: begin: %w", err)
		}
		defer restoreFull(conn)
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			return fmt.Errorf("maildir: begin: %w", err)
		}
		tx, err = conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("maildir: begin: %w", err)
		}
	} else if tx, err = s.db.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("maildir: begin: %w", err)
	}
	w := &wtx{s: s, ctx: ctx, tx: tx, qtx: s.db.Querier(tx), touched: map[int64]bool{}, saved: map[int64]uint64{}, q: s.db.NewTx(ctx, tx, "maildir: index")}
	if err := fn(w); err != nil {
		err = fullAsNoSpace(err)
		tx.Rollback()
		for _, u := range w.undo {
			u()
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		for _, u := range w.undo {
			u()
		}
		return fullAsNoSpace(fmt.Errorf("maildir: commit: %w", err))
	}
	if lazy && w.mustSync {
		// The WAL holds the commit; its fsync is what FULL would have done.
		if err := syncFile(filepath.Join(s.root, IndexName) + "-wal"); err != nil {
			return fmt.Errorf("maildir: commit: %w", err)
		}
	}
	w.carryVerified()
	for _, a := range w.after {
		a()
	}
	for id := range w.touched {
		if ms, ok := w.saved[id]; ok {
			s.sh.watchers.NotifyAt(id, ms)
		} else {
			s.sh.watchers.Notify(id)
		}
	}
	return nil
}

// restoreFull puts a connection lowered by writeLazy back to
// synchronous=FULL before it returns to the pool, or drops it from the
// pool when that fails: no later transaction may commit lazily unasked.
func restoreFull(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// syncFile fsyncs a file.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// bumpEpoch marks the removal of mailbox rows: a row id may be handed out
// again, and Reindex gives the same UIDVALIDITY to a mailbox with new
// MODSEQs, so cached metadata must not be taken for the new row's.
func (w *wtx) bumpEpoch() error {
	return w.exec(`INSERT INTO meta(key, value) VALUES ('epoch', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1`)
}

// exec runs a statement (sqlindex.Tx.Exec).
func (w *wtx) exec(query string, args ...any) error { return w.q.Exec(query, args...) }

// fullAsNoSpace gives SQLite's "database or disk is full" (the index or its
// write-ahead log could not grow) the kind mailstore.ErrNoSpace, as a mail
// file's ENOSPC has, so the client hears NO [OVERQUOTA], not SERVERBUG.
func fullAsNoSpace(err error) error {
	if sqlindex.IsFull(err) && !errors.Is(err, mailstore.ErrNoSpace) {
		return fmt.Errorf("maildir: index: %w: %w", mailstore.ErrNoSpace, err)
	}
	return err
}
