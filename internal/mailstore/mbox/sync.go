package mbox

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"

	"github.com/postern/postern/internal/mailstore"
)

// tailLen is how many bytes before the old end of a file are hashed to
// tell an append (by an MTA) from a rewrite (by another MUA).
const tailLen = 4096

// openFile is a mailbox file open and locked for writing.
type openFile struct {
	f    *os.File
	path string
	lk   *fileLock
	sh   *shared
	// session is c-client's session lock, held while we may change
	// bytes already in the file; uwBusy says another program (a UW
	// read-write session) holds it: then the file is only appended to
	// (sessionlock.go).
	session *uwSessionLock
	uwBusy  bool
}

func (of *openFile) close() {
	if of == nil {
		return
	}
	of.session.release()
	of.lk.unlock()
	of.f.Close()
	of.sh.fileMu.Unlock()
}

// fileID is what the index compares to see whether a file changed.
type fileID struct {
	size, mtime int64
	ino         uint64
}

func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino = st.Ino
	}
	return id
}

func (r *mboxRow) matches(id fileID) bool {
	return r.uidValidity != 0 && r.fsize == id.size && r.fmtime == id.mtime && r.fino == id.ino
}

// appendedTo reports whether f (locked, with identity id) only grew since
// the row was taken: same inode, and the bytes before the old end as they
// were (an MTA delivered), the test syncFile uses for its fast path. The
// row's offsets then still hold: a message can be read without merging
// first. Without this, a reader retried while an MTA kept delivering and
// gave up ("file keeps changing", found by integration/stress_test.go).
func (r *mboxRow) appendedTo(f *os.File, id fileID) bool {
	return r.uidValidity != 0 && r.fsize >= 0 && r.fino == id.ino && id.size > r.fsize &&
		slices.Equal(tailHash(f, r.fsize), r.tail)
}

// upToDate reports whether the row describes the file as it is: one stat
// of the file and one of its journal (an interrupted rewrite must be
// finished before anything is read).
func (s *Store) upToDate(r *mboxRow, file string) bool {
	if _, err := os.Stat(s.journalPath(file)); err == nil {
		return false
	}
	fi, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return r.uidValidity != 0 && r.fsize == -1
	}
	return err == nil && r.matches(idOf(fi))
}

// ensureRow returns the row of a mailbox, made when the index has none
// (UIDVALIDITY is then read from the file, or handed out, by the sync).
func (w *wtx) ensureRow(name string) (mboxRow, error) {
	r, ok, err := rowByName(w.ctx, w.tx, name)
	if err != nil || ok {
		return r, err
	}
	if err := w.exec(`INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq) VALUES (?, 0, 1, 1)`, name); err != nil {
		return r, err
	}
	r, _, err = rowByName(w.ctx, w.tx, name)
	return r, err
}

// prepare brings the row up to date with the mailbox file. With create, or
// when the file exists, the file is returned open and locked for writing
// (the caller closes it); otherwise the mailbox is empty and nil is
// returned.
func (w *wtx) prepare(r *mboxRow, file string, create bool) (*openFile, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(file, flags, w.s.opts.FileMode)
	if errors.Is(err, os.ErrNotExist) && !create {
		return nil, w.syncMissing(r)
	}
	if err != nil {
		return nil, ioErr("open "+file, err)
	}
	w.s.sh.fileMu.Lock()
	lk, err := w.s.lockFile(w.ctx, f, file, true)
	if err != nil {
		w.s.sh.fileMu.Unlock()
		f.Close()
		return nil, err
	}
	of := &openFile{f: f, path: file, lk: lk, sh: w.s.sh}
	if !w.s.readOnly {
		of.session, of.uwBusy = takeUWSessionLock(f)
	}
	if err := w.syncFile(r, of); err != nil {
		of.close()
		return nil, err
	}
	return of, nil
}

