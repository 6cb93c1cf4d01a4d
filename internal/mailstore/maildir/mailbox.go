package maildir

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/postern/postern/internal/mailstore"
)

// mailbox is an open mailbox. It holds only the mailbox's index id, so it
// follows renames and sees every other session's changes.
type mailbox struct {
	s     *Store
	id    int64
	watch chan struct{}

	mu       sync.Mutex
	name     string // last name seen; guarded by mu
	watching bool   // guarded by mu
	closed   bool   // guarded by mu
}

var _ mailstore.Mailbox = (*mailbox)(nil)

func (mb *mailbox) Name() string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.name
}

// current is Store.current for this mailbox, remembering its name.
func (mb *mailbox) current(ctx context.Context) (mboxRow, error) {
	r, err := mb.s.current(ctx, mb.id, "")
	if err == nil {
		mb.mu.Lock()
		mb.name = r.name
		mb.mu.Unlock()
	}
	return r, err
}

// writeSynced runs fn in a write transaction on this mailbox's row, after
// merging changes on disk.
func (mb *mailbox) writeSynced(ctx context.Context, fn func(w *wtx, r *mboxRow) error) error {
	return mb.s.write(ctx, mb.synced(fn))
}

// writeSyncedLazy is writeSynced committed lazily (Store.writeLazy).
func (mb *mailbox) writeSyncedLazy(ctx context.Context, fn func(w *wtx, r *mboxRow) error) error {
	return mb.s.writeLazy(ctx, mb.synced(fn))
}

// synced wraps fn: the mailbox's row, merged with the disk, first.
func (mb *mailbox) synced(fn func(w *wtx, r *mboxRow) error) func(w *wtx) error {
	return func(w *wtx) error {
		r, err := w.ensureRow(mb.id, "")
		if err != nil {
			return err
		}
		if err := w.sync(&r); err != nil {
			return err
		}
		return fn(w, &r)
	}
}

func (mb *mailbox) State(ctx context.Context) (mailstore.MailboxState, error) {
	r, err := mb.current(ctx)
	return r.state(), err
}

// Messages implements mailstore.Mailbox from the process's copy of the
// mailbox's metadata (metaCache), brought up to date in O(changes).
func (mb *mailbox) Messages(ctx context.Context) ([]mailstore.MessageMeta, error) {
	var out []mailstore.MessageMeta
	err := mb.EachMessage(ctx, func(n int) { out = make([]mailstore.MessageMeta, 0, n) },
		func(m mailstore.MessageMeta) { out = append(out, m) })
	return out, err
}

var _ mailstore.MessageLister = (*mailbox)(nil)

// EachMessage implements mailstore.MessageLister, from the same copy in
// memory as Messages.
func (mb *mailbox) EachMessage(ctx context.Context, count func(int), fn func(mailstore.MessageMeta)) error {
	if _, err := mb.current(ctx); err != nil {
		return err
	}
	msgs, _, err := mb.s.cachedMsgs(ctx, mb.id, true)
	if err != nil {
		return err
	}
	count(len(msgs))
	for i := range msgs {
		fn(msgs[i].meta())
	}
	return nil
}

// metas loads message metadata matching where (on the messages table, with
// args) in ascending UID order. SQLite packs the rows into one text value,
// one "UID MODSEQ SYSFLAGS KEYWORDS" line each, which costs about a third
// of stepping through 100,000 rows with database/sql.
func (s *Store) metas(ctx context.Context, where string, args ...any) ([]mailstore.MessageMeta, error) {
	var packed sql.NullString
	// The ordered subquery walks the primary key in UID order; an ORDER BY
	// inside group_concat would sort instead, at twice the cost. SQLite does
	// not promise to keep a subquery's order through an aggregate, so the
	// order is checked (cheaply) and restored if need be.
	err := s.db.QueryRowContext(ctx, `SELECT group_concat(uid || ' ' || modseq || ' ' || sysflags || ' ' || keywords, char(10))
		FROM (SELECT uid, modseq, sysflags, keywords FROM messages WHERE `+where+` ORDER BY uid)`, args...).Scan(&packed)
	if err != nil {
		return nil, fmt.Errorf("maildir: index: %w", err)
	}
	out, err := parsePacked(packed.String)
	if err != nil {
		return nil, err
	}
	byUID := func(a, b mailstore.MessageMeta) int { return cmp.Compare(a.UID, b.UID) }
	if !slices.IsSortedFunc(out, byUID) {
		slices.SortFunc(out, byUID)
	}
	return out, nil
}

