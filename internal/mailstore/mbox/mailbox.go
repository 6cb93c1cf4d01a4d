package mbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// mailbox is an open mailbox: a name. Every call reads the index (after
// merging the file when it changed), so it sees every other session's and
// program's changes.
type mailbox struct {
	s     *Store
	watch chan struct{}

	mu       sync.Mutex
	name     string // guarded by mu
	id       int64  // guarded by mu
	watching bool   // guarded by mu
	closed   bool   // guarded by mu
}

var _ mailstore.Mailbox = (*mailbox)(nil)

// Open implements mailstore.Store.
func (s *Store) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	n, err := s.canonical(name)
	if err != nil {
		return nil, err
	}
	r, _, err := s.current(ctx, n)
	if err != nil {
		return nil, err
	}
	mb := &mailbox{s: s, name: n, id: r.id, watch: make(chan struct{}, 1)}
	s.sh.watchers.Register(r.id, mb.watch)
	return mb, nil
}

func (mb *mailbox) Name() string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.name
}

// current returns the row, following a rename of the mailbox by its id.
func (mb *mailbox) current(ctx context.Context) (mboxRow, node, error) {
	mb.mu.Lock()
	name, id := mb.name, mb.id
	mb.mu.Unlock()
	if r, ok, err := rowByID(ctx, mb.s.db, id); err == nil && ok && r.name != name {
		mb.mu.Lock()
		mb.name = r.name
		mb.mu.Unlock()
		name = r.name
	}
	r, n, err := mb.s.current(ctx, name)
	if err == nil && r.id != id {
		mb.s.sh.watchers.Unregister(id, mb.watch)
		mb.s.sh.watchers.Register(r.id, mb.watch)
		mb.mu.Lock()
		mb.id = r.id
		mb.mu.Unlock()
	}
	return r, n, err
}

// writeSynced runs fn in a write transaction with the mailbox file open,
// locked and merged (of is nil when the mailbox has no file).
func (mb *mailbox) writeSynced(ctx context.Context, fn func(w *wtx, r *mboxRow, of *openFile) error) error {
	_, nd, err := mb.current(ctx)
	if err != nil {
		return err
	}
	name := mb.Name()
	return mb.s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(name)
		if err != nil {
			return err
		}
		of, err := w.prepare(&r, nd.file, false)
		if err != nil {
			return err
		}
		defer of.close()
		if err := fn(w, &r, of); err != nil {
			return err
		}
		return w.saveRow(&r)
	})
}

func (mb *mailbox) State(ctx context.Context) (mailstore.MailboxState, error) {
	r, _, err := mb.current(ctx)
	return r.state(), err
}

func (mb *mailbox) Messages(ctx context.Context) ([]mailstore.MessageMeta, error) {
	r, _, err := mb.current(ctx)
	if err != nil {
		return nil, err
	}
	return mb.s.metas(ctx, `mailbox_id = ?`, r.id)
}

// metas loads message metadata in UID order, packed by SQLite into one
// text value (cheaper than stepping through rows with database/sql).
func (s *Store) metas(ctx context.Context, where string, args ...any) ([]mailstore.MessageMeta, error) {
	var packed *string
	err := s.db.QueryRowContext(ctx, `SELECT group_concat(uid || ' ' || modseq || ' ' || flags, char(10))
		FROM (SELECT uid, modseq, flags FROM messages WHERE `+where+` ORDER BY uid)`, args...).Scan(&packed)
	if err != nil {
		return nil, fmt.Errorf("mbox: index: %w", err)
	}
	if packed == nil {
		return nil, nil
	}
	p := *packed
	out := make([]mailstore.MessageMeta, 0, strings.Count(p, "\n")+1)
	for len(p) > 0 {
		line := p
		if i := strings.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("mbox: index: bad packed row %q", line)
		}
		var uid, ms uint64
		fmt.Sscan(f[0], &uid)
		fmt.Sscan(f[1], &ms)
		fl := f[2:]
		if len(fl) == 0 {
			fl = nil
		}
		out = append(out, mailstore.MessageMeta{UID: uint32(uid), ModSeq: ms, Flags: fl})
	}
	slices.SortFunc(out, func(a, b mailstore.MessageMeta) int { return int(int64(a.UID) - int64(b.UID)) })
	return out, nil
}