// syncMissing handles a mailbox without a file: empty.
func (w *wtx) syncMissing(r *mboxRow) error {
	if r.uidValidity == 0 {
		uv, err := w.q.NextUIDValidity(w.s.opts.Now())
		if err != nil {
			return err
		}
		r.uidValidity, r.uidNext = uv, 1
	} else if r.fsize == -1 {
		return nil
	}
	idx, err := allMsgs(w.ctx, w.tx, r.id)
	if err != nil {
		return err
	}
	if len(idx) > 0 {
		r.modSeq++
		uids := make([]uint32, len(idx))
		for i, m := range idx {
			uids[i] = m.uid
		}
		if err := w.expungeUIDs(r.id, uids, r.modSeq); err != nil {
			return err
		}
		w.touched[r.id] = true
	}
	r.fsize, r.fmtime, r.fino, r.tail, r.pseudoNext = -1, 0, 0, nil, 0
	return w.saveRow(r)
}

// tailHash hashes the tailLen bytes of f before offset end.
func tailHash(f *os.File, end int64) []byte {
	start := max(0, end-tailLen)
	h := sha256.New()
	io.Copy(h, io.NewSectionReader(f, start, end-start))
	return h.Sum(nil)[:16]
}

// syncFile merges the locked file into the index: nothing when it is as
// the index last saw it; the new messages only when it grew and the bytes
// before its old end are unchanged (an MTA delivered); a full parse
// otherwise, keeping UIDs from X-UID (and, for messages without one, from
// their fingerprint).
func (w *wtx) syncFile(r *mboxRow, of *openFile) error {
	replayed, err := w.s.replayJournal(of)
	if err != nil {
		return err
	}
	fi, err := of.f.Stat()
	if err != nil {
		return ioErr("stat", err)
	}
	id := idOf(fi)
	if !replayed && r.matches(id) {
		return nil
	}
	loc := w.s.opts.Location
	if !replayed && r.uidValidity != 0 && r.fsize >= 0 && r.fino == id.ino && id.size > r.fsize &&
		slices.Equal(tailHash(of.f, r.fsize), r.tail) {
		raws, err := scanMbox(io.NewSectionReader(of.f, r.fsize, id.size-r.fsize), r.fsize, loc)
		if err == nil {
			wasEmpty := r.fsize == 0 && r.pseudoNext == 0
			if err := w.merge(r, raws, nil, false, nil); err != nil {
				return err
			}
			if wasEmpty && len(raws) > 0 {
				// The MTA's first message carries no X-IMAPbase.
				if err := w.baseNow(r, of); err != nil {
					return err
				}
			}
			return w.noteFile(r, of)
		}
		w.s.log.Warn("mbox: appended data is not mail; reading the whole file", "file", of.path, "err", err)
	}
	if r.fsize != -2 && r.uidValidity != 0 {
		w.s.log.Info("mbox: file changed by another program; reading it again", "file", of.path)
	}
	raws, err := scanMbox(io.NewSectionReader(of.f, 0, id.size), 0, loc)
	if err != nil {
		return fmt.Errorf("mbox: %s: %w", of.path, err)
	}
	idx, err := allMsgs(w.ctx, w.tx, r.id)
	if err != nil {
		return err
	}
	var fd *folderData
	r.pseudoNext = 0
	if len(raws) > 0 && raws[0].hdr.imap != nil {
		fd = raws[0].hdr.imap
		r.pseudoNext = raws[0].next
		raws = raws[1:]
	} else if len(raws) > 0 {
		fd = raws[0].hdr.base
	}
	if err := w.merge(r, raws, idx, true, fd); err != nil {
		return err
	}
	if fd == nil && len(raws) > 0 {
		if err := w.baseNow(r, of); err != nil {
			return err
		}
	}
	return w.noteFile(r, of)
}

