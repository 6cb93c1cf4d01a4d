package maildir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/sqlindex"
)

// staleTmp is how old a file in tmp/ must be to be left over from a crash:
// the Maildir convention (cr.yp.to/proto/maildir.html) is 36 hours.
const staleTmp = 36 * time.Hour

var _ mailstore.Checker = (*Store)(nil)

// Check implements mailstore.Checker (`postern fsck`). It reads the index
// and the folders inside a write transaction, the lock every writer of any
// process holds while it renames or unlinks mail files, so a server may run
// beside it. With repair, stale tmp/ files are removed and, when anything
// else was found, the index is rebuilt from the folders keeping UIDs
// (Reindex); the check then runs again and what it no longer finds is
// marked repaired.
func (s *Store) Check(ctx context.Context, repair bool) (mailstore.CheckResult, error) {
	res, err := s.check(ctx)
	if err != nil || !repair || len(res.Problems) == 0 {
		return res, err
	}
	reindex := false
	for _, p := range res.Problems {
		if p.Kind == mailstore.CheckTmp {
			os.Remove(p.File)
			continue
		}
		reindex = true
	}
	if reindex {
		if err := s.Reindex(ctx); err != nil {
			return res, err
		}
	}
	after, err := s.check(ctx)
	if err != nil {
		return res, err
	}
	return mailstore.MergeRepaired(res, after), nil
}