func (mb *mailbox) Changes(ctx context.Context, since uint64) ([]mailstore.MessageMeta, []uint32, mailstore.MailboxState, error) {
	r, _, err := mb.current(ctx)
	if err != nil || since >= r.modSeq {
		return nil, nil, r.state(), err
	}
	changed, err := mb.s.metas(ctx, `mailbox_id = ? AND modseq > ?`, r.id, since)
	if err != nil {
		return nil, nil, r.state(), err
	}
	rows, err := mb.s.db.QueryContext(ctx, `SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`, r.id, since)
	if err != nil {
		return nil, nil, r.state(), fmt.Errorf("mbox: index: %w", err)
	}
	defer rows.Close()
	var expunged []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, nil, r.state(), fmt.Errorf("mbox: index: %w", err)
		}
		expunged = append(expunged, uid)
	}
	return changed, expunged, r.state(), rows.Err()
}

func (mb *mailbox) Info(ctx context.Context, uids []uint32) ([]mailstore.MessageInfo, error) {
	r, _, err := mb.current(ctx)
	if err != nil || len(uids) == 0 {
		return nil, err
	}
	msgs, err := selectMsgs(ctx, mb.s.db, r.id, uids)
	if err != nil {
		return nil, err
	}
	out := make([]mailstore.MessageInfo, 0, len(msgs))
	for _, m := range msgs {
		var fl []string
		if len(m.flags) > 0 {
			fl = m.flags
		}
		mi := mailstore.MessageInfo{
			MessageMeta:  mailstore.MessageMeta{UID: m.uid, ModSeq: m.modSeq, Flags: fl},
			Size:         m.size,
			InternalDate: time.Unix(m.date, 0).In(time.FixedZone("", m.tzoff)),
		}
		if err := mb.s.db.QueryRowContext(ctx, `SELECT data FROM cache WHERE mailbox_id = ? AND uid = ?`, r.id, m.uid).Scan(&mi.Cache); err != nil && !isNoRows(err) {
			return nil, fmt.Errorf("mbox: index: %w", err)
		}
		var saved int64
		if err := mb.s.db.QueryRowContext(ctx, `SELECT date FROM savedate WHERE mailbox_id = ? AND uid = ?`, r.id, m.uid).Scan(&saved); err == nil {
			mi.SaveDate = time.Unix(saved, 0)
		} else if !isNoRows(err) {
			return nil, fmt.Errorf("mbox: index: %w", err)
		}
		out = append(out, mi)
	}
	return out, nil
}

// memReader serves a message from memory.
type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

// fileReader serves a large message from a private, unlinked copy, so a
// later rewrite of the mailbox in place cannot change it under the reader.
type fileReader struct {
	*os.File
	size int64
}

func (f fileReader) Size() int64 { return f.size }

// memLimit is the largest message OpenMessage keeps in memory.
const memLimit = 8 << 20

// OpenMessage implements mailstore.Mailbox: the visible header (UW's
// status fields left out) and the body, read under a shared lock.
func (mb *mailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	for attempt := 0; ; attempt++ {
		r, nd, err := mb.current(ctx)
		if err != nil {
			return nil, err
		}
		msgs, err := selectMsgs(ctx, mb.s.db, r.id, []uint32{uid})
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			return nil, fmt.Errorf("mbox: UID %d: %w", uid, mailstore.ErrNotExist)
		}
		if mb.s.beforeRead != nil {
			mb.s.beforeRead()
		}
		rd, stale, err := mb.s.readMessage(ctx, &r, nd.file, &msgs[0])
		if err != nil || !stale {
			return rd, err
		}
		if attempt >= 3 {
			return mb.readLocked(ctx, uid)
		}
	}
}

// readMessage reads a message under the shared locks; stale when the
// file changed since the row was read (the caller merges and retries).
func (s *Store) readMessage(ctx context.Context, r *mboxRow, file string, m *msgRow) (mailstore.MessageReader, bool, error) {
	s.sh.fileMu.RLock()
	defer s.sh.fileMu.RUnlock()
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, true, nil
		}
		return nil, false, ioErr("open", err)
	}
	defer f.Close()
	lk, err := s.lockFile(ctx, f, file, false)
	if err != nil {
		return nil, false, err
	}
	defer lk.unlock()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, ioErr("stat", err)
	}
	if id := idOf(fi); !r.matches(id) && !r.appendedTo(f, id) {
		return nil, true, nil
	}
	rd, err := readLockedFile(f, file, m)
	return rd, false, err
}