// baseNow writes the folder data (UIDVALIDITY, UIDLAST) and the X-UIDs
// into a file that carried none, at once and under the lock the merge ran
// under, rather than lazily: UW's c-client opening the file read-write
// meanwhile found no X-IMAPbase, made up its own UIDVALIDITY and wrote
// it, which the index then had to take, and every client had to resync
// (found by integration/stress_test.go). UW did the same on its first
// read-write open.
func (w *wtx) baseNow(r *mboxRow, of *openFile) error {
	if w.s.readOnly {
		return nil // a migration's source is never written
	}
	r.baseDirty = true
	return w.flush(r, of)
}

// noteFile records the file's identity in the row (and saves it).
func (w *wtx) noteFile(r *mboxRow, of *openFile) error {
	fi, err := of.f.Stat()
	if err != nil {
		return ioErr("stat", err)
	}
	id := idOf(fi)
	r.fsize, r.fmtime, r.fino = id.size, id.mtime, id.ino
	r.tail = tailHash(of.f, id.size)
	return w.saveRow(r)
}

// merge gives the framed messages their UIDs and flags and writes their
// rows. full says raws is the whole file and idx the index's rows (those
// not found again are expunged); otherwise raws were appended after the
// last known message. fd is the file's folder data (X-IMAP or X-IMAPbase).
func (w *wtx) merge(r *mboxRow, raws []rawMsg, idx []msgRow, full bool, fd *folderData) error {
	fresh := r.uidValidity == 0
	if full && fd != nil && fd.uidValidity != r.uidValidity {
		if !fresh {
			w.s.log.Warn("mbox: UIDVALIDITY changed by another program", "mailbox", r.name, "old", r.uidValidity, "new", fd.uidValidity)
			for _, q := range []string{`DELETE FROM messages WHERE mailbox_id = ?`, `DELETE FROM cache WHERE mailbox_id = ?`, `DELETE FROM expunged WHERE mailbox_id = ?`,
				`DELETE FROM savedate WHERE mailbox_id = ?`} {
				if err := w.exec(q, r.id); err != nil {
					return err
				}
			}
			idx, fresh = nil, true
		}
		r.uidValidity, r.uidNext, r.recentUID = fd.uidValidity, 1, 0
		if err := w.q.NoteUIDValidity(fd.uidValidity); err != nil {
			return err
		}
	} else if fresh {
		uv, err := w.q.NextUIDValidity(w.s.opts.Now())
		if err != nil {
			return err
		}
		r.uidValidity, r.uidNext = uv, 1
	}
	// The first UID the index never handed out. UIDLAST may be past it
	// (an append killed after writing the file and moving UIDLAST, before
	// its commit; or another program's appends): the X-UIDs of those
	// messages are then kept, not renumbered, since no client can have
	// seen them under another UID. Renumbering left the file's X-UID and
	// the index disagreeing until the next rewrite, so a lost index in
	// between brought the old number back (found by the crash test).
	idxNext := r.uidNext
	if fresh {
		idxNext = 0
	}
	if fd != nil && fd.uidValidity == r.uidValidity {
		if fd.uidLast >= r.uidNext {
			r.uidNext = fd.uidLast + 1
		}
		for _, k := range fd.keywords {
			if !slices.Contains(r.keywords, k) {
				r.keywords = append(r.keywords, k)
			}
		}
		if fd.uidLast+1 != r.uidNext || !slices.Equal(fd.keywords, r.keywords) {
			r.baseDirty = true
		}
	} else if full && len(raws) > 0 {
		r.baseDirty = true
	}
	byUID := make(map[uint32]*msgRow, len(idx))
	for i := range idx {
		byUID[idx[i].uid] = &idx[i]
	}
	matched := make(map[uint32]bool, len(idx))
	lastUID := uint32(0)
	if !full {
		lastUID = r.uidNext - 1
	}
	modSeq := r.modSeq + 1
	changed := false
	j := 0
	firstRecent := uint32(0)
	for i := range raws {
		raw := &raws[i]
		var uid uint32
		var old *msgRow
		if h := raw.hdr; h.hasUID && h.uid > lastUID && (fresh || h.uid >= idxNext || byUID[h.uid] != nil) {
			uid, old = h.uid, byUID[h.uid]
		} else {
			for j < len(idx) && idx[j].uid <= lastUID {
				j++
			}
			for k := j; k < len(idx) && k < j+8; k++ {
				if idx[k].fp == raw.fp && !matched[idx[k].uid] {
					uid, old = idx[k].uid, &idx[k]
					break
				}
			}
		}
		if uid == 0 {
			uid = r.uidNext
		}
		if uid >= r.uidNext {
			r.uidNext = uid + 1
		}
		lastUID = uid
		m := msgRow{
			uid: uid, from: raw.from, data: raw.data, hdrEnd: raw.hdrEnd, end: raw.end, next: raw.next,
			visLen: int64(len(raw.hdr.visible)), size: raw.size(), fp: raw.fp,
			date: raw.date.Unix(),
		}
		_, m.tzoff = raw.date.Zone()
		fileFlags := raw.hdr.flags()
		switch {
		case old != nil && old.dirty:
			m.flags, m.dirty = old.flags, true
		default:
			m.flags = fileFlags
		}
		for _, f := range m.flags {
			if f[0] != '\\' && !slices.Contains(r.keywords, f) {
				r.keywords = append(r.keywords, f)
				r.baseDirty = true
			}
		}
		if !raw.hdr.hasUID || raw.hdr.uid != uid {
			m.dirty = true
		}
		if old != nil {
			matched[uid] = true
			m.modSeq = old.modSeq
			if !slices.Equal(old.flags, m.flags) {
				m.modSeq, changed = modSeq, true
			}
			if old.fp != m.fp {
				if err := w.exec(`DELETE FROM cache WHERE mailbox_id = ? AND uid = ?`, r.id, uid); err != nil {
					return err
				}
			}
			if oldEqual(old, &m) {
				continue
			}
		} else {
			m.modSeq, changed = modSeq, true
			if fresh && firstRecent == 0 && !raw.hdr.old {
				firstRecent = uid
			}
		}
		if err := w.putMsg(r.id, &m); err != nil {
			return err
		}
	}
	if full {
		var gone []uint32
		for _, m := range idx {
			if !matched[m.uid] {
				gone = append(gone, m.uid)
			}
		}
		if len(gone) > 0 {
			if err := w.expungeUIDs(r.id, gone, modSeq); err != nil {
				return err
			}
			changed = true
		}
	}
	if fresh {
		r.recentUID = r.uidNext - 1
		if firstRecent != 0 {
			r.recentUID = firstRecent - 1
		}
	}
	if changed {
		r.modSeq = modSeq
		w.touched[r.id] = true
	}
	return nil
}