// parsePacked parses the lines metas asks SQLite for.
func parsePacked(p string) ([]mailstore.MessageMeta, error) {
	if p == "" {
		return nil, nil
	}
	out := make([]mailstore.MessageMeta, 0, strings.Count(p, "\n")+1)
	for len(p) > 0 {
		line := p
		if i := strings.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		var f [3]uint64
		for k := range f {
			i := 0
			for i < len(line) && line[i] >= '0' && line[i] <= '9' {
				f[k] = f[k]*10 + uint64(line[i]-'0')
				i++
			}
			if i == 0 || i >= len(line) || line[i] != ' ' {
				return nil, fmt.Errorf("maildir: index: bad packed row %q", line)
			}
			line = line[i+1:]
		}
		out = append(out, mailstore.MessageMeta{UID: uint32(f[0]), ModSeq: f[1], Flags: joinFlags(int64(f[2]), line)})
	}
	return out, nil
}

func (mb *mailbox) Changes(ctx context.Context, since uint64) ([]mailstore.MessageMeta, []uint32, mailstore.MailboxState, error) {
	r, err := mb.current(ctx)
	if err != nil || since >= r.modSeq {
		return nil, nil, r.state(), err
	}
	changed, err := mb.s.metas(ctx, `mailbox_id = ? AND modseq > ?`, mb.id, since)
	if err != nil {
		return nil, nil, r.state(), err
	}
	rows, err := mb.s.db.QueryContext(ctx, `SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, mb.id, since)
	if err != nil {
		return nil, nil, r.state(), fmt.Errorf("maildir: index: %w", err)
	}
	defer rows.Close()
	var expunged []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, nil, r.state(), fmt.Errorf("maildir: index: %w", err)
		}
		expunged = append(expunged, uid)
	}
	return changed, expunged, r.state(), rows.Err()
}

// msgRow is a messages row with what the file operations need.
type msgRow struct {
	uid      uint32
	modSeq   uint64
	sys      int64
	keywords string
	size     int64
	date     int64
	tzoff    int
	base     string
	info     string
}

// fileReader serves a message file.
type fileReader struct {
	*os.File
	size int64
}

func (f fileReader) Size() int64 { return f.size }

// Stream implements mailstore.StreamReader: the file itself from off, so
// that the connection can send it with sendfile(2). ReadAt (pread) does
// not use the file offset Seek sets, so the two mix.
func (f fileReader) Stream(off, n int64) (io.Reader, error) {
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	return &io.LimitedReader{R: f.File, N: n}, nil
}

// OpenMessage implements mailstore.Mailbox. Another session may rename the
// file (a flag change) between the index lookup and the open, so a missing
// file is looked up again before the message counts as gone. Many
// messages read in turn go through OpenBatch instead, one lookup a batch.
func (mb *mailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	// The common case in one query; anything unusual (no row, no file)
	// takes the careful path below, which tells the cases apart.
	var name, file string
	err := mb.s.db.QueryRowContext(ctx, `SELECT b.name, m.base || m.info FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
		WHERE m.mailbox_id = ? AND m.uid = ?`, mb.id, uid).Scan(&name, &file)
	if err == nil && !strings.ContainsRune(file, '/') {
		if dir, err := mb.s.dirOf(name); err == nil {
			if f, err := openRegular(filepath.Join(dir, "cur", file)); err == nil {
				return statReader(f, uid)
			}
		}
	}
	for attempt := 0; attempt < 4; attempt++ {
		r, ok, err := mb.s.rowBy(ctx, mb.s.db, mb.id, "")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notExist(mb.Name())
		}
		if attempt == 3 {
			// Renamed or removed by another program: merge and look again.
			if r, err = mb.current(ctx); err != nil {
				return nil, err
			}
		}
		name, ok, err := mb.lookupName(ctx, uid)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("maildir: UID %d: %w", uid, mailstore.ErrNotExist)
		}
		// O_NOFOLLOW (openRegular): a message file replaced by a symbolic
		// link since the scan (which indexes regular files only) is not
		// followed out of the mail root.
		f, err := openRegular(filepath.Join(r.dir, "cur", name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("maildir: UID %d: file is a symbolic link: %w", uid, mailstore.ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("maildir: open UID %d: %w", uid, err)
		}
		return statReader(f, uid)
	}
	return nil, fmt.Errorf("maildir: UID %d: file gone: %w", uid, mailstore.ErrNotExist)
}

// statReader returns the open message file f with its size.
func statReader(f *os.File, uid uint32) (mailstore.MessageReader, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("maildir: open UID %d: %w", uid, err)
	}
	return fileReader{f, fi.Size()}, nil
}

// SetCache implements mailstore.Mailbox: one write transaction for all
// the entries, committed lazily (writeLazy: the cache is rebuilt from
// the files when lost).
func (mb *mailbox) SetCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return mb.s.writeLazy(ctx, func(w *wtx) error {
		for _, e := range entries {
			// INSERT ... SELECT stores nothing for a UID expunged meanwhile.
			if err := w.exec(`INSERT OR REPLACE INTO cache(mailbox_id, uid, data)
				SELECT mailbox_id, uid, ? FROM messages WHERE mailbox_id = ? AND uid = ?`, slices.Clone(e.Data), mb.id, e.UID); err != nil {
				return err
			}
		}
		return nil
	})
}

// StoreFlags implements mailstore.Mailbox. The index is the truth; the
// file is renamed too so other mail readers see the flags, and a failed
// rename only leaves the old name (the index keeps the name on disk, so it
// is not taken for another program's change).
func (mb *mailbox) StoreFlags(ctx context.Context, uids []uint32, op mailstore.FlagOp, flags []string, unchangedSince uint64) ([]mailstore.MessageMeta, []uint32, error) {
	flags, err := mailstore.NormalizeFlags(flags)
	if err != nil {
		return nil, nil, err
	}
	var changed []mailstore.MessageMeta
	var failed []uint32
	err = mb.writeSyncedLazy(ctx, func(w *wtx, r *mboxRow) error { // as Dovecot: no fsync for flags
		changed, failed = nil, nil
		msgs, err := mb.s.selectMsgs(ctx, w.qtx, r.id, uids)
		if err != nil {
			return err
		}
		km, err := w.keywords(r.id)
		if err != nil {
			return err
		}
		curDir := filepath.Join(r.dir, "cur")
		modSeq := r.modSeq + 1
		for _, m := range msgs {
			if unchangedSince != 0 && m.modSeq > unchangedSince {
				failed = append(failed, m.uid)
				continue
			}
			old := joinFlags(m.sys, m.keywords)
			nf := mailstore.ApplyFlags(old, op, flags)
			if slices.Equal(nf, old) {
				continue
			}
			sys, kws := splitFlags(nf)
			info := infoFor(sys, kws, km.index)
			if info != m.info {
				if err := os.Rename(filepath.Join(curDir, m.base+m.info), filepath.Join(curDir, m.base+info)); err != nil {
					mb.s.log.Warn("maildir: cannot rename message for its flags", "file", m.base+m.info, "err", err)
					info = m.info
				} else {
					oldName, newName := filepath.Join(curDir, m.base+m.info), filepath.Join(curDir, m.base+info)
					w.undo = append(w.undo, func() { os.Rename(newName, oldName) })
				}
			}
			if err := w.exec(`UPDATE messages SET modseq = ?, sysflags = ?, keywords = ?, info = ? WHERE mailbox_id = ? AND uid = ?`,
				modSeq, sys, kws, info, r.id, m.uid); err != nil {
				return err
			}
			changed = append(changed, mailstore.MessageMeta{UID: m.uid, ModSeq: modSeq, Flags: joinFlags(sys, kws)})
		}
		if len(changed) == 0 {
			return nil
		}
		if err := w.saveKeywords(*r, km); err != nil {
			return err
		}
		r.modSeq = modSeq
		w.stamp(r)
		w.touched[r.id] = true
		return w.saveRow(r)
	})
	if err != nil {
		return nil, nil, err
	}
	return changed, failed, nil
}

func (mb *mailbox) Expunge(ctx context.Context, uids []uint32) ([]uint32, error) {
	var gone []uint32
	err := mb.writeSyncedLazy(ctx, func(w *wtx, r *mboxRow) error { // as Dovecot: no fsync for expunges
		gone = nil
		msgs, err := mb.s.selectMsgs(ctx, w.qtx, r.id, uids)
		if err != nil || len(msgs) == 0 {
			return err
		}
		curDir := filepath.Join(r.dir, "cur")
		files := make([]expungedFile, len(msgs))
		for i, m := range msgs {
			files[i] = expungedFile{uid: m.uid, base: m.base, info: m.info, unlinkDir: curDir}
			gone = append(gone, m.uid)
		}
		if err := w.recordExpunges(r, files); err != nil {
			return err
		}
		if err := mb.s.syncDir(curDir); err != nil {
			return err
		}
		if err := w.compactUIDList(r); err != nil {
			return err
		}
		w.stamp(r)
		return w.saveRow(r)
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}

// compactUIDList rewrites the uidlist once expunges have left it more than
// twice as long as needed.
func (w *wtx) compactUIDList(r *mboxRow) error {
	var n int64
	if err := w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&n); err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	if r.uidlistLines <= 2*n+1000 {
		return nil
	}
	return w.rewriteUIDList(r)
}

func (mb *mailbox) CopyTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(ctx, uids, dest, false)
}

func (mb *mailbox) MoveTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(ctx, uids, dest, true)
}

// copyTo copies (hard links, or copies where links fail) the messages into
// the destination's cur/ under new names and records them in one
// transaction; for a move, the sources are expunged in the same one, so no
// other session sees the message in both mailboxes or in neither.
func (mb *mailbox) copyTo(ctx context.Context, uids []uint32, dest string, move bool) (uint32, []uint32, []uint32, error) {
	dn, err := mailstore.CanonicalName(dest)
	if err != nil {
		return 0, nil, nil, err
	}
	var uv uint32
	var src, dst []uint32
	err = mb.writeSynced(ctx, func(w *wtx, r *mboxRow) error {
		src, dst = nil, nil
		d := r
		if dn != r.name {
			dr, err := w.ensureRow(0, dn)
			if err != nil {
				return err
			}
			if err := w.sync(&dr); err != nil {
				return err
			}
			d = &dr
		}
		uv = d.uidValidity
		msgs, err := mb.s.selectMsgs(ctx, w.qtx, r.id, uids)
		if err != nil || len(msgs) == 0 {
			return err
		}
		km, err := w.keywords(d.id)
		if err != nil {
			return err
		}
		srcCur, dstCur := filepath.Join(r.dir, "cur"), filepath.Join(d.dir, "cur")
		d.modSeq++
		var lines []uidLine
		var gone []expungedFile
		for _, m := range msgs {
			base := mb.s.newBase()
			info := infoFor(m.sys, m.keywords, km.index)
			to := filepath.Join(dstCur, base+info)
			if err := mb.s.linkOrCopy(filepath.Join(srcCur, m.base+m.info), to); err != nil {
				return err
			}
			w.undo = append(w.undo, func() { os.Remove(to) })
			uid := d.uidNext
			d.uidNext++
			err := w.exec(`INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.id, uid, d.modSeq, m.sys, m.keywords, m.size, m.date, m.tzoff, base, info)
			if err != nil {
				return err
			}
			if err := w.setSaveDate(d.id, uid, true); err != nil {
				return err
			}
			if err := w.exec(`INSERT INTO cache(mailbox_id, uid, data) SELECT ?, ?, data FROM cache WHERE mailbox_id = ? AND uid = ?`,
				d.id, uid, r.id, m.uid); err != nil {
				return err
			}
			lines = append(lines, uidLine{uid, base})
			src, dst = append(src, m.uid), append(dst, uid)
			gone = append(gone, expungedFile{uid: m.uid, base: m.base, info: m.info, unlinkDir: srcCur})
		}
		if err := mb.s.syncDir(dstCur); err != nil {
			return err
		}
		if err := mb.s.appendUIDList(d.dir, lines); err != nil {
			return err
		}
		d.uidlistLines += int64(len(lines))
		if err := w.saveKeywords(*d, km); err != nil {
			return err
		}
		w.touched[d.id] = true
		if move {
			if err := w.recordExpunges(r, gone); err != nil {
				return err
			}
			if err := mb.s.syncDir(srcCur); err != nil {
				return err
			}
		}
		w.stamp(d)
		if err := w.saveRow(d); err != nil {
			return err
		}
		if d != r {
			w.stamp(r)
			return w.saveRow(r)
		}
		return nil
	})
	if err != nil {
		return 0, nil, nil, err
	}
	return uv, src, dst, nil
}

