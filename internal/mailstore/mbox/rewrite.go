package mbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// readAt reads n bytes of f at off.
func readAt(f *os.File, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil && !(err == io.EOF && n == 0) {
		return nil, ioErr("read", err)
	}
	return b, nil
}

// renderMsg writes a message as UW would: its "From " line, its visible
// header, a fresh status block, its body and the separator line.
func (w *wtx) renderMsg(out io.Writer, f *os.File, r *mboxRow, m *msgRow, base *folderData) error {
	head, err := readAt(f, m.from, m.hdrEnd-m.from)
	if err != nil {
		return err
	}
	from, hdr := head[:m.data-m.from], head[m.data-m.from:]
	h := scanHeader(hdr)
	blk := statusBlock{base: base, flags: m.flags, old: m.uid <= r.recentUID, uid: m.uid, crlf: h.crlf, order: r.keywords}.render(0)
	if _, err := out.Write(from); err != nil {
		return err
	}
	if _, err := out.Write(h.visible); err != nil {
		return err
	}
	if _, err := out.Write(blk); err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(f, m.hdrEnd, m.end-m.hdrEnd)); err != nil {
		return err
	}
	_, err = out.Write([]byte{'\n'})
	return err
}

// rewrite rewrites the file from the first message that must change on:
// those in drop go, dirty ones (flags or UID not in the file) and the
// holder of the folder data are written afresh, the others copied as
// they are. Crash-safe through the journal (journal.go). The row is
// updated (messages re-framed, dropped ones expunged at a new MODSEQ).
func (w *wtx) rewrite(r *mboxRow, of *openFile, drop map[uint32]bool) error {
	if of.uwBusy {
		return errUWSession
	}
	msgs, err := allMsgs(w.ctx, w.tx, r.id)
	if err != nil {
		return err
	}
	fi, err := of.f.Stat()
	if err != nil {
		return ioErr("stat", err)
	}
	fsize := fi.Size()
	pseudo := r.pseudoNext > 0
	start := fsize
	regen := map[uint32]bool{}
	var firstKept *msgRow
	for i := range msgs {
		m := &msgs[i]
		if drop[m.uid] {
			start = min(start, m.from)
			continue
		}
		if firstKept == nil {
			firstKept = m
			if !pseudo && (r.baseDirty || i > 0) {
				regen[m.uid] = true
			}
		}
		if m.dirty {
			regen[m.uid] = true
		}
		if regen[m.uid] {
			start = min(start, m.from)
		}
	}
	rewritePseudo := pseudo && r.baseDirty && !w.pseudoInPlace(r, of)
	if !pseudo && firstKept == nil && len(msgs) > 0 {
		start = 0 // every message goes; UW leaves an empty file
	}
	if pseudo && start < r.pseudoNext {
		start = r.pseudoNext
	}
	if rewritePseudo {
		start = 0
	}
	if start >= fsize {
		r.baseDirty = r.baseDirty && pseudo
		return nil
	}
	tail := func(out io.Writer) error {
		if rewritePseudo {
			if _, err := out.Write(renderPseudo(r.folder(), w.s.opts.Hostname, w.s.pseudoDates)); err != nil {
				return err
			}
		}
		for i := range msgs {
			m := &msgs[i]
			if m.from < start || drop[m.uid] {
				continue
			}
			if regen[m.uid] {
				var base *folderData
				if !pseudo && m == firstKept {
					fd := r.folder()
					base = &fd
				}
				if err := w.renderMsg(out, of.f, r, m, base); err != nil {
					return err
				}
				continue
			}
			if _, err := io.Copy(out, io.NewSectionReader(of.f, m.from, m.next-m.from)); err != nil {
				return err
			}
		}
		return nil
	}
	jpath, tailLen, err := w.s.writeJournal(of, start, tail)
	if err != nil {
		return err
	}
	if err := w.s.applyJournal(of, jpath); err != nil {
		if errors.Is(err, errNoRoom) {
			os.Remove(jpath)
		}
		return err
	}
	if w.s.afterApply != nil {
		w.s.afterApply(jpath)
	}
	// The file is complete (applyJournal synced it): the journal goes
	// now, while the file is still locked. It used to go after the index
	// commit, when the lock was already released: another process then
	// took it for a crashed rewrite's and applied it again, cutting off
	// mail an MTA had appended in between (found by
	// integration/stress_test.go). A crash before the commit leaves an
	// index that no longer matches the file, which is read again.
	os.Remove(jpath)
	if err := w.s.fsyncDir(filepath.Dir(jpath)); err != nil {
		return ioErr("journal", err)
	}
	// Frame the new tail and give the kept messages their new places.
	raws, err := scanMbox(io.NewSectionReader(of.f, start, tailLen), start, w.s.opts.Location)
	if err != nil {
		return fmt.Errorf("mbox: reading back the rewrite of %s: %w", of.path, err)
	}
	if rewritePseudo && len(raws) > 0 {
		r.pseudoNext = raws[0].next
		raws = raws[1:]
	}
	modSeq := r.modSeq + 1
	var gone []uint32
	k := 0
	for i := range msgs {
		m := &msgs[i]
		if drop[m.uid] {
			gone = append(gone, m.uid)
			continue
		}
		if m.from < start {
			continue
		}
		if k >= len(raws) {
			return fmt.Errorf("mbox: rewrite of %s: %d messages read back, want more", of.path, len(raws))
		}
		raw := &raws[k]
		k++
		if raw.hdr.uid != m.uid {
			return fmt.Errorf("mbox: rewrite of %s: read back UID %d, want %d", of.path, raw.hdr.uid, m.uid)
		}
		// The body is copied byte for byte, so its length is kept (the
		// index may know it better than the framing: see appendMsgs).
		bodyLen := m.end - m.hdrEnd
		m.from, m.data, m.hdrEnd, m.next = raw.from, raw.data, raw.hdrEnd, raw.next
		m.end = raw.hdrEnd + bodyLen
		m.visLen, m.fp, m.dirty = int64(len(raw.hdr.visible)), raw.fp, false
		m.size = m.visLen + bodyLen
		if err := w.putMsg(r.id, m); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		if err := w.expungeUIDs(r.id, gone, modSeq); err != nil {
			return err
		}
		r.modSeq = modSeq
		w.touched[r.id] = true
	}
	r.baseDirty = false
	return w.noteFile(r, of)
}

