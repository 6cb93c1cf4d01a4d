package mbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/sqlindex"
)

var _ mailstore.Checker = (*Store)(nil)

// Check implements mailstore.Checker (`postern fsck`): every mailbox file
// is framed again ("From " lines, X-IMAP(base), X-UID) and compared with
// the index, under the index's write transaction and the file's shared
// locks (fcntl and flock, which every writer's exclusive locks exclude),
// so a server may run beside it. A journal left by an interrupted rewrite
// and mail appended by another program are pending: the next use of the
// mailbox replays or merges them. With repair, each mailbox with a
// problem is read again in full under the exclusive locks, as after a
// change by another program (UIDs from X-UID, or the index's fingerprint
// for messages without one), which also replays or drops a journal.
func (s *Store) Check(ctx context.Context, repair bool) (mailstore.CheckResult, error) {
	res, err := s.check(ctx)
	if err != nil || !repair || len(res.Problems) == 0 {
		return res, err
	}
	done := map[string]bool{}
	for _, p := range res.Problems {
		if p.Mailbox == "" || done[p.Mailbox] {
			continue
		}
		done[p.Mailbox] = true
		if err := s.reread(ctx, p.Mailbox); err != nil && !errors.Is(err, mailstore.ErrNotExist) {
			return res, err
		}
	}
	after, err := s.check(ctx)
	if err != nil {
		return res, err
	}
	return mailstore.MergeRepaired(res, after), nil
}

// reread parses a mailbox file in full and merges it into the index.
func (s *Store) reread(ctx context.Context, name string) error {
	n, err := s.lookup(name)
	if err != nil {
		return nil // gone from disk: nothing to read
	}
	return s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(name)
		if err != nil {
			return err
		}
		r.fino = 0 // no longer "the file as last seen": a full parse
		of, err := w.prepare(&r, n.file, false)
		of.close()
		return err
	})
}

// check is one read-only pass.
func (s *Store) check(ctx context.Context) (mailstore.CheckResult, error) {
	var res mailstore.CheckResult
	for _, line := range sqlindex.IntegrityCheck(ctx, s.db) {
		res.Problems = append(res.Problems, mailstore.Problem{Kind: mailstore.CheckIndex, File: s.opts.IndexPath, Detail: line})
	}
	names, err := s.listNames()
	if err != nil {
		return res, err
	}
	names = append([]string{"INBOX"}, names...)
	rows, err := s.db.QueryContext(ctx, `SELECT `+rowCols+` FROM mailboxes`)
	if err != nil {
		return res, fmt.Errorf("mbox: index: %w", err)
	}
	indexed := map[string]mboxRow{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			rows.Close()
			return res, fmt.Errorf("mbox: index: %w", err)
		}
		indexed[r.name] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("mbox: index: %w", err)
	}
	onDisk := map[string]bool{}
	for _, name := range names {
		n, err := s.lookup(name)
		if err != nil {
			continue
		}
		onDisk[name] = true
		if _, ok := indexed[name]; !ok {
			if fi, err := os.Stat(n.file); err == nil && fi.Size() > 0 {
				res.Problems = append(res.Problems, mailstore.Problem{Mailbox: name, Kind: mailstore.CheckMailbox,
					Detail: "mailbox file not yet in the index", Pending: true})
			}
			continue
		}
		res.Mailboxes++
		err = s.write(ctx, func(w *wtx) error {
			// The row again, inside the transaction.
			r, ok, err := rowByName(ctx, w.tx, name)
			if err != nil || !ok {
				return err
			}
			return w.checkFile(&res, r, n.file)
		})
		if err != nil {
			return res, err
		}
	}
	for name, r := range indexed {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&n); err != nil {
			return res, fmt.Errorf("mbox: index: %w", err)
		}
		if !onDisk[name] && n > 0 {
			res.Problems = append(res.Problems, mailstore.Problem{Mailbox: name, Kind: mailstore.CheckMailbox,
				Detail: fmt.Sprintf("%d messages in the index, but the file is gone", n), Pending: true})
		}
	}
	return res, nil
}