// readAt2 reads message m of the locked file f.
func readLockedFile(f *os.File, file string, m *msgRow) (mailstore.MessageReader, error) {
	hdr, err := readAt(f, m.data, m.hdrEnd-m.data)
	if err != nil {
		return nil, err
	}
	vis := scanHeader(hdr).visible
	if int64(len(vis)) != m.visLen {
		return nil, fmt.Errorf("mbox: %s: UID %d: header is %d bytes, index says %d", file, m.uid, len(vis), m.visLen)
	}
	bodyLen := m.end - m.hdrEnd
	if m.size <= memLimit {
		buf := make([]byte, 0, m.size)
		buf = append(buf, vis...)
		body, err := readAt(f, m.hdrEnd, bodyLen)
		if err != nil {
			return nil, err
		}
		return memReader{bytes.NewReader(append(buf, body...))}, nil
	}
	tmp, err := os.CreateTemp("", "postern-mbox-*")
	if err != nil {
		return nil, ioErr("copy message", err)
	}
	os.Remove(tmp.Name())
	if _, err = tmp.Write(vis); err == nil {
		_, err = io.Copy(tmp, io.NewSectionReader(f, m.hdrEnd, bodyLen))
	}
	if err != nil {
		tmp.Close()
		return nil, ioErr("copy message", err)
	}
	return fileReader{tmp, m.size}, nil
}

// readLocked merges the file and reads message uid under one exclusive
// lock: the last resort for a file other programs keep changing between
// a merge and a shared-lock read (flags written in place by other
// sessions, UW's rewrites), where OpenMessage gave up with "file keeps
// changing" and the client a [SERVERBUG] (found by
// integration/stress_test.go).
func (mb *mailbox) readLocked(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	var rd mailstore.MessageReader
	err := mb.writeSynced(ctx, func(w *wtx, r *mboxRow, of *openFile) error {
		if of == nil {
			return fmt.Errorf("mbox: UID %d: %w", uid, mailstore.ErrNotExist)
		}
		msgs, err := selectMsgs(ctx, w.tx, r.id, []uint32{uid})
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return fmt.Errorf("mbox: UID %d: %w", uid, mailstore.ErrNotExist)
		}
		rd, err = readLockedFile(of.f, of.path, &msgs[0])
		return err
	})
	return rd, err
}

// SetCache implements mailstore.Mailbox.
func (mb *mailbox) SetCache(ctx context.Context, entries []mailstore.CacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	r, _, err := mb.current(ctx)
	if err != nil {
		return err
	}
	return mb.s.write(ctx, func(w *wtx) error {
		for _, e := range entries {
			if err := w.exec(`INSERT OR REPLACE INTO cache(mailbox_id, uid, data)
				SELECT mailbox_id, uid, ? FROM messages WHERE mailbox_id = ? AND uid = ?`, slices.Clone(e.Data), r.id, e.UID); err != nil {
				return err
			}
		}
		return nil
	})
}

