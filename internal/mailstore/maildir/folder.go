package maildir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// mboxRow is a row of the mailboxes table.
type mboxRow struct {
	id           int64
	name         string
	uidValidity  uint32
	uidNext      uint32
	modSeq       uint64
	recentUID    uint32
	specialUse   string
	newMtime     int64 // -1: unknown, scan new/ at the next look
	curMtime     int64
	uidlistLines int64
	dir          string
}

const rowCols = `id, name, uidvalidity, uidnext, highestmodseq, recent_uid, special_use, new_mtime, cur_mtime, uidlist_lines`

func (s *Store) scanRow(sc interface{ Scan(...any) error }) (mboxRow, error) {
	var r mboxRow
	err := sc.Scan(&r.id, &r.name, &r.uidValidity, &r.uidNext, &r.modSeq, &r.recentUID, &r.specialUse,
		&r.newMtime, &r.curMtime, &r.uidlistLines)
	if err != nil {
		return r, err
	}
	r.dir, err = s.dirOf(r.name)
	return r, err
}

// rowBy loads a mailbox row by id (when id != 0) or name; ok is false when
// there is none.
func (s *Store) rowBy(ctx context.Context, q querier, id int64, name string) (mboxRow, bool, error) {
	var r mboxRow
	var err error
	if id != 0 {
		r, err = s.scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM mailboxes WHERE id = ?`, id))
	} else {
		r, err = s.scanRow(q.QueryRowContext(ctx, `SELECT `+rowCols+` FROM mailboxes WHERE name = ?`, name))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("maildir: index: %w", err)
	}
	return r, true, nil
}

// saveRow writes back the mutable columns of a row.
func (w *wtx) saveRow(r *mboxRow) error {
	w.saved[r.id] = r.modSeq
	if w.rows == nil {
		w.rows = map[int64]mboxRow{}
	}
	w.rows[r.id] = *r
	return w.exec(`UPDATE mailboxes SET uidnext = ?, highestmodseq = ?, recent_uid = ?, new_mtime = ?, cur_mtime = ?,
		uidlist_lines = ? WHERE id = ?`, r.uidNext, r.modSeq, r.recentUID, r.newMtime, r.curMtime, r.uidlistLines, r.id)
}

func notExist(name string) error {
	return fmt.Errorf("maildir: %q: %w", name, mailstore.ErrNotExist)
}

// ensureRow returns the row of an existing mailbox, creating it for a folder
// the index does not know (made by another program, or after the index was
// lost: UIDVALIDITY, UIDs and keywords then come from the folder's files),
// and dropping it when the folder is gone.
func (w *wtx) ensureRow(id int64, name string) (mboxRow, error) {
	s := w.s
	r, ok, err := s.rowBy(w.ctx, w.qtx, id, name)
	if err != nil {
		return r, err
	}
	if ok {
		if !isFolder(r.dir, r.name == "INBOX") {
			if err := w.dropRow(r.id); err != nil {
				return r, err
			}
			return r, notExist(r.name)
		}
		return r, nil
	}
	if id != 0 {
		return r, fmt.Errorf("maildir: mailbox %d: %w", id, mailstore.ErrNotExist)
	}
	dir, err := s.dirOf(name)
	if err != nil {
		return r, err
	}
	if !isFolder(dir, name == "INBOX") {
		return r, notExist(name)
	}
	ul, haveList := readUIDList(dir)
	if !haveList {
		uv, err := w.q.NextUIDValidity(w.s.opts.Now())
		if err != nil {
			return r, err
		}
		ul = uidList{uidValidity: uv, uidNext: 1}
		if err := s.writeUIDList(dir, uv, 1, "", nil); err != nil {
			return r, err
		}
	}
	res, err := w.qtx.ExecContext(w.ctx, `INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, special_use)
		VALUES (?, ?, ?, 1, ?)`, name, ul.uidValidity, ul.uidNext, ul.specialUse)
	if err != nil {
		return r, fmt.Errorf("maildir: index: %w", err)
	}
	newID, _ := res.LastInsertId()
	for idx, kw := range readKeywords(dir) {
		if err := w.exec(`INSERT OR IGNORE INTO keywords(mailbox_id, idx, name) VALUES (?, ?, ?)`, newID, idx, kw); err != nil {
			return r, err
		}
	}
	if len(ul.uids) > 0 {
		if w.imported == nil {
			w.imported = map[int64]map[string]uint32{}
		}
		w.imported[newID] = ul.uids
	}
	r, _, err = s.rowBy(w.ctx, w.qtx, newID, "")
	return r, err
}

// dropRow forgets a mailbox and everything the index holds about it.
func (w *wtx) dropRow(id int64) error {
	if err := w.bumpEpoch(); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM messages WHERE mailbox_id = ?`, `DELETE FROM expunged WHERE mailbox_id = ?`,
		`DELETE FROM cache WHERE mailbox_id = ?`, `DELETE FROM hdrcache WHERE mailbox_id = ?`, `DELETE FROM keywords WHERE mailbox_id = ?`,
		`DELETE FROM savedate WHERE mailbox_id = ?`,
		`DELETE FROM metablob WHERE mailbox_id = ?`,
		`DELETE FROM mailboxes WHERE id = ?`,
	} {
		if err := w.exec(q, id); err != nil {
			return err
		}
	}
	w.touched[id] = true
	w.after = append(w.after, func() { w.s.sh.meta.forget(id) })
	return nil
}

