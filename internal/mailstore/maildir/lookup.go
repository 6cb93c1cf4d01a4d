package maildir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// lookupName asks the index for uid's file name in cur/. ok is false
// when uid is not in the mailbox. Many messages read in turn (FETCH 1:*
// BODY[], SEARCH BODY) are looked up a batch at a time by OpenBatch.
func (mb *mailbox) lookupName(ctx context.Context, uid uint32) (file string, ok bool, err error) {
	var base, info string
	err = mb.s.db.QueryRowContext(ctx, `SELECT base, info FROM messages WHERE mailbox_id = ? AND uid = ?`, mb.id, uid).Scan(&base, &info)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("maildir: index: %w", err)
	}
	name := base + info
	if strings.ContainsRune(name, '/') {
		return "", false, fmt.Errorf("maildir: UID %d: bad file name %q in index", uid, name)
	}
	return name, true, nil
}
