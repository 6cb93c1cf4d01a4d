package mbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// List implements mailstore.Store.
func (s *Store) List(ctx context.Context) ([]mailstore.MailboxInfo, error) {
	names, err := s.listNames()
	if err != nil {
		return nil, err
	}
	names = append(names, "INBOX")
	slices.Sort(names)
	subs, err := s.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	special := map[string]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT name, special_use FROM mailboxes WHERE special_use != ''`)
	if err != nil {
		return nil, fmt.Errorf("mbox: index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, u string
		if err := rows.Scan(&n, &u); err != nil {
			return nil, fmt.Errorf("mbox: index: %w", err)
		}
		special[n] = u
	}
	out := make([]mailstore.MailboxInfo, 0, len(names))
	for _, n := range names {
		_, sub := slices.BinarySearch(subs, n)
		out = append(out, mailstore.MailboxInfo{Name: n, SpecialUse: special[n], Subscribed: sub})
	}
	return out, rows.Err()
}

// Create implements mailstore.Store: the file starts with UW's pseudo
// message holding a new UIDVALIDITY, as UW's CREATE wrote it.
func (s *Store) Create(ctx context.Context, name, specialUse string) error {
	n, err := s.canonical(name)
	if err != nil {
		return err
	}
	if n == "INBOX" {
		return fmt.Errorf("mbox: %q: %w", name, mailstore.ErrExist)
	}
	if _, err := s.lookup(n); err == nil {
		return fmt.Errorf("mbox: %q: %w", name, mailstore.ErrExist)
	}
	path, err := s.nodePath(n)
	if err != nil {
		return err
	}
	if s.escapes(path) {
		return fmt.Errorf("mbox: %q leads out of the mail directory: %w", name, mailstore.ErrInvalidName)
	}
	return s.write(ctx, func(w *wtx) error {
		if err := s.makeParents(path); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM mailboxes WHERE name = ?`, n); err != nil {
			return err
		}
		uv, err := w.q.NextUIDValidity(w.s.opts.Now())
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mbox: %q: %w", name, mailstore.ErrExist)
		}
		if err != nil {
			return ioErr("create", err)
		}
		_, err = f.Write(renderPseudo(folderData{uidValidity: uv}, s.opts.Hostname, s.pseudoDates))
		if err == nil {
			err = s.fsync(f)
		}
		f.Close()
		if err == nil {
			err = s.fsyncDir(filepath.Dir(path))
		}
		if err != nil {
			os.Remove(path)
			return ioErr("create", err)
		}
		return w.exec(`INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, special_use) VALUES (?, ?, 1, 1, ?)`, n, uv, specialUse)
	})
}

// Delete implements mailstore.Store.
func (s *Store) Delete(ctx context.Context, name string) error {
	n, err := s.canonical(name)
	if err != nil {
		return err
	}
	if n == "INBOX" {
		return fmt.Errorf("mbox: INBOX cannot be deleted: %w", mailstore.ErrInvalidName)
	}
	nd, err := s.lookup(n)
	if err != nil {
		return err
	}
	if nd.dir && hasChildren(nd.path) {
		return fmt.Errorf("mbox: %q: %w", name, mailstore.ErrHasChildren)
	}
	return s.write(ctx, func(w *wtx) error {
		if r, ok, err := rowByName(w.ctx, w.tx, n); err != nil {
			return err
		} else if ok {
			for _, q := range []string{`DELETE FROM messages WHERE mailbox_id = ?`, `DELETE FROM cache WHERE mailbox_id = ?`,
				`DELETE FROM expunged WHERE mailbox_id = ?`, `DELETE FROM savedate WHERE mailbox_id = ?`, `DELETE FROM mailboxes WHERE id = ?`} {
				if err := w.exec(q, r.id); err != nil {
					return err
				}
			}
		}
		if nd.dir {
			os.Remove(nd.file)
			if err := os.Remove(nd.path); err != nil {
				return ioErr("delete", err)
			}
			return nil
		}
		if err := os.Remove(nd.path); err != nil {
			return ioErr("delete", err)
		}
		return nil
	})
}

