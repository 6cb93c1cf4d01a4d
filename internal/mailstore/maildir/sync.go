package maildir

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// racyWindow is how recent a new/ or cur/ mtime must be for the scan not
// to trust it: a delivery or another program's rename in the same
// timestamp tick as the scan, or between this process's own rename and
// its reading of the mtime (stamp), would leave the recorded mtime equal
// to the directory's, and the change would be missed. Such a directory is
// read again at the next look. Dovecot treats recent maildir mtimes as
// dirty for the same reason.
const racyWindow = time.Second

// trustedMtime returns the mtime to record for a directory just read:
// the mtime itself, or -1 (read again next time) when it is too recent
// to rule out a change in the same tick (racyWindow). An mtime in the
// future (a clock skewed NFS server) is not trusted either.
func trustedMtime(dir string) int64 {
	return trusted(mtimeOf(dir), time.Now())
}

// trusted is trustedMtime for an mtime m read at now.
func trusted(m int64, now time.Time) int64 {
	if now.UnixNano()-m < int64(racyWindow) {
		return -1
	}
	return m
}

// current returns a mailbox's row after merging changes made on disk by
// other programs. The check costs a query and two stats; the merge runs only
// when new/ or cur/ changed since the index last saw them (or their mtimes
// were too recent to trust and sameOnDisk finds a difference).
func (s *Store) current(ctx context.Context, id int64, name string) (mboxRow, error) {
	r, ok, err := s.rowBy(ctx, s.db, id, name)
	if err != nil {
		return r, err
	}
	if !ok || !s.checkUIDsRead(r) {
		return s.merge(ctx, id, name)
	}
	now := time.Now()
	newM, curM := mtimeOf(filepath.Join(r.dir, "new")), mtimeOf(filepath.Join(r.dir, "cur"))
	if r.newMtime >= 0 && r.curMtime >= 0 && newM == r.newMtime && curM == r.curMtime {
		return r, nil
	}
	// An mtime left untrusted by this process's own change (a STORE
	// renames a file, so under load cur/ is nearly always within
	// racyWindow) is checked by reading, not merged in a write
	// transaction: the write path reread every row and took the write
	// lock after nearly every command (issue 7). Once the mtimes can be
	// trusted the merge records them, once.
	newT, curT := trusted(newM, now), trusted(curM, now)
	if (newT < 0 || newT == r.newMtime) && (curT < 0 || curT == r.curMtime) {
		if s.sh.verified.fresh(r, newM, curM, now, s.verifyReuse) {
			return r, nil
		}
		if same, err := s.sameOnDisk(ctx, s.db, r); err == nil && same {
			s.sh.verified.note(r, newM, curM, now)
			return r, nil
		}
	}
	return s.merge(ctx, id, name)
}

// merge is current's write path: sync in a write transaction.
func (s *Store) merge(ctx context.Context, id int64, name string) (mboxRow, error) {
	var r mboxRow
	err := s.write(ctx, func(w *wtx) error {
		var err error
		if r, err = w.ensureRow(id, name); err != nil {
			return err
		}
		return w.sync(&r)
	})
	return r, err
}

// sync merges changes on disk into the index: files delivered to new/ are
// moved to cur/ and given the next UIDs; when cur/ changed, files that
// appeared there are added, files that vanished are expunged, and flags
// changed by renames are taken over. It runs in a write transaction.
func (w *wtx) sync(r *mboxRow) error {
	if err := w.recoverUIDs(r); err != nil {
		return err
	}
	newDir, curDir := filepath.Join(r.dir, "new"), filepath.Join(r.dir, "cur")
	newM, curM := mtimeOf(newDir), mtimeOf(curDir)
	newChanged := r.newMtime < 0 || newM != r.newMtime
	curChanged := r.curMtime < 0 || curM != r.curMtime
	now := time.Now()
	if !newChanged && !curChanged {
		// Trusted mtimes the index recorded: it agrees with the disk now.
		w.agree(r.id, newM, now)
		return nil
	}
	// A poll's agreeing check a moment ago (verified) holds here too:
	// nothing this process can see changed since.
	at, same := w.s.sh.verified.freshSince(*r, newM, curM, now, w.s.verifyReuse)
	if !same {
		var err error
		if same, err = w.s.sameOnDisk(w.ctx, w.qtx, *r); err != nil {
			return err
		}
		at = now
	}
	if same {
		w.agree(r.id, newM, at)
		// Nothing to merge: only the mtimes are news. They are trusted as
		// of the read that found the agreement (at), not of now: a check
		// reused (verified) or carried over this process's own writes
		// read the directories earlier, maybe in the very tick of these
		// mtimes, when a later change in that tick could not show.
		newT, curT := trusted(newM, at), trusted(curM, at)
		if newT == r.newMtime && curT == r.curMtime {
			return nil
		}
		r.newMtime, r.curMtime = newT, curT
		return w.saveRow(r)
	}
	km, err := w.keywords(r.id)
	if err != nil {
		return err
	}
	imported := w.imported[r.id]
	var found []foundFile
	if newChanged {
		if found, err = w.pickUpNew(r); err != nil {
			return err
		}
	}
	if curChanged {
		picked := make(map[string]bool, len(found))
		for _, f := range found {
			picked[f.base] = true
		}
		more, err := w.reconcileCur(r, km, picked)
		if err != nil {
			return err
		}
		found = append(found, more...)
	}
	if err := w.addFound(r, km, found, imported); err != nil {
		return err
	}
	if err := w.saveKeywords(*r, km); err != nil {
		return err
	}
	r.newMtime = trustedMtime(newDir)
	r.curMtime = trustedMtime(curDir)
	// The merge read both directories after now; what it saw is now the
	// index, but new/'s mtime moved if it picked up mail, so the note
	// (made with the mtime before) holds only once it is checked again.
	w.agree(r.id, newM, now)
	return w.saveRow(r)
}