// checkFile compares one mailbox file with its index rows.
func (w *wtx) checkFile(res *mailstore.CheckResult, r mboxRow, file string) error {
	add := func(p mailstore.Problem) {
		p.Mailbox = r.name
		res.Problems = append(res.Problems, p)
	}
	at := func(off int64) string { return fmt.Sprintf("@%d", off) }
	msgs, err := allMsgs(w.ctx, w.tx, r.id)
	if err != nil {
		return err
	}
	res.Messages += len(msgs)
	if jp := w.s.journalPath(file); fileExists(jp) {
		detail := "a rewrite was interrupted; its journal is complete and will be replayed"
		if err := verifyJournal(jp); err != nil {
			detail = "a rewrite was interrupted before the file was touched; the incomplete journal will be removed"
		}
		add(mailstore.Problem{File: jp, Kind: mailstore.CheckJournal, Detail: detail, Pending: true})
		return nil // the index describes the file before or after the rewrite: nothing to compare yet
	}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		if len(msgs) > 0 {
			add(mailstore.Problem{File: file, Kind: mailstore.CheckMissing,
				Detail: fmt.Sprintf("the file is gone, %d messages indexed", len(msgs))})
		}
		return nil
	}
	if err != nil {
		return ioErr("open "+file, err)
	}
	defer f.Close()
	w.s.sh.fileMu.Lock()
	defer w.s.sh.fileMu.Unlock()
	lk, err := w.s.lockFile(w.ctx, f, file, false)
	if err != nil {
		return err
	}
	defer lk.unlock()
	fi, err := f.Stat()
	if err != nil {
		return ioErr("stat", err)
	}
	id := idOf(fi)
	changed := !r.matches(id)
	appended := changed && r.fsize >= 0 && r.fino == id.ino && id.size > r.fsize && slices.Equal(tailHash(f, r.fsize), r.tail)
	raws, err := scanMbox(io.NewSectionReader(f, 0, id.size), 0, w.s.opts.Location)
	if err != nil {
		add(mailstore.Problem{File: file, Kind: mailstore.CheckFraming, Detail: err.Error()})
		return nil
	}
	var fd *folderData
	if len(raws) > 0 && raws[0].hdr.imap != nil {
		fd = raws[0].hdr.imap
		raws = raws[1:]
	} else if len(raws) > 0 {
		fd = raws[0].hdr.base
	}
	if changed && !appended {
		add(mailstore.Problem{File: file, Kind: mailstore.CheckUnindexed, Pending: true,
			Detail: "the file was changed by another program since it was last read; it will be read again"})
	}
	if fd != nil && len(msgs) > 0 {
		if fd.uidValidity != r.uidValidity {
			add(mailstore.Problem{File: file, Kind: mailstore.CheckUIDValidity, Pending: changed && !appended,
				Detail: fmt.Sprintf("index says %d, the file's X-IMAP(base) %d", r.uidValidity, fd.uidValidity)})
		} else if fd.uidLast >= r.uidNext {
			// In a changed file (an append interrupted after its write,
			// which moved UIDLAST in place), the next read takes the
			// new messages with their X-UIDs and UIDNEXT past them.
			add(mailstore.Problem{File: file, Kind: mailstore.CheckUIDNext, Pending: changed,
				Detail: fmt.Sprintf("index UIDNEXT %d is not above the file's UIDLAST %d", r.uidNext, fd.uidLast)})
		}
	}
	var prev uint32
	for _, raw := range raws {
		if !raw.hdr.hasUID || raw.hdr.uid == 0 {
			continue
		}
		if raw.hdr.uid <= prev {
			add(mailstore.Problem{UID: raw.hdr.uid, File: at(raw.from), Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("X-UID %d after X-UID %d: not ascending", raw.hdr.uid, prev)})
		}
		if raw.hdr.uid >= r.uidNext && !changed {
			add(mailstore.Problem{UID: raw.hdr.uid, File: at(raw.from), Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("X-UID not below UIDNEXT %d", r.uidNext)})
		}
		prev = max(prev, raw.hdr.uid)
	}
	if changed && !appended {
		return nil
	}
	byFrom := make(map[int64]*rawMsg, len(raws))
	for i := range raws {
		byFrom[raws[i].from] = &raws[i]
	}
	matched := map[int64]bool{}
	for _, m := range msgs {
		if m.uid == 0 || m.uid >= r.uidNext {
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("UID not below UIDNEXT %d", r.uidNext)})
		}
		raw := byFrom[m.from]
		if raw == nil {
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckFraming,
				Detail: "indexed, but no message starts there in the file"})
			continue
		}
		matched[m.from] = true
		if raw.next != m.next {
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckFraming,
				Detail: fmt.Sprintf("the index says the message ends at %d, the file at %d", m.next, raw.next)})
		}
		// An appended message without a final line end gets one in the
		// file; the index keeps its exact size (doc.go, Weaknesses).
		if d := raw.size() - m.size; d != 0 && d != 1 {
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckSize,
				Detail: fmt.Sprintf("index says %d bytes, the file has %d", m.size, raw.size())})
		}
		switch {
		case raw.hdr.hasUID && raw.hdr.uid != m.uid:
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("the file's X-UID is %d", raw.hdr.uid)})
		case !raw.hdr.hasUID && !m.dirty:
			add(mailstore.Problem{UID: m.uid, File: at(m.from), Kind: mailstore.CheckUID,
				Detail: "no X-UID in the file, and the index does not mark it as still to be written"})
		}
	}
	for _, raw := range raws {
		if matched[raw.from] {
			continue
		}
		p := mailstore.Problem{File: at(raw.from), Kind: mailstore.CheckUnindexed, Detail: "a message in the file that the index does not hold"}
		if appended && raw.from >= r.fsize {
			p.Pending, p.Detail = true, "appended by another program, not yet read"
		}
		add(p)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// verifyJournal checks a journal's length and checksum without applying
// it: nil when it is complete (applyJournal would replay it).
func verifyJournal(path string) error {
	jf, err := os.Open(path)
	if err != nil {
		return err
	}
	defer jf.Close()
	fi, err := jf.Stat()
	if err != nil {
		return err
	}
	hb := make([]byte, 40)
	if _, err := io.ReadFull(jf, hb); err != nil || string(hb[:8]) != journalMagic {
		return errBadJournal
	}
	tail := int64(0)
	for _, b := range hb[32:40] {
		tail = tail<<8 | int64(b)
	}
	if tail < 0 || fi.Size() != 40+tail+32 {
		return errBadJournal
	}
	sum, err := journalSum(jf, 40+tail)
	if err != nil {
		return err
	}
	want := make([]byte, 32)
	if _, err := jf.ReadAt(want, 40+tail); err != nil || !bytes.Equal(sum, want) {
		return errBadJournal
	}
	return nil
}