// pseudoDates returns the pseudo message's "From " line date and Date:
// header, as UW writes them.
func (s *Store) pseudoDates() (string, string) {
	t := s.opts.Now().UTC()
	return t.Format("Mon Jan _2 15:04:05 2006"), t.Format("2 Jan 2006 15:04:05 -0700")
}

// pseudoInPlace updates the X-IMAP line of the pseudo message in place
// when the new one has the same length (UIDLAST is written with ten
// digits for this); false when it cannot.
func (w *wtx) pseudoInPlace(r *mboxRow, of *openFile) bool {
	if of.uwBusy {
		return false
	}
	head, err := readAt(of.f, 0, r.pseudoNext)
	if err != nil {
		return false
	}
	i := bytes.Index(head, []byte("\nX-IMAP: "))
	if i < 0 {
		return false
	}
	line := firstLine(head[i+1:])
	kw := ""
	for _, k := range r.keywords {
		kw += " " + k
	}
	nl := fmt.Appendf(nil, "X-IMAP: %d %010d%s\n", r.uidValidity, r.uidNext-1, kw)
	if bytes.HasSuffix(line, []byte("\r\n")) {
		nl = append(nl[:len(nl)-1], '\r', '\n')
	}
	if len(nl) != len(line) {
		return false
	}
	if bytes.Equal(nl, line) {
		return true
	}
	if _, err := of.f.WriteAt(nl, int64(i+1)); err != nil {
		return false
	}
	return true
}