// agree records that mailbox id's directories agreed with the index as of
// at (see carryVerified).
func (w *wtx) agree(id int64, newM int64, at time.Time) {
	if w.agreed == nil {
		w.agreed = map[int64]agreedSince{}
	}
	w.agreed[id] = agreedSince{newM: newM, at: at}
}

// sameOnDisk reports whether a sync of r would merge nothing: new/ holds
// no message and cur/ holds exactly the files the index names, with the
// same info (flags). It reads the directories' names and one packed
// column of the index (as metas does), without the write lock: Dovecot
// too rereads a maildir whose mtime is recent, but in memory. A change
// under way by another of our processes (file renamed, index not yet
// committed) shows as a difference, and the caller then merges under the
// lock as before.
func (s *Store) sameOnDisk(ctx context.Context, q querier, r mboxRow) (bool, error) {
	newNames, err := dirNames(filepath.Join(r.dir, "new"))
	if err != nil || len(newNames) > 0 {
		return false, err
	}
	// The index first, the directory second: a commit in between then
	// shows as a difference, never as agreement.
	var packed sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT group_concat(base || info, char(10)) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&packed); err != nil {
		return false, fmt.Errorf("maildir: index: %w", err)
	}
	curNames, err := dirNames(filepath.Join(r.dir, "cur"))
	if err != nil {
		return false, err
	}
	var known []string
	if packed.String != "" {
		known = strings.Split(packed.String, "\n")
	}
	if len(known) != len(curNames) {
		return false, nil
	}
	slices.Sort(known)
	slices.Sort(curNames)
	return slices.Equal(known, curNames), nil
}

// dirNames returns the names in dir that a sync would look at (dot files
// are not mail; anything else that is not a message file makes sameOnDisk
// false, and the full sync deals with it).
func dirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, ".") }), nil
}

// foundFile is a message file in cur/ the index does not know yet.
type foundFile struct {
	base, info string
	size       int64
	mtime      time.Time
}