// StoreFlags implements mailstore.Mailbox. The index takes the change at
// once; the file's status block is rewritten in place when the new one
// fits (UW pads it for this), else the message is marked dirty and
// written at the next rewrite (Expunge, Close).
func (mb *mailbox) StoreFlags(ctx context.Context, uids []uint32, op mailstore.FlagOp, flags []string, unchangedSince uint64) ([]mailstore.MessageMeta, []uint32, error) {
	flags, err := mailstore.NormalizeFlags(flags)
	if err != nil {
		return nil, nil, err
	}
	var changed []mailstore.MessageMeta
	var failed []uint32
	err = mb.writeSynced(ctx, func(w *wtx, r *mboxRow, of *openFile) error {
		changed, failed = nil, nil
		msgs, err := selectMsgs(ctx, w.tx, r.id, uids)
		if err != nil {
			return err
		}
		first, err := queryMsgs(ctx, w.tx, `SELECT `+msgCols+` FROM messages WHERE mailbox_id = ? ORDER BY uid LIMIT 1`, r.id)
		if err != nil {
			return err
		}
		modSeq := r.modSeq + 1
		wrote := false
		for i := range msgs {
			m := &msgs[i]
			if unchangedSince != 0 && m.modSeq > unchangedSince {
				failed = append(failed, m.uid)
				continue
			}
			nf := mailstore.ApplyFlags(m.flags, op, flags)
			if slices.Equal(nf, m.flags) {
				continue
			}
			m.flags, m.modSeq = nf, modSeq
			for _, f := range nf {
				if f[0] != '\\' && !slices.Contains(r.keywords, f) {
					r.keywords = append(r.keywords, f)
					r.baseDirty = true
				}
			}
			if !m.dirty && of != nil {
				var base *folderData
				if r.pseudoNext == 0 && len(first) > 0 && first[0].uid == m.uid {
					fd := r.folder()
					base = &fd
				}
				ok, err := w.statusInPlace(r, of, m, base)
				if err != nil {
					return err
				}
				if ok {
					wrote = true
					if base != nil {
						r.baseDirty = false
					}
				} else {
					m.dirty = true
				}
			}
			if err := w.putMsg(r.id, m); err != nil {
				return err
			}
			changed = append(changed, mailstore.MessageMeta{UID: m.uid, ModSeq: modSeq, Flags: nf})
		}
		if len(changed) == 0 {
			return nil
		}
		if r.baseDirty && of != nil {
			ok, err := w.baseInPlace(r, of)
			if err != nil {
				return err
			}
			if ok {
				r.baseDirty, wrote = false, true
			}
		}
		r.modSeq = modSeq
		w.touched[r.id] = true
		if wrote {
			if err := mb.s.fsync(of.f); err != nil {
				return ioErr("fsync", err)
			}
			return w.noteFile(r, of)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range changed {
		if len(changed[i].Flags) == 0 {
			changed[i].Flags = nil
		}
	}
	return changed, failed, nil
}

// Expunge implements mailstore.Mailbox: a rewrite of the file from the
// first expunged message on (rewrite.go, crash-safe).
func (mb *mailbox) Expunge(ctx context.Context, uids []uint32) ([]uint32, error) {
	var gone []uint32
	err := mb.writeSynced(ctx, func(w *wtx, r *mboxRow, of *openFile) error {
		gone = nil
		msgs, err := selectMsgs(ctx, w.tx, r.id, uids)
		if err != nil || len(msgs) == 0 || of == nil {
			return err
		}
		drop := map[uint32]bool{}
		for _, m := range msgs {
			drop[m.uid] = true
			gone = append(gone, m.uid)
		}
		return w.rewrite(r, of, drop)
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}

func (mb *mailbox) CopyTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(ctx, uids, dest, false)
}

func (mb *mailbox) MoveTo(ctx context.Context, uids []uint32, dest string) (uint32, []uint32, []uint32, error) {
	return mb.copyTo(ctx, uids, dest, true)
}

// copyTo reads the messages (as clients see them), appends them to the
// destination with their flags and internal dates, and for a move
// expunges them, all in one index transaction: other sessions never see
// a message in both mailboxes or in neither. A crash between the append
// and the expunge leaves the message in both files: never lost.
func (mb *mailbox) copyTo(ctx context.Context, uids []uint32, dest string, move bool) (uint32, []uint32, []uint32, error) {
	dn, err := mb.s.canonical(dest)
	if err != nil {
		return 0, nil, nil, err
	}
	dnd, err := mb.s.lookup(dn)
	if err != nil {
		return 0, nil, nil, err
	}
	r0, nd, err := mb.current(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	var uv uint32
	var src, dst []uint32
	var held *openFile // the destination of a COPY, locked until the commit
	defer func() { held.close() }()
	err = mb.s.write(ctx, func(w *wtx) error {
		src, dst = nil, nil
		r, err := w.ensureRow(r0.name)
		if err != nil {
			return err
		}
		of, err := w.prepare(&r, nd.file, false)
		if err != nil {
			return err
		}
		if move && of != nil && of.uwBusy {
			// The source cannot be rewritten now: wait (Store.write)
			// before the destination is written.
			of.close()
			return errUWSession
		}
		msgs, err := selectMsgs(ctx, w.tx, r.id, uids)
		if err != nil || len(msgs) == 0 || of == nil {
			of.close()
			if err == nil {
				d, err2 := w.ensureRow(dn)
				if err2 != nil {
					return err2
				}
				if _, err2 := os.Stat(dnd.file); err2 != nil {
					err2 = w.syncMissing(&d)
					if err2 != nil {
						return err2
					}
				}
				uv = d.uidValidity
				if uv == 0 {
					of2, err2 := w.prepare(&d, dnd.file, false)
					of2.close()
					uv = d.uidValidity
					return err2
				}
			}
			return err
		}
		var am []appendMsg
		for i := range msgs {
			m := &msgs[i]
			hdr, err := readAt(of.f, m.data, m.hdrEnd-m.data)
			if err != nil {
				of.close()
				return err
			}
			body, err := readAt(of.f, m.hdrEnd, m.end-m.hdrEnd)
			if err != nil {
				of.close()
				return err
			}
			data := append(scanHeader(hdr).visible, body...)
			am = append(am, appendMsg{data: data, flags: m.flags, date: time.Unix(m.date, 0).In(time.FixedZone("", m.tzoff))})
			src = append(src, m.uid)
		}
		of.close()
		var d mboxRow
		if dn == r.name {
			d = r
		} else if d, err = w.ensureRow(dn); err != nil {
			return err
		}
		_, statErr := os.Stat(dnd.file)
		isNew := errors.Is(statErr, os.ErrNotExist)
		if isNew {
			if err := w.syncMissing(&d); err != nil {
				return err
			}
		}
		dof, err := w.prepare(&d, dnd.file, true)
		if err != nil {
			return err
		}
		undos := len(w.undo)
		dst, err = w.appendMsgs(&d, dof, isNew, am)
		if !move {
			// Locked until the commit, so a failed one cuts the copies
			// back (appendMsgs).
			held = dof
			uv = d.uidValidity
			return err
		}
		// A MOVE rewrites the source next, under the same in-process
		// lock: the destination is unlocked first, and its append can no
		// longer be undone safely (nor can the rewrite). A failed commit
		// then leaves the messages moved, never lost; the next look
		// reads both files again.
		dof.close()
		w.undo = w.undo[:undos]
		if err != nil {
			return err
		}
		uv = d.uidValidity
		// Copied messages are not \Recent for us (UW), but they are for
		// the destination's sessions: leave recent_uid alone.
		if !move {
			return nil
		}
		if dn == r.name {
			r = d
		}
		of, err = w.prepareToRewrite(&r, nd.file)
		if err != nil {
			return err
		}
		defer of.close()
		drop := map[uint32]bool{}
		for _, u := range src {
			drop[u] = true
		}
		if err := w.rewrite(&r, of, drop); err != nil {
			return err
		}
		return w.saveRow(&r)
	})
	if err != nil {
		return 0, nil, nil, err
	}
	return uv, src, dst, nil
}

// ClaimRecent implements mailstore.Mailbox.
func (mb *mailbox) ClaimRecent(ctx context.Context) (uint32, error) {
	r, _, err := mb.current(ctx)
	if err != nil {
		return 0, err
	}
	if r.recentUID+1 >= r.uidNext {
		return r.recentUID + 1, nil
	}
	var first uint32
	err = mb.s.write(ctx, func(w *wtx) error {
		r, ok, err := rowByID(w.ctx, w.tx, r.id)
		if err != nil || !ok {
			return err
		}
		first = r.recentUID + 1
		r.recentUID = r.uidNext - 1
		return w.saveRow(&r)
	})
	return first, err
}

// Watch implements mailstore.Mailbox: commits in this process signal at
// once; other processes' and programs' changes are seen through inotify on
// the mailbox file, its dotlock and the index's -wal file (watch.go), or
// by a poll every Options.PollInterval where inotify cannot watch; both
// run only while some handle watches.
func (mb *mailbox) Watch() <-chan struct{} {
	mb.mu.Lock()
	start := !mb.watching && !mb.closed
	mb.watching = true
	name := mb.name
	mb.mu.Unlock()
	if start {
		mb.s.watchStart(name)
	}
	return mb.watch
}

// WatchesOutside implements mailstore.OutsideWatcher: Watch signals the
// changes of other processes and programs too.
func (mb *mailbox) WatchesOutside() bool { return true }

// Close implements mailstore.Mailbox: flags and UIDs the file lacks are
// written (in place, or by a rewrite), as UW did at its checkpoints.
func (mb *mailbox) Close() error {
	mb.mu.Lock()
	if mb.closed {
		mb.mu.Unlock()
		return nil
	}
	mb.closed = true
	watching, id, name := mb.watching, mb.id, mb.name
	mb.mu.Unlock()
	mb.s.sh.watchers.Unregister(id, mb.watch)
	if watching {
		mb.s.watchStop(name)
	}
	ctx := context.Background()
	r, ok, err := rowByID(ctx, mb.s.db, id)
	if err != nil || !ok {
		return err
	}
	var dirty int
	mb.s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND dirty = 1`, id).Scan(&dirty)
	if dirty == 0 && !r.baseDirty {
		return nil
	}
	err = mb.writeSynced(ctx, func(w *wtx, r *mboxRow, of *openFile) error {
		if of == nil {
			return nil
		}
		return w.flush(r, of)
	})
	if errors.Is(err, mailstore.ErrNotExist) {
		return nil
	}
	return err
}

func isNoRows(err error) bool { return err != nil && strings.Contains(err.Error(), "no rows") }