// statusInPlace rewrites a message's status block in place when the new
// one fits in the old one's bytes (UW pads X-Keywords for this).
func (w *wtx) statusInPlace(r *mboxRow, of *openFile, m *msgRow, base *folderData) (bool, error) {
	if of.uwBusy {
		return false, nil // the session's rewrite would undo it: kept dirty
	}
	hdr, err := readAt(of.f, m.data, m.hdrEnd-m.data)
	if err != nil {
		return false, err
	}
	h := scanHeader(hdr)
	if h.blockOff >= len(hdr) || !h.hasUID || h.uid != m.uid || (base == nil) != (h.base == nil) {
		return false, nil
	}
	old := hdr[h.blockOff:]
	blk := statusBlock{base: base, flags: m.flags, old: m.uid <= r.recentUID, uid: m.uid, crlf: h.crlf, order: r.keywords}.render(len(old))
	if len(blk) != len(old) {
		return false, nil
	}
	if !bytes.Equal(blk, old) {
		if _, err := of.f.WriteAt(blk, m.data+int64(h.blockOff)); err != nil {
			return false, ioErr("write", err)
		}
	}
	return true, nil
}

// baseInPlace writes the folder data (UIDLAST, keywords) in place, into
// the pseudo message or the first message's block; false when it does
// not fit and a rewrite is needed.
func (w *wtx) baseInPlace(r *mboxRow, of *openFile) (bool, error) {
	if r.pseudoNext > 0 {
		return w.pseudoInPlace(r, of), nil
	}
	msgs, err := queryMsgs(w.ctx, w.tx, `SELECT `+msgCols+` FROM messages WHERE mailbox_id = ? ORDER BY uid LIMIT 1`, r.id)
	if err != nil || len(msgs) == 0 {
		return len(msgs) == 0, err
	}
	if msgs[0].dirty {
		return false, nil
	}
	fd := r.folder()
	return w.statusInPlace(r, of, &msgs[0], &fd)
}

