package maildir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

var _ mailstore.Importer = (*Store)(nil)

// importedMsg is one message written to the staging folder.
type importedMsg struct {
	uid        uint32
	sys        int64
	keywords   string
	size       int64
	date       time.Time
	base, info string
}

// ImportMailbox implements mailstore.Importer.
//
// The messages are written, with their flags in their names and their
// internal dates as mtimes, into a staging folder under a trash name
// (removed by the next Open after a crash), together with the folder's
// postern-uidlist (the given UIDVALIDITY, UIDNEXT and one line per UID) and
// postern-keywords. Then, in one index transaction:
//
//   - a new mailbox: the staging folder is renamed into place and the index
//     rows are written. A crash after the rename leaves a folder the index
//     does not know, which the next look adopts from its uidlist with the
//     same UIDVALIDITY, UIDs, flags and dates.
//   - an existing empty mailbox (INBOX): its row is dropped in a first
//     transaction; then its uidlist and keyword file are replaced and its
//     empty cur/ is swapped with the staging cur/. A crash at any point
//     leaves either an empty mailbox or the whole import.
func (s *Store) ImportMailbox(ctx context.Context, mb mailstore.ImportMailbox) error {
	cn, err := mailstore.CanonicalName(mb.Name)
	if err != nil {
		return err
	}
	uidNext, err := mb.Check()
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	dir, err := s.dirOf(cn)
	if err != nil {
		return err
	}
	stage := filepath.Join(s.root, trashPrefix+"import-"+s.newBase())
	for _, d := range []string{stage, filepath.Join(stage, "cur"), filepath.Join(stage, "new"), filepath.Join(stage, "tmp")} {
		if err := os.Mkdir(d, s.opts.DirMode); err != nil {
			os.RemoveAll(stage)
			return ioErr("import", err)
		}
	}
	defer os.RemoveAll(stage) // a no-op once renamed into place
	km := &keywordMap{byIdx: map[int]string{}, byName: map[string]int{}}
	for _, k := range mb.Keywords {
		if k != "" && !strings.HasPrefix(k, `\`) && k != forwarded && !strings.ContainsAny(k, " \t\r\n") {
			km.index(k)
		}
	}
	msgs, err := s.stageMessages(ctx, filepath.Join(stage, "cur"), mb.Messages, km)
	if err != nil {
		return err
	}
	lines := make([]uidLine, len(msgs))
	for i, m := range msgs {
		lines[i] = uidLine{m.uid, m.base}
	}
	kwFile := keywordFile(km)
	if cn != "INBOX" {
		if err := os.WriteFile(filepath.Join(stage, "maildirfolder"), nil, s.opts.FileMode); err != nil {
			return ioErr("import", err)
		}
	}
	if !isFolder(dir, cn == "INBOX") {
		if err := s.writeUIDList(stage, mb.UIDValidity, uidNext, mb.SpecialUse, lines); err != nil {
			return err
		}
		if err := s.writeFileAtomic(filepath.Join(stage, KeywordsName), kwFile); err != nil {
			return err
		}
		return s.write(ctx, func(w *wtx) error {
			if isFolder(dir, false) {
				return fmt.Errorf("maildir: %q: %w", cn, mailstore.ErrExist)
			}
			if err := w.createParents(cn); err != nil {
				return err
			}
			if err := w.dropName(cn); err != nil {
				return err
			}
			if err := os.Rename(stage, dir); err != nil {
				return ioErr("import", err)
			}
			w.undo = append(w.undo, func() { os.RemoveAll(dir) })
			if err := s.syncDir(s.root); err != nil {
				return err
			}
			return w.insertImported(cn, dir, mb.UIDValidity, uidNext, mb.SpecialUse, km, msgs)
		})
	}
	special := mb.SpecialUse
	err = s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(0, cn)
		if err != nil {
			return err
		}
		if err := w.sync(&r); err != nil {
			return err
		}
		var n int
		if err := w.qtx.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&n); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("maildir: %q holds %d messages: %w", cn, n, mailstore.ErrExist)
		}
		if special == "" {
			special = r.specialUse
		}
		return w.dropRow(r.id)
	})
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		// Another process may have looked at the mailbox meanwhile and
		// made its row again from the old uidlist.
		if err := w.dropName(cn); err != nil {
			return err
		}
		cur := filepath.Join(dir, "cur")
		if ents, err := os.ReadDir(cur); err != nil {
			return ioErr("import", err)
		} else if slices.ContainsFunc(ents, func(e os.DirEntry) bool { return !strings.HasPrefix(e.Name(), ".") }) {
			return fmt.Errorf("maildir: %q received messages during the import: %w", cn, mailstore.ErrExist)
		}
		// Undo steps run in reverse order, after a rollback.
		var undo []func()
		w.undo = append(w.undo, func() {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		})
		for _, f := range []struct {
			name string
			data []byte
		}{
			{UIDListName, uidListBytes(mb.UIDValidity, uidNext, special, lines)},
			{KeywordsName, kwFile},
		} {
			p := filepath.Join(dir, f.name)
			old, rerr := os.ReadFile(p)
			if err := s.writeFileAtomic(p, f.data); err != nil {
				return err
			}
			undo = append(undo, func() {
				if rerr != nil {
					os.Remove(p)
				} else {
					s.writeFileAtomic(p, old)
				}
			})
		}
		aside := filepath.Join(stage, "oldcur")
		if err := os.Rename(cur, aside); err != nil {
			return ioErr("import", err)
		}
		undo = append(undo, func() { os.Rename(aside, cur) })
		if err := os.Rename(filepath.Join(stage, "cur"), cur); err != nil {
			return ioErr("import", err)
		}
		undo = append(undo, func() { os.Rename(cur, filepath.Join(stage, "cur")) })
		if err := s.syncDir(dir); err != nil {
			return err
		}
		return w.insertImported(cn, dir, mb.UIDValidity, uidNext, special, km, msgs)
	})
}

// stageMessages writes the messages into dir (a staging cur/) and
// returns what the index needs of them. Letters for keywords met in
// flags are given out in km.
func (s *Store) stageMessages(ctx context.Context, dir string, in []mailstore.ImportMessage, km *keywordMap) ([]importedMsg, error) {
	out := make([]importedMsg, 0, len(in))
	for _, m := range in {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("maildir: import: %w", err)
		}
		flags, _ := mailstore.NormalizeFlags(m.Flags) // checked by Check
		sys, kws := splitFlags(flags)
		date := m.InternalDate
		if date.IsZero() {
			date = s.opts.Now()
		}
		date = date.Truncate(time.Second)
		im := importedMsg{uid: m.UID, sys: sys, keywords: kws, date: date, base: s.newBase()}
		im.info = infoFor(sys, kws, km.index)
		path := filepath.Join(dir, im.base+im.info)
		rc, err := m.Open()
		if err != nil {
			return nil, fmt.Errorf("maildir: import UID %d: %w", m.UID, err)
		}
		im.size, _, err = s.writeTmp(path, rc, date, nil)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("maildir: import UID %d: %w", m.UID, err)
		}
		out = append(out, im)
	}
	return out, s.syncDir(dir)
}

// insertImported writes the index rows of an imported mailbox whose folder
// is in place.
func (w *wtx) insertImported(name, dir string, uidValidity, uidNext uint32, specialUse string, km *keywordMap, msgs []importedMsg) error {
	var recent uint32
	if len(msgs) > 0 {
		recent = msgs[len(msgs)-1].uid // migrated mail is not new
	}
	res, err := w.qtx.ExecContext(w.ctx, `INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, recent_uid, special_use,
		new_mtime, cur_mtime, uidlist_lines) VALUES (?, ?, ?, 1, ?, ?, -1, ?, ?)`,
		name, uidValidity, uidNext, recent, specialUse, mtimeOf(filepath.Join(dir, "cur")), len(msgs))
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("maildir: index: %w", err)
	}
	for i, n := range km.byIdx {
		if err := w.exec(`INSERT INTO keywords(mailbox_id, idx, name) VALUES (?, ?, ?)`, id, i, n); err != nil {
			return err
		}
	}
	for _, m := range msgs {
		_, off := m.date.Zone()
		err := w.exec(`INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
			VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`, id, m.uid, m.sys, m.keywords, m.size, m.date.Unix(), off, m.base, m.info)
		if err != nil {
			return err
		}
	}
	w.touched[id] = true
	return nil
}

// keywordFile renders a postern-keywords file.
func keywordFile(km *keywordMap) []byte {
	idx := make([]int, 0, len(km.byIdx))
	for i := range km.byIdx {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var b strings.Builder
	for _, i := range idx {
		b.WriteString(strconv.Itoa(i) + " " + km.byIdx[i] + "\n")
	}
	return []byte(b.String())
}

// uidListBytes renders a postern-uidlist file.
func uidListBytes(uidValidity, uidNext uint32, specialUse string, lines []uidLine) []byte {
	var b strings.Builder
	b.WriteString(uidListHeader(uidValidity, uidNext, specialUse))
	for _, l := range lines {
		fmt.Fprintf(&b, "%d %s\n", l.uid, l.base)
	}
	return []byte(b.String())
}