// dropName forgets the row of a mailbox name, if any: a stale row left by
// a folder removed by another program. Its messages go with it, so a
// mailbox given the same id later does not inherit them.
func (w *wtx) dropName(name string) error {
	var id int64
	err := w.qtx.QueryRowContext(w.ctx, `SELECT id FROM mailboxes WHERE name = ?`, name).Scan(&id)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	return w.dropRow(id)
}

// folders returns the names of the mailboxes on disk, INBOX included.
func (s *Store) folders() ([]string, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	out := []string{"INBOX"}
	for _, e := range ents {
		if !e.IsDir() { // a symbolic link is not followed: it could leave the root
			continue
		}
		name, ok := nameOfFolder(e.Name())
		if ok && isFolder(filepath.Join(s.root, e.Name()), false) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// List implements mailstore.Store.
func (s *Store) List(ctx context.Context) ([]mailstore.MailboxInfo, error) {
	names, err := s.folders()
	if err != nil {
		return nil, err
	}
	special := map[string]string{}
	var stale []int64
	onDisk := map[string]bool{}
	for _, n := range names {
		onDisk[n] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, special_use FROM mailboxes`)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	for rows.Next() {
		var id int64
		var n, su string
		if err := rows.Scan(&id, &n, &su); err != nil {
			rows.Close()
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		special[n] = su
		if !onDisk[n] {
			stale = append(stale, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	if len(stale) > 0 {
		// Folders removed by another program: forget them so a folder made
		// later under the same name gets a new UIDVALIDITY.
		err := s.write(ctx, func(w *wtx) error {
			for _, id := range stale {
				if r, ok, err := s.rowBy(ctx, w.qtx, id, ""); err != nil || !ok || isFolder(r.dir, false) {
					continue
				}
				if err := w.dropRow(id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	subs, err := s.subscriptionSet(ctx)
	if err != nil {
		return nil, err
	}
	var out []mailstore.MailboxInfo
	for _, n := range names {
		out = append(out, mailstore.MailboxInfo{Name: n, SpecialUse: special[n], Subscribed: subs[n]})
		// A folder whose parent is missing (made by another program) gets
		// a \Noselect placeholder for the parent.
		for i := strings.LastIndex(n, "/"); i > 0; i = strings.LastIndex(n[:i], "/") {
			if p := n[:i]; !onDisk[p] {
				onDisk[p] = true
				out = append(out, mailstore.MailboxInfo{Name: p, NoSelect: true, Subscribed: subs[p]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// createFolder makes a folder's directories and its index row.
func (w *wtx) createFolder(name, specialUse string) (mboxRow, error) {
	s := w.s
	dir, err := s.dirOf(name)
	if err != nil {
		return mboxRow{}, err
	}
	if err := os.Mkdir(dir, s.opts.DirMode); err != nil {
		if errors.Is(err, os.ErrExist) {
			return mboxRow{}, fmt.Errorf("maildir: %q: %w", name, mailstore.ErrExist)
		}
		return mboxRow{}, fmt.Errorf("maildir: %w", err)
	}
	w.undo = append(w.undo, func() { os.RemoveAll(dir) })
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), s.opts.DirMode); err != nil {
			return mboxRow{}, fmt.Errorf("maildir: %w", err)
		}
	}
	// Maildir++ marks subfolders so delivery agents know them.
	if err := os.WriteFile(filepath.Join(dir, "maildirfolder"), nil, s.opts.FileMode); err != nil {
		return mboxRow{}, fmt.Errorf("maildir: %w", err)
	}
	// A stale row (the folder was removed by another program) must not
	// lend its UIDVALIDITY to the new folder.
	if err := w.dropName(name); err != nil {
		return mboxRow{}, err
	}
	uv, err := w.q.NextUIDValidity(w.s.opts.Now())
	if err != nil {
		return mboxRow{}, err
	}
	if err := s.writeUIDList(dir, uv, 1, specialUse, nil); err != nil {
		return mboxRow{}, err
	}
	if err := s.syncDir(s.root); err != nil {
		return mboxRow{}, err
	}
	res, err := w.qtx.ExecContext(w.ctx, `INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, special_use)
		VALUES (?, ?, 1, 1, ?)`, name, uv, specialUse)
	if err != nil {
		return mboxRow{}, fmt.Errorf("maildir: index: %w", err)
	}
	id, _ := res.LastInsertId()
	r, _, err := s.rowBy(w.ctx, w.qtx, id, "")
	return r, err
}

// createParents makes the missing parents of a mailbox name.
func (w *wtx) createParents(name string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		dir, err := w.s.dirOf(p)
		if err != nil {
			return err
		}
		if isFolder(dir, p == "INBOX") {
			continue
		}
		if _, err := w.createFolder(p, ""); err != nil {
			return err
		}
	}
	return nil
}

// Create implements mailstore.Store.
func (s *Store) Create(ctx context.Context, name, specialUse string) error {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return err
	}
	if cn == "INBOX" {
		return fmt.Errorf("maildir: %q: %w", name, mailstore.ErrExist)
	}
	if _, err := s.dirOf(cn); err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		if err := w.createParents(cn); err != nil {
			return err
		}
		_, err := w.createFolder(cn, specialUse)
		return err
	})
}

// hasChildren reports whether a mailbox has children on disk.
func (s *Store) children(name string) ([]string, error) {
	names, err := s.folders()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, name+"/") {
			out = append(out, n)
		}
	}
	return out, nil
}

// Delete implements mailstore.Store. The folder is renamed to a trash name
// in the transaction and removed after the commit; a crash in between
// leaves trash that the next Open removes.
func (s *Store) Delete(ctx context.Context, name string) error {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return err
	}
	if cn == "INBOX" {
		return fmt.Errorf("maildir: cannot delete INBOX: %w", mailstore.ErrInvalidName)
	}
	return s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(0, cn)
		if err != nil {
			return err
		}
		kids, err := s.children(cn)
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return fmt.Errorf("maildir: %q: %w", name, mailstore.ErrHasChildren)
		}
		if err := w.dropRow(r.id); err != nil {
			return err
		}
		trash := filepath.Join(s.root, trashPrefix+s.newBase())
		if err := os.Rename(r.dir, trash); err != nil {
			return fmt.Errorf("maildir: delete %q: %w", name, err)
		}
		w.undo = append(w.undo, func() { os.Rename(trash, r.dir) })
		if err := s.syncDir(s.root); err != nil {
			return err
		}
		w.after = append(w.after, func() { os.RemoveAll(trash) })
		return nil
	})
}

// Rename implements mailstore.Store. Other mailboxes keep their index rows
// (and so their UIDVALIDITY and open handles); renaming INBOX moves its cur/
// wholesale into the new folder (RFC 3501 §6.3.5).
func (s *Store) Rename(ctx context.Context, oldName, newName string) error {
	from, err := mailstore.CanonicalName(oldName)
	if err != nil {
		return err
	}
	to, err := mailstore.CanonicalName(newName)
	if err != nil {
		return err
	}
	if _, err := s.dirOf(to); err != nil {
		return err
	}
	if to == from || strings.HasPrefix(to, from+"/") {
		return fmt.Errorf("maildir: cannot rename %q under itself: %w", oldName, mailstore.ErrInvalidName)
	}
	return s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(0, from)
		if err != nil {
			return err
		}
		toDir, _ := s.dirOf(to)
		if to == "INBOX" || isFolder(toDir, false) {
			return fmt.Errorf("maildir: %q: %w", newName, mailstore.ErrExist)
		}
		if from == "INBOX" {
			return w.renameInbox(r, to)
		}
		kids, err := s.children(from)
		if err != nil {
			return err
		}
		moves := append([]string{from}, kids...)
		for _, m := range moves {
			d, err := s.dirOf(to + m[len(from):])
			if err != nil {
				return err
			}
			if isFolder(d, false) {
				return fmt.Errorf("maildir: %q: %w", to+m[len(from):], mailstore.ErrExist)
			}
		}
		if err := w.createParents(to); err != nil {
			return err
		}
		for _, m := range moves {
			nn := to + m[len(from):]
			od, _ := s.dirOf(m)
			nd, _ := s.dirOf(nn)
			if _, err := w.ensureRow(0, m); err != nil {
				return err
			}
			if err := w.dropName(nn); err != nil {
				return err
			}
			if err := w.exec(`UPDATE mailboxes SET name = ? WHERE name = ?`, nn, m); err != nil {
				return err
			}
			if err := os.Rename(od, nd); err != nil {
				return fmt.Errorf("maildir: rename %q: %w", m, err)
			}
			w.undo = append(w.undo, func() { os.Rename(nd, od) })
		}
		return s.syncDir(s.root)
	})
}

// renameInbox moves INBOX's messages to a new folder: the new folder takes
// INBOX's cur/ directory and index rows, keeping UIDs under a new
// UIDVALIDITY; INBOX keeps its UIDNEXT and reports the messages expunged.
func (w *wtx) renameInbox(inbox mboxRow, to string) error {
	s := w.s
	if err := w.sync(&inbox); err != nil {
		return err
	}
	if err := w.createParents(to); err != nil {
		return err
	}
	nr, err := w.createFolder(to, "")
	if err != nil {
		return err
	}
	oldCur, newCur := filepath.Join(inbox.dir, "cur"), filepath.Join(nr.dir, "cur")
	if err := os.Remove(newCur); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if err := os.Rename(oldCur, newCur); err != nil {
		return fmt.Errorf("maildir: rename INBOX: %w", err)
	}
	w.undo = append(w.undo, func() { os.Rename(newCur, oldCur) })
	if err := os.Mkdir(oldCur, s.opts.DirMode); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	inbox.modSeq++
	for _, q := range []string{
		`INSERT INTO expunged(mailbox_id, uid, modseq, base) SELECT mailbox_id, uid, ?2, '' FROM messages WHERE mailbox_id = ?1`,
		`UPDATE messages SET mailbox_id = ?3 WHERE mailbox_id = ?1`,
		`UPDATE cache SET mailbox_id = ?3 WHERE mailbox_id = ?1`,
		`UPDATE savedate SET mailbox_id = ?3 WHERE mailbox_id = ?1`,
		`INSERT INTO keywords(mailbox_id, idx, name) SELECT ?3, idx, name FROM keywords WHERE mailbox_id = ?1`,
	} {
		if err := w.exec(q, inbox.id, inbox.modSeq, nr.id); err != nil {
			return err
		}
	}
	nr.uidNext, nr.modSeq = inbox.uidNext, inbox.modSeq
	// new/ is read again at the next look, in case mail arrived meanwhile.
	nr.newMtime, nr.curMtime = -1, mtimeOf(newCur)
	if err := w.saveRow(&nr); err != nil {
		return err
	}
	if err := w.writeKeywordFile(nr); err != nil {
		return err
	}
	if err := w.rewriteUIDList(&nr); err != nil {
		return err
	}
	inbox.curMtime = mtimeOf(oldCur)
	if err := w.rewriteUIDList(&inbox); err != nil {
		return err
	}
	if err := w.saveRow(&inbox); err != nil {
		return err
	}
	w.touched[inbox.id] = true
	return s.syncDir(inbox.dir)
}

// rewriteUIDList replaces a folder's uidlist with the index's view.
func (w *wtx) rewriteUIDList(r *mboxRow) error {
	rows, err := w.qtx.QueryContext(w.ctx, `SELECT uid, base FROM messages WHERE mailbox_id = ? ORDER BY uid`, r.id)
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	var lines []uidLine
	for rows.Next() {
		var l uidLine
		if err := rows.Scan(&l.uid, &l.base); err != nil {
			rows.Close()
			return fmt.Errorf("maildir: index: %w", err)
		}
		lines = append(lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	r.uidlistLines = int64(len(lines))
	return w.s.writeUIDList(r.dir, r.uidValidity, r.uidNext, r.specialUse, lines)
}

// SetSubscribed implements mailstore.Store.
func (s *Store) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		q := `INSERT OR IGNORE INTO subscriptions(name) VALUES (?)`
		if !subscribed {
			q = `DELETE FROM subscriptions WHERE name = ?`
		}
		if err := w.exec(q, cn); err != nil {
			return err
		}
		subs, err := s.subscriptions(w.ctx, w.qtx)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, n := range subs {
			b.WriteString(n + "\n")
		}
		return s.writeFileAtomic(filepath.Join(s.root, SubscriptionsName), []byte(b.String()))
	})
}

func (s *Store) subscriptions(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM subscriptions ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *Store) subscriptionSet(ctx context.Context) (map[string]bool, error) {
	subs, err := s.subscriptions(ctx, s.db)
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, n := range subs {
		m[n] = true
	}
	return m, nil
}

// Subscriptions implements mailstore.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]string, error) {
	return s.subscriptions(ctx, s.db)
}

// Status implements mailstore.Store.
func (s *Store) Status(ctx context.Context, name string) (mailstore.Status, error) {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return mailstore.Status{}, err
	}
	r, err := s.current(ctx, 0, cn)
	if err != nil {
		return mailstore.Status{}, err
	}
	st := mailstore.Status{MailboxState: r.state()}
	// A mailbox held in memory is summed there; loading one only for its
	// STATUS would cost more than asking SQLite.
	msgs, ok, err := s.cachedMsgs(ctx, r.id, false)
	if err != nil {
		return st, err
	}
	if ok {
		st.Messages = uint32(len(msgs))
		for i := range msgs {
			m := &msgs[i]
			if m.sys&bitSeen == 0 {
				st.Unseen++
			}
			if m.sys&bitDeleted != 0 {
				st.Deleted++
			}
			if m.uid > r.recentUID {
				st.Recent++
			}
			st.Size += m.size
		}
		return st, nil
	}
	var unseen, deleted, recent, size sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT count(*), sum((sysflags & ?) = 0), sum((sysflags & ?) != 0), sum(uid > ?), sum(size)
		FROM messages WHERE mailbox_id = ?`, bitSeen, bitDeleted, r.recentUID, r.id).Scan(&st.Messages, &unseen, &deleted, &recent, &size)
	if err != nil {
		return st, fmt.Errorf("maildir: index: %w", err)
	}
	st.Unseen, st.Deleted, st.Recent, st.Size = uint32(unseen.Int64), uint32(deleted.Int64), uint32(recent.Int64), size.Int64
	return st, nil
}

func (r mboxRow) state() mailstore.MailboxState {
	return mailstore.MailboxState{UIDValidity: r.uidValidity, UIDNext: r.uidNext, HighestModSeq: r.modSeq, FirstRecentUID: r.recentUID + 1,
		MailboxID: mailstore.MailboxID(r.id, r.uidValidity)}
}

// Open implements mailstore.Store.
func (s *Store) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	cn, err := mailstore.CanonicalName(name)
	if err != nil {
		return nil, err
	}
	r, err := s.current(ctx, 0, cn)
	if err != nil {
		return nil, err
	}
	mb := &mailbox{s: s, id: r.id, name: r.name, watch: make(chan struct{}, 1)}
	s.sh.watchers.Register(r.id, mb.watch)
	return mb, nil
}