// flush writes what the index holds and the file lacks: status blocks in
// place where they fit, a rewrite otherwise. Nothing, while a c-client
// session has the file: the index keeps it for a later flush.
func (w *wtx) flush(r *mboxRow, of *openFile) error {
	if of.uwBusy {
		return nil
	}
	var n int
	if err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND dirty = 1`, r.id).Scan(&n); err != nil {
		return fmt.Errorf("mbox: index: %w", err)
	}
	if n == 0 && !r.baseDirty {
		return nil
	}
	if n == 0 {
		ok, err := w.baseInPlace(r, of)
		if err != nil {
			return err
		}
		if ok {
			r.baseDirty = false
			if err := w.s.fsync(of.f); err != nil {
				return ioErr("fsync", err)
			}
			return w.noteFile(r, of)
		}
	}
	return w.rewrite(r, of, nil)
}

// appendMsgs writes messages at the end of the locked file and records
// them. Each is given the next UID; the file ends up durable.
func (w *wtx) appendMsgs(r *mboxRow, of *openFile, isNew bool, msgs []appendMsg) ([]uint32, error) {
	// What the index holds and the file lacks is written first. Messages
	// another program appended (an MDA) have no X-UID in the file until
	// then, though the index gave them UIDs; c-client's unix driver
	// numbers such messages from UIDLAST in file order and takes an
	// X-UID lower than a number it just gave for a damaged mailbox: it
	// starts a new UIDVALIDITY and every client resyncs (unix_parse:
	// "UID less than"; TestStress/mbox "UIDVALIDITY of INBOX changed"
	// after a COPY following deliveries). Written first, every X-UID in
	// the file rises with the file's order.
	if err := w.flush(r, of); err != nil {
		return nil, err
	}
	fi, err := of.f.Stat()
	if err != nil {
		return nil, ioErr("stat", err)
	}
	off := fi.Size()
	var buf bytes.Buffer
	if isNew && off == 0 && of.path != w.s.inbox {
		// CREATE writes the pseudo message, as UW does.
		buf.Write(renderPseudo(r.folder(), w.s.opts.Hostname, w.s.pseudoDates))
	}
	if off > 0 {
		last, err := readAt(of.f, max(0, off-2), min(off, 2))
		if err != nil {
			return nil, err
		}
		switch {
		case bytes.HasSuffix(last, []byte("\n\n")):
		case bytes.HasSuffix(last, []byte("\n")):
			buf.WriteByte('\n')
		default:
			buf.WriteString("\n\n")
		}
	}
	prefix := int64(buf.Len())
	var pseudoRaw bool = isNew && off == 0 && buf.Len() > 0
	var uids []uint32
	firstInFile := off == 0 && r.pseudoNext == 0 && !pseudoRaw
	for _, m := range msgs {
		for _, f := range m.flags {
			if f[0] != '\\' && !slices.Contains(r.keywords, f) {
				r.keywords = append(r.keywords, f)
				r.baseDirty = true
			}
		}
	}
	noEOL := make([]bool, len(msgs))
	for i, m := range msgs {
		uid := r.uidNext
		r.uidNext++
		var base *folderData
		if firstInFile && i == 0 && !of.uwBusy {
			fd := folderData{uidValidity: r.uidValidity, uidLast: r.uidNext - 1 + uint32(len(msgs)-1), keywords: r.keywords}
			base = &fd
		}
		date := m.date
		buf.WriteString(formatFromLine(w.s.opts.Sender, date))
		data := toLF(m.data)
		hdr, rest := splitForAppend(data)
		h := scanHeader(hdr)
		buf.Write(h.visible)
		fileUID := uid
		if of.uwBusy {
			// A c-client session has the file: no X-UID, as UW's own
			// append writes none then; the session numbers the message
			// from UIDLAST in file order, as the index did, and the
			// X-UID is written at a later flush (the row is dirty).
			fileUID = 0
		}
		buf.Write(statusBlock{base: base, flags: m.flags, uid: fileUID, crlf: h.crlf, order: r.keywords}.render(0))
		buf.Write(rest)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			// mbox cannot hold a message without a final line end: the
			// file gets one (and the blank line), the index the exact size.
			buf.WriteByte('\n')
			noEOL[i] = true
		}
		buf.WriteByte('\n')
		uids = append(uids, uid)
	}
	if err := w.s.crashPoint(int64(buf.Len())); err != nil {
		return nil, err
	}
	// A failed append (a full disk, or an index that cannot commit) is
	// cut back, with the file's times, so the file is as before: no half
	// message, no message the client was told was not stored, nothing
	// for the next look to read again.
	cutBack := func() {
		of.f.Truncate(off)
		w.s.fsync(of.f)
		restoreTimes(of.path, fi)
	}
	if _, err := of.f.WriteAt(buf.Bytes(), off); err != nil {
		cutBack()
		return nil, ioErr("append", err)
	}
	if err := w.s.fsync(of.f); err != nil {
		cutBack()
		return nil, ioErr("append", err)
	}
	undoAt := len(w.undo)
	w.undo = append(w.undo, cutBack)
	scanFrom := off + prefix
	if pseudoRaw {
		scanFrom = off
	}
	raws, err := scanMbox(io.NewSectionReader(of.f, scanFrom, off+int64(buf.Len())-scanFrom), scanFrom, w.s.opts.Location)
	if err != nil {
		return nil, fmt.Errorf("mbox: reading back an append to %s: %w", of.path, err)
	}
	if pseudoRaw && len(raws) > 0 {
		r.pseudoNext = raws[0].next
		raws = raws[1:]
	}
	if len(raws) != len(msgs) {
		return nil, fmt.Errorf("mbox: append to %s: read back %d messages, want %d", of.path, len(raws), len(msgs))
	}
	if prefix > 0 && !pseudoRaw {
		// The previous last message now ends before the blank line added.
		if err := w.exec(`UPDATE messages SET next_off = ? WHERE mailbox_id = ? AND next_off = ?`, off+prefix, r.id, off); err != nil {
			return nil, err
		}
	}
	r.modSeq++
	for i := range raws {
		raw := &raws[i]
		m := msgRow{
			uid: uids[i], modSeq: r.modSeq, flags: msgs[i].flags,
			from: raw.from, data: raw.data, hdrEnd: raw.hdrEnd, end: raw.end, next: raw.next,
			visLen: int64(len(raw.hdr.visible)), size: raw.size(), fp: raw.fp, date: raw.date.Unix(),
			dirty: of.uwBusy,
		}
		_, m.tzoff = raw.date.Zone()
		if noEOL[i] && m.end > m.hdrEnd {
			m.end--
			m.size--
		}
		if err := w.putMsg(r.id, &m); err != nil {
			return nil, err
		}
	}
	if !firstInFile || of.uwBusy {
		r.baseDirty = true // UIDLAST moved on
	} else if len(msgs) > 0 {
		r.baseDirty = false
	}
	if r.baseDirty && !of.uwBusy {
		// The folder data is written in place below, in the file's
		// first bytes: a failed commit puts them back along with the cut
		// (without, the file kept a UIDLAST the index never committed).
		head, err := readAt(of.f, 0, min(off, 256<<10))
		if err != nil {
			return nil, err
		}
		w.undo[undoAt] = func() {
			of.f.WriteAt(head, 0)
			cutBack()
		}
		ok, err := w.baseInPlace(r, of)
		if err != nil {
			return nil, err
		}
		if !ok {
			// UIDLAST must cover the new X-UIDs before the file is
			// unlocked: c-client's unix driver takes an X-UID greater
			// than UIDLAST for a damaged mailbox and starts a new
			// UIDVALIDITY (unix_parse: "UID greater than last"), so
			// every client resyncs (issue 8, TestStress/mbox
			// "UIDVALIDITY of INBOX changed"). When the folder data no
			// longer fits in place (UIDLAST gains a digit past the
			// padding, a new keyword), the file is rewritten now rather
			// than at the next flush. A rewrite that fails (a full disk
			// for its journal) leaves the append to be cut back; once
			// done, the append can no longer be cut back by length (the
			// rewrite moved it), and a failed commit leaves the messages
			// in the file, read again by the next look.
			if err := w.rewrite(r, of, nil); err != nil {
				return nil, err
			}
			w.undo = slices.Delete(w.undo, undoAt, undoAt+1)
			w.touched[r.id] = true
			return uids, w.noteFile(r, of)
		}
		r.baseDirty = false
		if err := w.s.fsync(of.f); err != nil {
			return nil, ioErr("fsync", err)
		}
	}
	w.touched[r.id] = true
	return uids, w.noteFile(r, of)
}

// appendMsg is one message to append.
type appendMsg struct {
	data  []byte
	flags []string
	date  time.Time
}

// toLF returns data with each CRLF made a bare LF: UW's unix driver
// writes messages with the Unix line end (c-client unix.c; the APPEND in
// testdata/inbox-after-uw.mbox arrived in CRLF and sits in LF), and
// UW's readers, mailutil and local MUAs find the end of a header by a
// blank "\n\n" line. No client sees the difference: messages are served
// with CRLF line ends whatever the file holds (imapbackend), so the
// CRLF form of the stored text is the text APPENDed. A lone CR (not
// before an LF) is kept. data is returned as is when it has no CRLF.
func toLF(data []byte) []byte {
	if !bytes.Contains(data, []byte("\r\n")) {
		return data
	}
	out := make([]byte, 0, len(data))
	for {
		i := bytes.Index(data, []byte("\r\n"))
		if i < 0 {
			return append(out, data...)
		}
		out = append(out, data[:i]...)
		out = append(out, '\n')
		data = data[i+2:]
	}
}

// splitForAppend quotes "From " lines as UW does (">From "; never
// undone on reading) and splits the message into its header fields and
// the rest (the blank line and the body). A header that does not end in
// a line end gets one.
func splitForAppend(data []byte) (hdr, rest []byte) {
	var q []byte
	if bytes.HasPrefix(data, []byte("From ")) || bytes.Contains(data, []byte("\nFrom ")) {
		q = make([]byte, 0, len(data)+16)
		for len(data) > 0 {
			line := firstLine(data)
			data = data[len(line):]
			if bytes.HasPrefix(line, []byte("From ")) {
				q = append(q, '>')
			}
			q = append(q, line...)
		}
		data = q
	}
	for off := 0; off < len(data); {
		line := firstLine(data[off:])
		if isBlank(line) {
			return data[:off], data[off:]
		}
		off += len(line)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(slices.Clip(data), '\n')
	}
	return data, nil
}

var _ = mailstore.FlagSeen

// restoreTimes sets a file's access and modification times back to those
// of fi (taken before a write that was undone).
func restoreTimes(path string, fi os.FileInfo) {
	atime := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		atime = time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	os.Chtimes(path, atime, fi.ModTime())
}

// WritesLF reports that the store writes every message with LF line ends
// (toLF), whatever line ends it was given, as UW's unix driver does
// (storetest.LFWriter): OpenMessage and the sizes give that form.
func (s *Store) WritesLF() bool { return true }
