package maildir

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// openAhead is how many file names OpenMessage reads at once when the
// messages are opened in ascending UID order, as FETCH 1:* BODY[] does:
// one index query per openAhead messages instead of two per message
// (issue 7). About 8 KiB of names, held only by a mailbox that is being
// read this way.
const openAhead = 128

// fileNames is a read-ahead of the file names of consecutive messages,
// as the index had them. A name may be stale by the time it is opened
// (another session changed the flags, renaming the file): opening it then
// fails with ENOENT and OpenMessage asks the index again. A stale name
// cannot open another message: Maildir base names are unique.
type fileNames struct {
	dir   string   // the folder's directory
	uids  []uint32 // ascending
	files []string // file names in cur/, by uids' index
	last  uint32   // the UID opened last, to see an ascending scan
}

// cachedPath returns the path of uid's file from the read-ahead, if there.
func (mb *mailbox) cachedPath(uid uint32) (string, bool) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	n := &mb.names
	i, ok := slices.BinarySearch(n.uids, uid)
	if !ok {
		return "", false
	}
	n.last = uid
	path := filepath.Join(n.dir, "cur", n.files[i])
	if i == len(n.uids)-1 {
		// Used up: an idle session (IMAP IDLE after a FETCH) does not
		// keep the names.
		n.uids, n.files = nil, nil
	}
	return path, true
}

// ascendingOpen reports whether opening uid continues a scan in
// ascending UID order, which lookupName serves with a read-ahead; if not,
// it records uid as the one opened last, so that the next open in order
// starts one.
func (mb *mailbox) ascendingOpen(uid uint32) bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.names.last != 0 && uid > mb.names.last {
		return true
	}
	mb.names.last = uid
	return false
}

// dropNames forgets the read-ahead: after this mailbox renamed or removed
// files, or when a name in it turned out stale.
func (mb *mailbox) dropNames() {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.names.uids, mb.names.files = nil, nil
}

// lookupName asks the index for uid's file name in the folder at dir,
// and, when uid follows the UID opened last (an ascending scan), for the
// names of the next messages too, kept for the next calls. ok is false
// when uid is not in the mailbox.
func (mb *mailbox) lookupName(ctx context.Context, dir string, uid uint32) (file string, ok bool, err error) {
	mb.mu.Lock()
	limit := 1
	if mb.names.last != 0 && uid > mb.names.last {
		limit = openAhead
	}
	mb.names.last = uid
	mb.mu.Unlock()

	rows, err := mb.s.db.QueryContext(ctx, `SELECT uid, base, info FROM messages
		WHERE mailbox_id = ? AND uid >= ? ORDER BY uid LIMIT ?`, mb.id, uid, limit)
	if err != nil {
		return "", false, fmt.Errorf("maildir: index: %w", err)
	}
	defer rows.Close()
	var (
		uids  []uint32
		files []string
	)
	for rows.Next() {
		var (
			u          uint32
			base, info string
		)
		if err := rows.Scan(&u, &base, &info); err != nil {
			return "", false, fmt.Errorf("maildir: index: %w", err)
		}
		name := base + info
		if strings.ContainsRune(name, '/') {
			return "", false, fmt.Errorf("maildir: UID %d: bad file name %q in index", u, name)
		}
		uids = append(uids, u)
		files = append(files, name)
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("maildir: index: %w", err)
	}
	if len(uids) == 0 || uids[0] != uid {
		return "", false, nil
	}
	if limit > 1 {
		mb.mu.Lock()
		mb.names = fileNames{dir: dir, uids: uids, files: files, last: uid}
		mb.mu.Unlock()
	}
	return files[0], true, nil
}