// keywordMap is a folder's keyword <-> letter mapping.
type keywordMap struct {
	byIdx  map[int]string
	byName map[string]int
	added  bool
}

func (w *wtx) keywords(id int64) (*keywordMap, error) {
	km := &keywordMap{byIdx: map[int]string{}, byName: map[string]int{}}
	rows, err := w.qtx.QueryContext(w.ctx, `SELECT idx, name FROM keywords WHERE mailbox_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var n string
		if err := rows.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		km.byIdx[i], km.byName[n] = n, i
	}
	return km, rows.Err()
}

// index returns a keyword's letter index, giving it the next free one while
// there is one; -1 when it has none (more than 26 keywords live only in the
// index).
func (km *keywordMap) index(kw string) int {
	if i, ok := km.byName[kw]; ok {
		return i
	}
	for i := 0; i < 26; i++ {
		if _, used := km.byIdx[i]; !used {
			km.byIdx[i], km.byName[kw] = kw, i
			km.added = true
			return i
		}
	}
	return -1
}

func (km *keywordMap) name(i int) string { return km.byIdx[i] }

// saveKeywords stores letters given out since keywords() loaded the map.
func (w *wtx) saveKeywords(r mboxRow, km *keywordMap) error {
	if !km.added {
		return nil
	}
	for i, n := range km.byIdx {
		if err := w.exec(`INSERT OR REPLACE INTO keywords(mailbox_id, idx, name) VALUES (?, ?, ?)`, r.id, i, n); err != nil {
			return err
		}
	}
	km.added = false
	return w.writeKeywordFile(r)
}

func (w *wtx) writeKeywordFile(r mboxRow) error {
	km, err := w.keywords(r.id)
	if err != nil {
		return err
	}
	idx := make([]int, 0, len(km.byIdx))
	for i := range km.byIdx {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var b strings.Builder
	for _, i := range idx {
		b.WriteString(strconv.Itoa(i) + " " + km.byIdx[i] + "\n")
	}
	return w.s.writeFileAtomic(filepath.Join(r.dir, KeywordsName), []byte(b.String()))
}