// pickUpNew moves the files of new/ to cur/ (adding the ":2," info, as the
// Maildir spec has readers do) and returns them.
func (w *wtx) pickUpNew(r *mboxRow) ([]foundFile, error) {
	newDir, curDir := filepath.Join(r.dir, "new"), filepath.Join(r.dir, "cur")
	ents, err := os.ReadDir(newDir)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	var out []foundFile
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		base, info := splitName(e.Name())
		if info == "" {
			info = ":2,"
		}
		var n int
		if err := w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND base = ?`, r.id, base).Scan(&n); err != nil {
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		if n > 0 || strings.ContainsAny(base, " \n") {
			base = w.s.newBase() // a name clash (or a name the uidlist cannot hold): rename
		}
		if err := renameNoReplace(filepath.Join(newDir, e.Name()), filepath.Join(curDir, base+info)); err != nil {
			w.s.log.Warn("maildir: cannot move new message to cur", "file", e.Name(), "err", err)
			continue
		}
		out = append(out, foundFile{base: base, info: info, size: fi.Size(), mtime: fi.ModTime()})
	}
	if len(out) > 0 {
		if err := w.s.syncDir(curDir); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reconcileCur compares cur/ with the index.
// Files just moved from new/ (picked) are already accounted for.
func (w *wtx) reconcileCur(r *mboxRow, km *keywordMap, picked map[string]bool) ([]foundFile, error) {
	curDir := filepath.Join(r.dir, "cur")
	type known struct {
		uid      uint32
		sys      int64
		keywords string
		info     string
		seen     bool
	}
	byBase := map[string]*known{}
	rows, err := w.qtx.QueryContext(w.ctx, `SELECT uid, sysflags, keywords, base, info FROM messages WHERE mailbox_id = ?`, r.id)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	for rows.Next() {
		var k known
		var base string
		if err := rows.Scan(&k.uid, &k.sys, &k.keywords, &base, &k.info); err != nil {
			rows.Close()
			return nil, fmt.Errorf("maildir: index: %w", err)
		}
		byBase[base] = &k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	ents, err := os.ReadDir(curDir)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	var found []foundFile
	type flagChange struct {
		uid      uint32
		sys      int64
		keywords string
		info     string
	}
	var changes []flagChange
	anyExpunged := -1 // whether the mailbox has expunged rows; -1: not asked yet
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		base, info := splitName(e.Name())
		if picked[base] {
			continue
		}
		if k := byBase[base]; k != nil {
			k.seen = true
			if info != k.info {
				// Renamed by another program: its letters are the news.
				// Keywords without a letter stay as the index has them.
				sys, kws := parseInfo(info, km.name)
				if k.keywords != "" {
					for _, kw := range strings.Split(k.keywords, " ") {
						if i, ok := km.byName[kw]; kw != forwarded && (!ok || i >= 26) {
							kws = append(kws, kw)
						}
					}
				}
				slices.Sort(kws)
				kws = slices.Compact(kws)
				changes = append(changes, flagChange{k.uid, sys, strings.Join(kws, " "), info})
			}
			continue
		}
		if anyExpunged < 0 {
			// Asked once: a folder indexed for the first time has no
			// expunged rows, and 100,000 lookups would be most of its
			// indexing (issue 7).
			if err := w.qtx.QueryRowContext(w.ctx, `SELECT EXISTS(SELECT 1 FROM expunged WHERE mailbox_id = ?)`, r.id).Scan(&anyExpunged); err != nil {
				return nil, fmt.Errorf("maildir: index: %w", err)
			}
		}
		var n int
		if anyExpunged > 0 {
			err := w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM expunged WHERE mailbox_id = ? AND base = ?`, r.id, base).Scan(&n)
			if err != nil {
				return nil, fmt.Errorf("maildir: index: %w", err)
			}
		}
		if n > 0 {
			// Expunged, but the unlink did not happen: finish it.
			os.Remove(filepath.Join(curDir, e.Name()))
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		found = append(found, foundFile{base: base, info: info, size: fi.Size(), mtime: fi.ModTime()})
	}
	if len(changes) > 0 {
		r.modSeq++
		for _, c := range changes {
			if err := w.exec(`UPDATE messages SET modseq = CASE WHEN sysflags = ?2 AND keywords = ?3 THEN modseq ELSE ?4 END,
				sysflags = ?2, keywords = ?3, info = ?5 WHERE mailbox_id = ?1 AND uid = ?6`,
				r.id, c.sys, c.keywords, r.modSeq, c.info, c.uid); err != nil {
				return nil, err
			}
		}
		w.touched[r.id] = true
	}
	var gone []expungedFile
	for base, k := range byBase {
		if !k.seen {
			gone = append(gone, expungedFile{uid: k.uid, base: base})
		}
	}
	if len(gone) > 0 {
		if err := w.recordExpunges(r, gone); err != nil {
			return nil, err
		}
	}
	return found, nil
}

type expungedFile struct {
	uid       uint32
	base      string
	info      string
	unlinkDir string // when set, the file is removed in the transaction
}

