package maildir

import (
	"context"
)

// Reindex rebuilds the index from the folders: every mailbox's rows are
// dropped and made again from its files, with the UIDVALIDITY, UIDs and
// keyword letters its postern-uidlist and postern-keywords files record
// (DESIGN.md §4), so clients keep their caches. Flags come from the file
// names; keywords past the 26th, cached parse results and \Recent state
// are lost. Subscriptions are kept, and so is what CONDSTORE and QRESYNC
// clients rely on when the old index can still be read (RFC 7162 §3.2):
// HIGHESTMODSEQ never goes down (every message gets a MODSEQ above the old
// one, so a client resyncing from its cached value refetches all flags),
// and the expunged UIDs stay known with their MODSEQ, so that they are
// still reported as VANISHED.
func (s *Store) Reindex(ctx context.Context) error {
	names, err := s.folders()
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		if err := w.bumpEpoch(); err != nil {
			return err
		}
		kept := w.keepHistory()
		for _, q := range []string{`DELETE FROM messages`, `DELETE FROM expunged`, `DELETE FROM cache`, `DELETE FROM hdrcache`, `DELETE FROM metablob`,
			`DELETE FROM keywords`, `DELETE FROM mailboxes`} {
			if err := w.exec(q); err != nil {
				return err
			}
		}
		for _, n := range names {
			r, err := w.ensureRow(0, n)
			if err != nil {
				return err
			}
			h, haveHistory := kept[n]
			haveHistory = haveHistory && h.uidValidity == r.uidValidity
			if haveHistory {
				r.modSeq = max(r.modSeq, h.modSeq)
			}
			if err := w.sync(&r); err != nil {
				return err
			}
			if haveHistory {
				if err := w.restoreExpunged(r.id, n); err != nil {
					return err
				}
			}
			if err := w.rewriteUIDList(&r); err != nil {
				return err
			}
			if err := w.saveRow(&r); err != nil {
				return err
			}
		}
		if kept != nil {
			return w.exec(`DROP TABLE IF EXISTS temp.reindex_expunged`)
		}
		return nil
	})
}

// keptMailbox is what Reindex keeps of a mailbox's old row.
type keptMailbox struct {
	uidValidity uint32
	modSeq      uint64
}

// keepHistory saves, before Reindex drops the rows, each mailbox's
// UIDVALIDITY and HIGHESTMODSEQ, and its expunged UIDs in a temporary
// table. An index too damaged to read gives nil: the history is lost then,
// as it would be without the index.
func (w *wtx) keepHistory() map[string]keptMailbox {
	rows, err := w.qtx.QueryContext(w.ctx, `SELECT name, uidvalidity, highestmodseq FROM mailboxes`)
	if err != nil {
		return nil
	}
	kept := map[string]keptMailbox{}
	for rows.Next() {
		var (
			name string
			k    keptMailbox
		)
		if rows.Scan(&name, &k.uidValidity, &k.modSeq) != nil {
			rows.Close()
			return nil
		}
		kept[name] = k
	}
	if rows.Close() != nil || rows.Err() != nil {
		return nil
	}
	if err := w.exec(`CREATE TEMP TABLE IF NOT EXISTS reindex_expunged AS
		SELECT m.name AS name, e.uid AS uid, e.modseq AS modseq, e.base AS base
		FROM expunged e JOIN mailboxes m ON m.id = e.mailbox_id`); err != nil {
		return nil
	}
	return kept
}

// restoreExpunged puts back the expunged UIDs keepHistory saved for name
// under its new id, except those whose file came back.
func (w *wtx) restoreExpunged(id int64, name string) error {
	return w.exec(`INSERT OR IGNORE INTO expunged(mailbox_id, uid, modseq, base)
		SELECT ?1, uid, modseq, base FROM temp.reindex_expunged
		WHERE name = ?2 AND uid NOT IN (SELECT uid FROM messages WHERE mailbox_id = ?1)`, id, name)
}
