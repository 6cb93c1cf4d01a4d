package mbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// schema is the per-user index (DESIGN.md §4). The mbox files are the
// truth for content and, through X-UID and X-IMAP(base), for UIDs; the
// index is the truth for metadata not yet written back (rows with dirty
// set) and for what the files cannot hold (MODSEQs, expunged UIDs, cached
// structures, subscriptions, special-use).
//
// mailboxes records, per mailbox, what the file looked like when last
// read or written (fsize, fmtime in ns, fino, and tail: a hash of the
// last tailLen bytes), so an unchanged file costs one stat; fsize is -1
// for a mailbox with no file yet and -2 for one never read. keywords is
// the mailbox's keyword list (X-IMAP(base)); base_dirty says the file's
// copy of UIDLAST or the keywords lags.
//
// messages: offsets of each message in the file (see rawMsg), its visible
// header length, flags ("\Seen Work", sorted), internal date (from the
// "From " line), the fingerprint that recognizes a message without X-UID
// after another program rewrote the file, and dirty: flags or UID not yet
// in the file.
//
// savedate holds when each message was stored in its mailbox (RFC 8514), in
// its own table so an index from before it needs no migration: its
// messages have no row (SAVEDATE NIL).
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mailboxes (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL,
	highestmodseq INTEGER NOT NULL,
	recent_uid    INTEGER NOT NULL DEFAULT 0,
	special_use   TEXT NOT NULL DEFAULT '',
	fsize         INTEGER NOT NULL DEFAULT -2,
	fmtime        INTEGER NOT NULL DEFAULT 0,
	fino          INTEGER NOT NULL DEFAULT 0,
	tail          BLOB,
	keywords      TEXT NOT NULL DEFAULT '',
	base_dirty    INTEGER NOT NULL DEFAULT 0,
	pseudo_next   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS subscriptions (
	name TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS messages (
	mailbox_id   INTEGER NOT NULL,
	uid          INTEGER NOT NULL,
	modseq       INTEGER NOT NULL,
	flags        TEXT NOT NULL,
	from_off     INTEGER NOT NULL,
	data_off     INTEGER NOT NULL,
	hdr_end      INTEGER NOT NULL,
	end_off      INTEGER NOT NULL,
	next_off     INTEGER NOT NULL,
	vis_len      INTEGER NOT NULL,
	size         INTEGER NOT NULL,
	internaldate INTEGER NOT NULL,
	tzoffset     INTEGER NOT NULL,
	fp           INTEGER NOT NULL,
	dirty        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_modseq ON messages (mailbox_id, modseq);
CREATE TABLE IF NOT EXISTS cache (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	data       BLOB NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE TABLE IF NOT EXISTS savedate (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	date       INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS expunged (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged (mailbox_id, modseq);
`

// mboxRow is a mailboxes row.
type mboxRow struct {
	id          int64
	name        string
	uidValidity uint32
	uidNext     uint32
	modSeq      uint64
	recentUID   uint32
	special     string
	fsize       int64
	fmtime      int64
	fino        uint64
	tail        []byte
	keywords    []string
	baseDirty   bool
	pseudoNext  int64
}

func (r *mboxRow) state() mailstore.MailboxState {
	return mailstore.MailboxState{UIDValidity: r.uidValidity, UIDNext: r.uidNext, HighestModSeq: r.modSeq, FirstRecentUID: r.recentUID + 1,
		MailboxID: mailstore.MailboxID(r.id, r.uidValidity)}
}

func (r *mboxRow) folder() folderData {
	return folderData{uidValidity: r.uidValidity, uidLast: r.uidNext - 1, keywords: r.keywords}
}

const rowCols = `id, name, uidvalidity, uidnext, highestmodseq, recent_uid, special_use, fsize, fmtime, fino, tail, keywords, base_dirty, pseudo_next`

func scanRow(sc interface{ Scan(...any) error }) (mboxRow, error) {
	var r mboxRow
	var kw string
	var bd int
	err := sc.Scan(&r.id, &r.name, &r.uidValidity, &r.uidNext, &r.modSeq, &r.recentUID, &r.special, &r.fsize, &r.fmtime, &r.fino, &r.tail, &kw, &bd, &r.pseudoNext)
	r.keywords = strings.Fields(kw)
	r.baseDirty = bd != 0
	return r, err
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rowByName returns the mailbox's row; ok is false when there is none.
func rowByName(ctx context.Context, q querier, name string) (mboxRow, bool, error) {
	r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM mailboxes WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("mbox: index: %w", err)
	}
	return r, true, nil
}

func rowByID(ctx context.Context, q querier, id int64) (mboxRow, bool, error) {
	r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM mailboxes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("mbox: index: %w", err)
	}
	return r, true, nil
}

// saveRow writes r back.
func (w *wtx) saveRow(r *mboxRow) error {
	w.saved[r.id] = r.modSeq
	bd := 0
	if r.baseDirty {
		bd = 1
	}
	return w.exec(`UPDATE mailboxes SET name = ?, uidvalidity = ?, uidnext = ?, highestmodseq = ?, recent_uid = ?, special_use = ?,
		fsize = ?, fmtime = ?, fino = ?, tail = ?, keywords = ?, base_dirty = ?, pseudo_next = ? WHERE id = ?`,
		r.name, r.uidValidity, r.uidNext, r.modSeq, r.recentUID, r.special, r.fsize, r.fmtime, r.fino, r.tail,
		strings.Join(r.keywords, " "), bd, r.pseudoNext, r.id)
}

// msgRow is a messages row.
type msgRow struct {
	uid                           uint32
	modSeq                        uint64
	flags                         []string
	from, data, hdrEnd, end, next int64
	visLen, size, date            int64
	tzoff                         int
	fp                            uint64
	dirty                         bool
}

const msgCols = `uid, modseq, flags, from_off, data_off, hdr_end, end_off, next_off, vis_len, size, internaldate, tzoffset, fp, dirty`

func scanMsg(sc interface{ Scan(...any) error }) (msgRow, error) {
	var m msgRow
	var fl string
	var fp int64
	var dirty int
	err := sc.Scan(&m.uid, &m.modSeq, &fl, &m.from, &m.data, &m.hdrEnd, &m.end, &m.next, &m.visLen, &m.size, &m.date, &m.tzoff, &fp, &dirty)
	m.flags = strings.Fields(fl)
	m.fp = uint64(fp)
	m.dirty = dirty != 0
	return m, err
}

// allMsgs returns the mailbox's messages in UID (and so file) order.
func allMsgs(ctx context.Context, q querier, id int64) ([]msgRow, error) {
	return queryMsgs(ctx, q, `SELECT `+msgCols+` FROM messages WHERE mailbox_id = ? ORDER BY uid`, id)
}

func queryMsgs(ctx context.Context, q querier, query string, args ...any) ([]msgRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("mbox: index: %w", err)
	}
	defer rows.Close()
	var out []msgRow
	for rows.Next() {
		m, err := scanMsg(rows)
		if err != nil {
			return nil, fmt.Errorf("mbox: index: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mbox: index: %w", err)
	}
	return out, nil
}

// selectMsgs returns the rows of the given UIDs that exist, ascending.
func selectMsgs(ctx context.Context, q querier, id int64, uids []uint32) ([]msgRow, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	var b strings.Builder
	for i, u := range uids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", u)
	}
	return queryMsgs(ctx, q, `SELECT `+msgCols+` FROM messages WHERE mailbox_id = ? AND uid IN (`+b.String()+`) ORDER BY uid`, id)
}

// putMsg inserts or replaces a message row.
func (w *wtx) putMsg(id int64, m *msgRow) error {
	d := 0
	if m.dirty {
		d = 1
	}
	// A UID the index did not hold is a message saved in this mailbox now
	// (APPEND, COPY, MOVE, or delivery picked up, RFC 8514 §3); a row
	// rewritten for its flags or offsets keeps its date, and a message
	// indexed before save dates were kept stays without one.
	if err := w.exec(`INSERT OR IGNORE INTO savedate(mailbox_id, uid, date)
		SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM messages WHERE mailbox_id = ?1 AND uid = ?2)`,
		id, m.uid, w.s.opts.Now().Unix()); err != nil {
		return err
	}
	if err := w.exec(`INSERT OR REPLACE INTO messages(mailbox_id, `+msgCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, m.uid, m.modSeq, strings.Join(m.flags, " "), m.from, m.data, m.hdrEnd, m.end, m.next, m.visLen, m.size, m.date, m.tzoff, int64(m.fp), d); err != nil {
		return err
	}
	return nil
}

// expunge removes message rows and records their UIDs at modSeq.
func (w *wtx) expungeUIDs(id int64, uids []uint32, modSeq uint64) error {
	for _, u := range uids {
		if err := w.exec(`DELETE FROM messages WHERE mailbox_id = ? AND uid = ?`, id, u); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM cache WHERE mailbox_id = ? AND uid = ?`, id, u); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM savedate WHERE mailbox_id = ? AND uid = ?`, id, u); err != nil {
			return err
		}
		if err := w.exec(`INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) VALUES (?, ?, ?)`, id, u, modSeq); err != nil {
			return err
		}
	}
	return nil
}