// recordExpunges removes messages from the index with one new MODSEQ,
// keeping their base names so leftover files are recognized, and unlinks
// their files. The unlink happens before the commit on purpose: a crash in
// between leaves index rows without files, which the next sync turns into
// the very expunges that were asked for; never a file taken for new mail.
func (w *wtx) recordExpunges(r *mboxRow, gone []expungedFile) error {
	slices.SortFunc(gone, func(a, b expungedFile) int { return int(a.uid) - int(b.uid) })
	r.modSeq++
	for _, g := range gone {
		if err := w.exec(`DELETE FROM messages WHERE mailbox_id = ? AND uid = ?`, r.id, g.uid); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM savedate WHERE mailbox_id = ? AND uid = ?`, r.id, g.uid); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM cache WHERE mailbox_id = ? AND uid = ?`, r.id, g.uid); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM hdrcache WHERE mailbox_id = ? AND uid = ?`, r.id, g.uid); err != nil {
			return err
		}
		if err := w.exec(`INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq, base) VALUES (?, ?, ?, ?)`,
			r.id, g.uid, r.modSeq, g.base); err != nil {
			return err
		}
		if g.unlinkDir != "" {
			if err := w.s.removeMessageFile(g.unlinkDir, g.base, g.info); err != nil {
				w.s.log.Warn("maildir: cannot remove expunged message", "file", g.base+g.info, "err", err)
			}
		}
	}
	w.touched[r.id] = true
	return nil
}

// addFound gives files found on disk the next UIDs (or, after the index was
// lost, the UIDs their folder's uidlist recorded), in delivery order.
func (w *wtx) addFound(r *mboxRow, km *keywordMap, found []foundFile, imported map[string]uint32) error {
	if len(found) == 0 {
		return nil
	}
	w.mustSync = true // UIDs given out: never again after a power loss
	slices.SortFunc(found, func(a, b foundFile) int {
		ua, ub := imported[a.base], imported[b.base]
		if ua != ub {
			if ua == 0 {
				return 1
			}
			if ub == 0 {
				return -1
			}
			return int(ua) - int(ub)
		}
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return strings.Compare(a.base, b.base)
	})
	r.modSeq++
	var lines []uidLine
	ins := make([]any, 0, 10*min(len(found), insertBatch))
	dates := make([]any, 0, 3*min(len(found), insertBatch))
	assigned := map[uint32]bool{} // UIDs given in this call, not inserted yet
	now := w.s.opts.Now().Unix()
	for i, f := range found {
		uid := imported[f.base]
		if uid == 0 || assigned[uid] || w.uidTaken(r.id, uid) {
			uid = r.uidNext
		}
		if uid >= r.uidNext {
			r.uidNext = uid + 1
		}
		assigned[uid] = true
		sys, kws := parseInfo(f.info, km.name)
		slices.Sort(kws)
		kws = slices.Compact(kws)
		_, off := f.mtime.Zone()
		ins = append(ins, r.id, uid, r.modSeq, sys, strings.Join(kws, " "), f.size, f.mtime.Unix(), off, f.base, f.info)
		// A file picked up is saved now; one the index knew before a
		// reindex keeps its date (OR IGNORE).
		dates = append(dates, r.id, uid, now)
		if imported[f.base] != uid {
			lines = append(lines, uidLine{uid, f.base})
		}
		if n := len(ins) / 10; n == insertBatch || i == len(found)-1 {
			// Many rows per statement: a first index of 100,000 files
			// is otherwise 200,000 statements (issue 7).
			if err := w.exec(`INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
				VALUES `+valuesList(n, 10), ins...); err != nil {
				return err
			}
			if err := w.exec(`INSERT OR IGNORE INTO savedate(mailbox_id, uid, date) VALUES `+valuesList(n, 3), dates...); err != nil {
				return err
			}
			ins, dates = ins[:0], dates[:0]
			clear(assigned)
		}
	}
	w.touched[r.id] = true
	r.uidlistLines += int64(len(lines))
	return w.s.appendUIDList(r.dir, lines)
}

// insertBatch is how many rows addFound inserts per statement.
const insertBatch = 64

// valuesList is "(?, ...), ..." for n rows of cols columns.
func valuesList(n, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", n-1) + row
}

func (w *wtx) uidTaken(id int64, uid uint32) bool {
	var n int
	w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid = ?`, id, uid).Scan(&n)
	if n == 0 {
		w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM expunged WHERE mailbox_id = ? AND uid = ?`, id, uid).Scan(&n)
	}
	return n > 0
}

// stamp records cur/'s mtime after this process changed cur/ itself, so
// the change is not taken for another program's. A directory whose mtime
// was not trusted before stays untrusted, and so does one changed within
// racyWindow: another program's rename between ours and this stat would
// otherwise be stamped as ours. new/ is never stamped: only sync touches
// it, so its mtime moving means an MTA delivered there, possibly while
// this write was running, and the next look must pick that up.
func (w *wtx) stamp(r *mboxRow) {
	if r.curMtime >= 0 {
		r.curMtime = trustedMtime(filepath.Join(r.dir, "cur"))
	}
}
