package maildir

import (
	"context"
	"fmt"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// setSaveDate records that message uid was stored in mailbox id now
// (SAVEDATE, RFC 8514 §3). replace is false where an earlier date, kept
// from before a reindex, should win.
func (w *wtx) setSaveDate(id int64, uid uint32, replace bool) error {
	verb := "INSERT OR IGNORE"
	if replace {
		verb = "INSERT OR REPLACE"
	}
	return w.exec(verb+` INTO savedate(mailbox_id, uid, date) VALUES (?, ?, ?)`, id, uid, w.s.opts.Now().Unix())
}

// fillSaveDate sets the SaveDate of infos (ascending UIDs, the UIDs in
// have); messages without a recorded date keep the zero time.
func (mb *mailbox) fillSaveDate(ctx context.Context, infos []mailstore.MessageInfo, have []uint32) error {
	i := 0
	for _, b := range batchUIDs(have) {
		cond, args := b.where("")
		rows, err := mb.s.db.QueryContext(ctx, `SELECT uid, date FROM savedate WHERE mailbox_id = ? AND `+cond+` ORDER BY uid`,
			append([]any{mb.id}, args...)...)
		if err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		for rows.Next() {
			var uid uint32
			var date int64
			if err := rows.Scan(&uid, &date); err != nil {
				rows.Close()
				return fmt.Errorf("maildir: index: %w", err)
			}
			for i < len(infos) && infos[i].UID < uid {
				i++
			}
			if i < len(infos) && infos[i].UID == uid {
				infos[i].SaveDate = time.Unix(date, 0)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
	}
	return nil
}
