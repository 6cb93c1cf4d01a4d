package maildir

import (
	"context"
)

// Reindex rebuilds the index from the folders: every mailbox's rows are
// dropped and made again from its files, with the UIDVALIDITY, UIDs and
// keyword letters its postern-uidlist and postern-keywords files record
// (DESIGN.md §4), so clients keep their caches. Flags come from the file
// names; keywords past the 26th, cached parse results, \Recent state and
// expunge history (for QRESYNC) are lost, and HIGHESTMODSEQ starts again
// (clients see a lower one and resynchronize fully). Subscriptions are
// kept.
func (s *Store) Reindex(ctx context.Context) error {
	names, err := s.folders()
	if err != nil {
		return err
	}
	return s.write(ctx, func(w *wtx) error {
		if err := w.bumpEpoch(); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM messages`, `DELETE FROM expunged`, `DELETE FROM cache`, `DELETE FROM metablob`,
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
			if err := w.sync(&r); err != nil {
				return err
			}
			if err := w.rewriteUIDList(&r); err != nil {
				return err
			}
			if err := w.saveRow(&r); err != nil {
				return err
			}
		}
		return nil
	})
}
