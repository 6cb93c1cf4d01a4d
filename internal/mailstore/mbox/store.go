package mbox

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
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

// Store is one user's mbox files with their SQLite index. It implements
// mailstore.Store and is safe for concurrent use; several processes may
// open the same store.
type Store struct {
	opts  Options
	log   *slog.Logger
	db    *sqlindex.DB
	sh    *shared
	shID  string
	inbox string // path of the INBOX file
	// realRoot is opts.Root with symbolic links resolved: where every
	// mailbox other than INBOX must really be (confine.go).
	realRoot string

	// Test hooks (export_test.go).
	forceHelper bool                 // take dotlocks through the helper
	crashAfter  int64                // stop after so many rewrite bytes (crashPoint)
	crashHook   func()               // called there; never returns
	beforeRead  func()               // tests: called between OpenMessage's merge and read
	afterApply  func(journal string) // tests: called when a rewrite is applied
	readOnly    bool                 // OpenReadOnly: mailbox files are never written

	pollMu     sync.Mutex
	watchNames map[string]int // open watching handles per mailbox name; guarded by pollMu
	// watchBase is each watched mailbox's HIGHESTMODSEQ when its watch
	// began, the poller's first point of comparison; guarded by pollMu.
	watchBase map[string]uint64
	pollStop  chan struct{} // guarded by pollMu
	pollDone  chan struct{} // guarded by pollMu
	// subs are the file watches of the watched mailboxes (nil where
	// watching failed); guarded by pollMu.
	subs map[string]*fswatch.Sub
	// fsSignal receives (coalesced) when a watched mailbox file changed.
	fsSignal chan struct{}
	// idxSub watches the index while the poller runs; guarded by pollMu.
	idxSub *fswatch.Sub
	// idxSignal receives (coalesced) when the index's -wal changed.
	idxSignal chan struct{}
}

var _ mailstore.Store = (*Store)(nil)

// shared is the state of one index shared by every Store of this process
// that has it open.
type shared struct {
	// wmu serializes this process's write transactions, so goroutines
	// queue here rather than in SQLite's busy handler. Every write to a
	// mailbox file happens inside one.
	wmu sync.Mutex
	// fileMu keeps readers of this process (OpenMessage) out of mailbox
	// files while a write transaction changes them in place: fcntl and
	// flock locks are per open file, so they cannot do this within one
	// process. Readers hold it shared, file writers exclusively.
	fileMu sync.RWMutex

	// watchers are this process's handles watching each mailbox.
	watchers fanout.Watchers
}

// registry is the process-wide table of open indexes, keyed by index path,
// so every handle on a mailbox is told of a commit by any other.
var registry fanout.Registry[shared]

func acquireShared(path string) *shared {
	return registry.Acquire(path, func() *shared { return new(shared) })
}

func releaseShared(path string) { registry.Release(path) }

// Open opens a user's mbox store: INBOX at opts.Inbox (or Root/mbox under
// HomeMboxInbox), the other mailboxes under opts.Root, the index at
// opts.IndexPath, all created when missing except the INBOX file, which
// is created at the first delivery. Interrupted rewrites found in the
// journal directory are finished first (see doc.go).
//
// An index SQLite reports damaged (not a database, or malformed where
// Open reads it) is moved aside to its name plus .corrupt-TIME and made
// again from the files (UIDs from X-UID and X-IMAP(base)), as Dovecot
// rebuilds a corrupted index. Damage further in is found by `postern fsck`.
func Open(opts Options) (mailstore.Store, error) {
	return open(opts)
}

func open(opts Options) (*Store, error) {
	s, err := openOnce(opts)
	if err == nil || !sqlindex.IsCorrupt(err) || opts.Root == "" {
		return s, err
	}
	root, aerr := filepath.Abs(opts.Root)
	if aerr != nil {
		return nil, err
	}
	o := opts
	o.Root = root
	o = o.withDefaults()
	dst, merr := sqlindex.MoveAside(o.IndexPath, time.Now())
	if merr != nil {
		return nil, err
	}
	o.Logger.Warn("mbox: damaged index moved aside; rebuilding it from the mailbox files", "index", o.IndexPath, "moved_to", dst, "err", err)
	return openOnce(opts)
}