// Rename implements mailstore.Store. Renaming INBOX moves its messages
// into a new mailbox file (written afresh with their UIDs and flags) and
// empties the spool file; INBOX keeps its UIDVALIDITY and UIDNEXT.
func (s *Store) Rename(ctx context.Context, oldName, newName string) error {
	on, err := s.canonical(oldName)
	if err != nil {
		return err
	}
	nn, err := s.canonical(newName)
	if err != nil {
		return err
	}
	if nn == "INBOX" {
		return fmt.Errorf("mbox: %q: %w", newName, mailstore.ErrExist)
	}
	nd, err := s.lookup(on)
	if err != nil {
		return err
	}
	if _, err := s.lookup(nn); err == nil {
		return fmt.Errorf("mbox: %q: %w", newName, mailstore.ErrExist)
	}
	if strings.HasPrefix(nn, on+"/") {
		return fmt.Errorf("mbox: cannot rename %q under itself: %w", oldName, mailstore.ErrInvalidName)
	}
	to, err := s.nodePath(nn)
	if err != nil {
		return err
	}
	if s.escapes(to) {
		return fmt.Errorf("mbox: %q leads out of the mail directory: %w", newName, mailstore.ErrInvalidName)
	}
	if on == "INBOX" {
		return s.renameInbox(ctx, nd, nn, to)
	}
	return s.write(ctx, func(w *wtx) error {
		if err := s.makeParents(to); err != nil {
			return err
		}
		if err := os.Rename(nd.path, to); err != nil {
			return ioErr("rename", err)
		}
		w.after = append(w.after, func() {}) // nothing to undo after commit
		if err := w.exec(`DELETE FROM mailboxes WHERE name = ? OR name LIKE ? ESCAPE '\'`, nn, likePrefix(nn)); err != nil {
			return err
		}
		if err := w.exec(`UPDATE mailboxes SET name = ? WHERE name = ?`, nn, on); err != nil {
			return err
		}
		return w.exec(`UPDATE mailboxes SET name = ? || substr(name, ?) WHERE name LIKE ? ESCAPE '\'`, nn, len(on)+1, likePrefix(on))
	})
}

// likePrefix is the LIKE pattern of the children of name.
func likePrefix(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(name) + "/%"
}

func (s *Store) renameInbox(ctx context.Context, nd node, nn, to string) error {
	return s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow("INBOX")
		if err != nil {
			return err
		}
		of, err := w.prepare(&r, nd.file, false)
		if err != nil {
			return err
		}
		defer of.close()
		if err := s.makeParents(to); err != nil {
			return err
		}
		f, err := os.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
		if err != nil {
			return ioErr("rename INBOX", err)
		}
		defer f.Close()
		msgs, err := allMsgs(w.ctx, w.tx, r.id)
		if err != nil {
			return err
		}
		if of != nil {
			// The new file has the messages with every flag written out and
			// INBOX's UIDVALIDITY, so it is read back with the same UIDs.
			fd := r.folder()
			var buf strings.Builder
			for i := range msgs {
				var base *folderData
				if i == 0 {
					base = &fd
				}
				if err := w.renderMsg(&buf, of.f, &r, &msgs[i], base); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(f, buf.String()); err != nil {
				os.Remove(to)
				return ioErr("rename INBOX", err)
			}
		}
		if err := s.fsync(f); err != nil {
			os.Remove(to)
			return ioErr("rename INBOX", err)
		}
		if err := w.exec(`INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq) VALUES (?, 0, 1, 1)`, nn); err != nil {
			return err
		}
		// Copy the cached structures along: same UIDs.
		if err := w.exec(`INSERT INTO cache(mailbox_id, uid, data) SELECT (SELECT id FROM mailboxes WHERE name = ?), uid, data FROM cache WHERE mailbox_id = ?`, nn, r.id); err != nil {
			return err
		}
		// The messages move with the file: they keep their save dates.
		if err := w.exec(`INSERT OR REPLACE INTO savedate(mailbox_id, uid, date) SELECT (SELECT id FROM mailboxes WHERE name = ?), uid, date FROM savedate WHERE mailbox_id = ?`, nn, r.id); err != nil {
			return err
		}
		if of == nil {
			return nil
		}
		if err := of.f.Truncate(0); err != nil {
			return ioErr("rename INBOX", err)
		}
		if err := s.fsync(of.f); err != nil {
			return ioErr("rename INBOX", err)
		}
		uids := make([]uint32, len(msgs))
		for i, m := range msgs {
			uids[i] = m.uid
		}
		r.modSeq++
		if err := w.expungeUIDs(r.id, uids, r.modSeq); err != nil {
			return err
		}
		r.pseudoNext, r.baseDirty = 0, false
		w.touched[r.id] = true
		return w.noteFile(&r, of)
	})
}