// linkOrCopy gives a message file a second name; message files are never
// changed in place, so a hard link is a copy. Where links fail (another
// file system, a file system without them) the content is copied.
func (s *Store) linkOrCopy(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return ioErr("copy", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return ioErr("copy", err)
	}
	_, _, err = s.writeTmp(to, in, fi.ModTime(), nil)
	return err
}

// ClaimRecent implements mailstore.Mailbox. When every message is claimed
// already (the usual case) it only reads: it then behaves as if it ran
// when it read the row.
func (mb *mailbox) ClaimRecent(ctx context.Context) (uint32, error) {
	r, err := mb.current(ctx)
	if err != nil {
		return 0, err
	}
	if r.recentUID+1 >= r.uidNext {
		return r.recentUID + 1, nil
	}
	var first uint32
	err = mb.writeSyncedLazy(ctx, func(w *wtx, r *mboxRow) error { // \Recent twice after a power loss harms no one
		first = r.recentUID + 1
		r.recentUID = r.uidNext - 1
		return w.saveRow(r)
	})
	return first, err
}

// Watch implements mailstore.Mailbox. Commits of this process signal at
// once; changes by other processes and programs are seen through inotify
// on new/, cur/ and the index's -wal file (watch.go), or by a poll every
// Options.PollInterval where inotify cannot watch. Both run only while some
// handle of this Store has called Watch.
func (mb *mailbox) Watch() <-chan struct{} {
	mb.mu.Lock()
	start := !mb.watching && !mb.closed
	mb.watching = true
	name := mb.name
	mb.mu.Unlock()
	if start {
		dir, err := mb.s.dirOf(name)
		if err != nil {
			dir = mb.s.root // unreachable for an open mailbox; the index is still watched
		}
		mb.s.watchStart(mb.id, dir)
	}
	return mb.watch
}

// WatchesOutside implements mailstore.OutsideWatcher: Watch signals the
// changes of other processes and programs too.
func (mb *mailbox) WatchesOutside() bool { return true }

// Close implements mailstore.Mailbox; the Watch channel is not closed.
func (mb *mailbox) Close() error {
	mb.mu.Lock()
	if mb.closed {
		mb.mu.Unlock()
		return nil
	}
	mb.closed = true
	watching := mb.watching
	mb.mu.Unlock()
	mb.s.sh.watchers.Unregister(mb.id, mb.watch)
	if watching {
		mb.s.watchStop(mb.id)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

var (
	_ io.ReaderAt            = fileReader{}
	_ mailstore.StreamReader = fileReader{}
)