func openOnce(opts Options) (*Store, error) {
	if opts.Root == "" {
		return nil, errors.New("mbox: Options.Root is required")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	opts.Root = root
	opts = opts.withDefaults()
	if err := os.MkdirAll(opts.Root, opts.DirMode); err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	if err := os.MkdirAll(journalDir(opts.IndexPath), 0o700); err != nil {
		return nil, fmt.Errorf("mbox: %w", err)
	}
	inbox := opts.Inbox
	realRoot := realRootOf(opts.Root)
	if opts.HomeMboxInbox {
		// naming.txt: ~/mbox, when it exists, is INBOX (UW moved spool mail
		// into it). A link is taken only to a file under the root or to
		// the spool file itself: never to another user's or root's file.
		home := filepath.Join(opts.Root, "mbox")
		if fi, err := os.Stat(home); err == nil && fi.Mode().IsRegular() {
			real, err := filepath.EvalSymlinks(home)
			spool, _ := filepath.EvalSymlinks(opts.Inbox)
			if err == nil && (within(real, realRoot) || real == spool) {
				inbox = home
			} else {
				opts.Logger.Warn("mbox: ~/mbox is a link out of the mail directory: not used as INBOX", "path", home, "target", real)
			}
		}
	}
	sync := "FULL"
	if opts.NoFsync {
		sync = "OFF"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Set("_txlock", "immediate")
	// Through sqlindex, as the Maildir store: the statements run outside
	// transactions are prepared once, not parsed at each call (a fifth of
	// a session's CPU under the mixed load, issue 7), and the handle is
	// shared by the process's Stores on the same index.
	db, err := sqlindex.Open("file:"+opts.IndexPath+"?"+q.Encode(), opts.IndexPath, func(db *sql.DB) {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	})
	if err != nil {
		return nil, fmt.Errorf("mbox: open index: %w", err)
	}
	s := &Store{opts: opts, log: opts.Logger, db: db, inbox: inbox, realRoot: realRoot,
		subs: map[string]*fswatch.Sub{}, fsSignal: make(chan struct{}, 1), idxSignal: make(chan struct{}, 1)}
	if err := s.initSchema(); err != nil {
		db.Discard()
		return nil, err
	}
	db.Ready()
	s.sh, s.shID = acquireShared(opts.IndexPath), opts.IndexPath
	return s, nil
}

// schemaVersion is what PRAGMA user_version holds in an index whose schema
// is up to date: a hash of the schema's text, so that any change to it
// runs it again on indexes made before.
var schemaVersion = func() int32 {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return int32(h.Sum32()&0x7fffffff) | 1 // never 0, a new file's value
}()

// initSchema creates or completes the index's tables. An index already at
// schemaVersion is left alone after one read of its header: running the
// schema on every Open costs a write lock and the parse of each statement,
// most of a login's CPU (issue 7).
func (s *Store) initSchema() error {
	ctx := context.Background()
	var v int32
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err == nil && v == schemaVersion {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mbox: index: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'mailboxes'`).Scan(&n); err != nil {
		return fmt.Errorf("mbox: index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("mbox: index schema: %w", err)
	}
	// A PRAGMA takes no parameters; schemaVersion is a number we made.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("mbox: index schema: %w", err)
	}
	if n == 0 {
		// A new index: UW kept subscriptions in ~/.mailboxlist.
		for _, name := range s.readMailboxList() {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscriptions(name) VALUES (?)`, name); err != nil {
				return fmt.Errorf("mbox: index: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mbox: index: %w", err)
	}
	return nil
}

// readMailboxList returns the names in UW's subscription file.
func (s *Store) readMailboxList() []string {
	f, err := os.Open(filepath.Join(s.opts.Root, ".mailboxlist"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if n, err := mailstore.CanonicalName(strings.TrimSpace(sc.Text())); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Close implements mailstore.Store.
func (s *Store) Close() error {
	s.pollMu.Lock()
	stop, done := s.pollStop, s.pollDone
	s.pollStop, s.pollDone = nil, nil
	for name, sub := range s.subs {
		if sub != nil {
			sub.Close()
		}
		delete(s.subs, name)
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

// wtx is a write transaction (BEGIN IMMEDIATE: it holds the index's write
// lock from its start, so file writes done in it are serialized with
// other processes' writes).
type wtx struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	touched map[int64]bool
	saved   map[int64]uint64 // the HIGHESTMODSEQ saved for each mailbox row
	after   []func()
	// undo runs after a rollback or a failed commit, while the files
	// written in the transaction are still locked (appendMsgs).
	undo []func()
	q    *sqlindex.Tx // statements prepared once; the UIDVALIDITY counter
}

// write runs fn in a write transaction.
//
// A write that must rewrite a file a c-client session holds
// (errUWSession) is run again, every sessionRetry, until the session ends
// or SessionLockWait has passed: fn must be one that can run again (it
// starts from what it reads in the transaction).
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	deadline := time.Now().Add(s.opts.SessionLockWait)
	for {
		err := s.writeOnce(ctx, fn)
		if !errors.Is(err, errUWSession) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(sessionRetry):
		}
	}
}

// sessionRetry is the pause between tries of a write waiting for a
// c-client session to end.
const sessionRetry = 50 * time.Millisecond

// writeOnce is one try of write.
func (s *Store) writeOnce(ctx context.Context, fn func(w *wtx) error) error {
	s.sh.wmu.Lock()
	defer s.sh.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mbox: begin: %w", err)
	}
	w := &wtx{s: s, ctx: ctx, tx: tx, touched: map[int64]bool{}, saved: map[int64]uint64{}, q: sqlindex.NewTx(ctx, tx, "mbox: index")}
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
		return fullAsNoSpace(fmt.Errorf("mbox: commit: %w", err))
	}
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

// exec runs a statement (sqlindex.Tx.Exec).
func (w *wtx) exec(query string, args ...any) error { return w.q.Exec(query, args...) }

func notExist(name string) error {
	return fmt.Errorf("mbox: %q: %w", name, mailstore.ErrNotExist)
}

// ioErr wraps a file system error, mapping a full disk or quota to the
// mailstore kinds.
func ioErr(what string, err error) error {
	switch {
	case errors.Is(err, errNoSpace):
		return fmt.Errorf("mbox: %s: %w: %w", what, mailstore.ErrNoSpace, err)
	case errors.Is(err, errQuota):
		return fmt.Errorf("mbox: %s: %w: %w", what, mailstore.ErrQuota, err)
	}
	return fmt.Errorf("mbox: %s: %w", what, err)
}

// fullAsNoSpace gives SQLite's "database or disk is full" (the index or its
// write-ahead log could not grow) the kind mailstore.ErrNoSpace, as a mail
// file's ENOSPC has, so the client hears NO [OVERQUOTA], not SERVERBUG.
func fullAsNoSpace(err error) error {
	if sqlindex.IsFull(err) && !errors.Is(err, mailstore.ErrNoSpace) {
		return fmt.Errorf("mbox: index: %w: %w", mailstore.ErrNoSpace, err)
	}
	return err
}