// SetSubscribed implements mailstore.Store.
func (s *Store) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	// Subscribing takes the store's own rules, not only the contract's:
	// "~user" names are not names here (unless AllowOutsideRoot).
	// Unsubscribing takes any name the contract allows, so that a stale
	// subscription made under older rules can still be removed.
	n, err := mailstore.CanonicalName(name)
	if subscribed && err == nil {
		n, err = s.canonical(name)
	}
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		if subscribed {
			return w.exec(`INSERT OR IGNORE INTO subscriptions(name) VALUES (?)`, n)
		}
		return w.exec(`DELETE FROM subscriptions WHERE name = ?`, n)
	})
}

// Subscriptions implements mailstore.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM subscriptions ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("mbox: index: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("mbox: index: %w", err)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, rows.Err()
}

// Status implements mailstore.Store from the index.
func (s *Store) Status(ctx context.Context, name string) (mailstore.Status, error) {
	n, err := s.canonical(name)
	if err != nil {
		return mailstore.Status{}, err
	}
	r, _, err := s.current(ctx, n)
	if err != nil {
		return mailstore.Status{}, err
	}
	st := mailstore.Status{MailboxState: r.state()}
	err = s.db.QueryRowContext(ctx, `SELECT count(*),
		coalesce(sum(instr(' ' || flags || ' ', ' \Seen ') = 0), 0),
		coalesce(sum(instr(' ' || flags || ' ', ' \Deleted ') > 0), 0),
		coalesce(sum(uid > ?), 0), coalesce(sum(size), 0)
		FROM messages WHERE mailbox_id = ?`, r.recentUID, r.id).Scan(&st.Messages, &st.Unseen, &st.Deleted, &st.Recent, &st.Size)
	if err != nil {
		return st, fmt.Errorf("mbox: index: %w", err)
	}
	return st, nil
}

// Append implements mailstore.Store.
func (s *Store) Append(ctx context.Context, name string, r io.Reader, opts mailstore.AppendOptions) (uint32, uint32, error) {
	n, err := s.canonical(name)
	if err != nil {
		return 0, 0, err
	}
	flags, err := mailstore.NormalizeFlags(opts.Flags)
	if err != nil {
		return 0, 0, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, fmt.Errorf("mbox: append: %w", err)
	}
	date := opts.InternalDate
	if date.IsZero() {
		date = s.opts.Now()
	}
	uids, uv, err := s.appendTo(ctx, n, []appendMsg{{data: data, flags: flags, date: date.Truncate(time.Second)}})
	if err != nil {
		return 0, 0, err
	}
	return uv, uids[0], nil
}

// appendTo appends messages to a mailbox in one write.
func (s *Store) appendTo(ctx context.Context, name string, msgs []appendMsg) ([]uint32, uint32, error) {
	nd, err := s.lookup(name)
	if err != nil {
		return nil, 0, err
	}
	var uids []uint32
	var uv uint32
	// The file stays locked until the transaction is over, so a failed
	// commit can cut the append back (appendMsgs) before anyone else
	// writes to the file.
	var of *openFile
	defer func() { of.close() }()
	err = s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(name)
		if err != nil {
			return err
		}
		_, statErr := os.Stat(nd.file)
		isNew := errors.Is(statErr, os.ErrNotExist)
		if isNew {
			if err := w.syncMissing(&r); err != nil {
				return err
			}
		}
		of, err = w.prepare(&r, nd.file, true)
		if err != nil {
			return err
		}
		uv = r.uidValidity
		uids, err = w.appendMsgs(&r, of, isNew, msgs)
		return err
	})
	return uids, uv, err
}