// oldEqual compares rows (flags are slices, so == cannot).
func oldEqual(a, b *msgRow) bool {
	return a.uid == b.uid && a.modSeq == b.modSeq && a.from == b.from && a.data == b.data && a.hdrEnd == b.hdrEnd &&
		a.end == b.end && a.next == b.next && a.visLen == b.visLen && a.size == b.size && a.date == b.date &&
		a.tzoff == b.tzoff && a.fp == b.fp && a.dirty == b.dirty && slices.Equal(a.flags, b.flags)
}

// current returns the mailbox's row, merging the file first when it
// changed. ErrNotExist for a mailbox that is not there.
func (s *Store) current(ctx context.Context, name string) (mboxRow, node, error) {
	n, err := s.lookup(name)
	if err != nil {
		return mboxRow{}, n, err
	}
	r, ok, err := rowByName(ctx, s.db, name)
	if err != nil {
		return r, n, err
	}
	if ok && s.upToDate(&r, n.file) {
		return r, n, nil
	}
	err = s.write(ctx, func(w *wtx) error {
		var err error
		if r, err = w.ensureRow(name); err != nil {
			return err
		}
		of, err := w.prepare(&r, n.file, false)
		of.close()
		return err
	})
	return r, n, err
}

var _ = mailstore.ErrNotExist