// check is one read-only pass.
func (s *Store) check(ctx context.Context) (mailstore.CheckResult, error) {
	var res mailstore.CheckResult
	res.Problems = append(res.Problems, s.integrity(ctx)...)
	names, err := s.folders()
	if err != nil {
		return res, err
	}
	err = s.write(ctx, func(w *wtx) error {
		rows, err := w.qtx.QueryContext(ctx, `SELECT `+rowCols+` FROM mailboxes ORDER BY name`)
		if err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		indexed := map[string]mboxRow{}
		for rows.Next() {
			r, err := s.scanRow(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("maildir: index: %w", err)
			}
			indexed[r.name] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		onDisk := map[string]bool{}
		for _, n := range names {
			onDisk[n] = true
			r, ok := indexed[n]
			if !ok {
				res.Problems = append(res.Problems, mailstore.Problem{Mailbox: n, Kind: mailstore.CheckMailbox,
					Detail: "folder not yet in the index", Pending: true})
				dir, _ := s.dirOf(n)
				res.Problems = append(res.Problems, checkTmp(n, dir, s.opts.Now())...)
				continue
			}
			res.Mailboxes++
			if err := w.checkFolder(&res, r); err != nil {
				return err
			}
		}
		for n := range indexed {
			if !onDisk[n] {
				res.Problems = append(res.Problems, mailstore.Problem{Mailbox: n, Kind: mailstore.CheckMailbox,
					Detail: "in the index, but its folder is gone", Pending: true})
			}
		}
		return nil
	})
	return res, err
}

// integrity runs SQLite's own check of the index file.
func (s *Store) integrity(ctx context.Context) []mailstore.Problem {
	var out []mailstore.Problem
	for _, line := range sqlindex.IntegrityCheck(ctx, s.db) {
		out = append(out, mailstore.Problem{Kind: mailstore.CheckIndex, File: filepath.Join(s.root, IndexName), Detail: line})
	}
	return out
}

// checkFolder compares one folder with its index rows and its uidlist.
func (w *wtx) checkFolder(res *mailstore.CheckResult, r mboxRow) error {
	add := func(p mailstore.Problem) {
		p.Mailbox = r.name
		res.Problems = append(res.Problems, p)
	}
	ul, haveList := readUIDList(r.dir)
	// A cur/ whose mtime is not the one the index recorded has changes the
	// next sync merges.
	curChanged := r.curMtime < 0 || mtimeOf(filepath.Join(r.dir, "cur")) != r.curMtime
	switch {
	case !haveList:
		add(mailstore.Problem{Kind: mailstore.CheckUIDList, File: filepath.Join(r.dir, UIDListName),
			Detail: "missing or unreadable: a lost index would renumber this mailbox"})
	case ul.uidValidity != r.uidValidity:
		add(mailstore.Problem{Kind: mailstore.CheckUIDValidity, File: filepath.Join(r.dir, UIDListName),
			Detail: fmt.Sprintf("index says %d, postern-uidlist %d", r.uidValidity, ul.uidValidity)})
	case ul.uidNext > r.uidNext && curChanged:
		// An append or copy interrupted before its commit: its uidlist
		// lines name files in cur/ that the next sync adopts with
		// those UIDs (UIDNEXT then moves past them).
		add(mailstore.Problem{Kind: mailstore.CheckUIDNext, Pending: true,
			Detail: fmt.Sprintf("index UIDNEXT %d is below postern-uidlist's %d (an interrupted append): the next sync adopts its files", r.uidNext, ul.uidNext)})
	case ul.uidNext > r.uidNext:
		add(mailstore.Problem{Kind: mailstore.CheckUIDNext,
			Detail: fmt.Sprintf("index UIDNEXT %d is below postern-uidlist's %d: UIDs could be handed out twice", r.uidNext, ul.uidNext)})
	}
	// The files of cur/ by base name.
	cur := map[string][]string{}
	curDir := filepath.Join(r.dir, "cur")
	ents, err := os.ReadDir(curDir)
	if err != nil {
		add(mailstore.Problem{Kind: mailstore.CheckMailbox, Detail: fmt.Sprintf("cannot read cur/: %v", err)})
		return nil
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		base, _ := splitName(e.Name())
		cur[base] = append(cur[base], e.Name())
	}
	rows, err := w.qtx.QueryContext(w.ctx, `SELECT uid, base, info, size FROM messages WHERE mailbox_id = ? ORDER BY uid`, r.id)
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	type msg struct {
		uid        uint32
		base, info string
		size       int64
	}
	var msgs []msg
	for rows.Next() {
		var m msg
		if err := rows.Scan(&m.uid, &m.base, &m.info, &m.size); err != nil {
			rows.Close()
			return fmt.Errorf("maildir: index: %w", err)
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	res.Messages += len(msgs)
	indexedBase := map[string]bool{}
	uidOwner := map[uint32]string{}
	for _, m := range msgs {
		indexedBase[m.base] = true
		uidOwner[m.uid] = m.base
		if m.uid == 0 || m.uid >= r.uidNext {
			add(mailstore.Problem{UID: m.uid, File: m.base, Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("UID not below UIDNEXT %d", r.uidNext)})
		}
		if haveList {
			if lu, ok := ul.uids[m.base]; !ok {
				add(mailstore.Problem{UID: m.uid, File: m.base, Kind: mailstore.CheckUIDList,
					Detail: "not in postern-uidlist: a lost index would give it a new UID"})
			} else if lu != m.uid {
				add(mailstore.Problem{UID: m.uid, File: m.base, Kind: mailstore.CheckUIDList,
					Detail: fmt.Sprintf("postern-uidlist gives it UID %d", lu)})
			}
		}
		files := cur[m.base]
		switch {
		case len(files) == 0:
			// cur/ changed since the index last read it: an expunge
			// interrupted between its unlink and its commit, the source
			// of an interrupted MOVE, or another program's expunge. The
			// next sync records the expunge (doc.go, crash safety).
			p := mailstore.Problem{UID: m.uid, File: m.base + m.info, Kind: mailstore.CheckMissing,
				Detail: "indexed, but no file in cur/"}
			if curChanged {
				p.Pending, p.Detail = true, "indexed, file gone from cur/ (an interrupted or outside expunge): the next sync expunges it"
			}
			add(p)
			continue
		case len(files) > 1:
			add(mailstore.Problem{UID: m.uid, File: m.base, Kind: mailstore.CheckUID,
				Detail: fmt.Sprintf("%d files share this name: %s", len(files), strings.Join(files, ", "))})
		}
		if files[0] != m.base+m.info {
			add(mailstore.Problem{UID: m.uid, File: files[0], Kind: mailstore.CheckUnindexed, Pending: true,
				Detail: fmt.Sprintf("renamed by another program (index: %s): flag change not yet seen", m.base+m.info)})
		}
		fi, err := os.Stat(filepath.Join(curDir, files[0]))
		if err != nil {
			add(mailstore.Problem{UID: m.uid, File: files[0], Kind: mailstore.CheckMissing, Detail: err.Error()})
		} else if fi.Size() != m.size {
			add(mailstore.Problem{UID: m.uid, File: files[0], Kind: mailstore.CheckSize,
				Detail: fmt.Sprintf("index says %d bytes, the file has %d", m.size, fi.Size())})
		}
	}
	// Files the index does not hold.
	for base, files := range cur {
		if indexedBase[base] {
			continue
		}
		var n int
		if err := w.qtx.QueryRowContext(w.ctx, `SELECT count(*) FROM expunged WHERE mailbox_id = ? AND base = ?`, r.id, base).Scan(&n); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		if n > 0 {
			add(mailstore.Problem{File: files[0], Kind: mailstore.CheckUnindexed, Pending: true,
				Detail: "expunged, file not yet removed"})
			continue
		}
		p := mailstore.Problem{File: files[0], Kind: mailstore.CheckUnindexed, Pending: true, Detail: "in cur/, not yet indexed"}
		if lu, ok := ul.uids[base]; haveList && ok {
			p.Detail += fmt.Sprintf(" (postern-uidlist: UID %d)", lu)
			if other, taken := uidOwner[lu]; taken {
				p.Pending = false
				p.Kind = mailstore.CheckUID
				p.Detail = fmt.Sprintf("postern-uidlist gives it UID %d, which %s has", lu, other)
			}
		}
		add(p)
	}
	newEnts, _ := os.ReadDir(filepath.Join(r.dir, "new"))
	for _, e := range newEnts {
		if !strings.HasPrefix(e.Name(), ".") && e.Type().IsRegular() {
			add(mailstore.Problem{File: e.Name(), Kind: mailstore.CheckUnindexed, Pending: true, Detail: "in new/, not yet seen"})
		}
	}
	for _, p := range checkTmp(r.name, r.dir, w.s.opts.Now()) {
		add(p)
	}
	return nil
}

// checkTmp reports files in tmp/ older than staleTmp: deliveries that
// crashed before their rename (Check with repair removes them). Empty
// spare files (spares.go) are kept on purpose.
func checkTmp(name, dir string, now time.Time) []mailstore.Problem {
	var out []mailstore.Problem
	tmpDir := filepath.Join(dir, "tmp")
	ents, _ := os.ReadDir(tmpDir)
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) < staleTmp ||
			strings.HasPrefix(e.Name(), sparePrefix) && fi.Size() == 0 {
			continue
		}
		out = append(out, mailstore.Problem{Mailbox: name, File: filepath.Join(tmpDir, e.Name()), Kind: mailstore.CheckTmp,
			Detail: fmt.Sprintf("left in tmp/ for %s", now.Sub(fi.ModTime()).Round(time.Hour))})
	}
	return out
}
