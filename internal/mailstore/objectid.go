package mailstore

import "strconv"

// MailboxID formats a mailbox's object identifier (RFC 8474 §4) from the
// driver's key for it (an index row id), which RENAME keeps and no two
// current mailboxes share, and its UIDVALIDITY, which a mailbox created
// again under an old name (or an old row id) never repeats. So the ID is
// the same for the same name and UIDVALIDITY, survives RENAME, and is new
// when a mailbox is re-created or its UIDVALIDITY changes, as RFC 8474 §4
// requires. The result is an objectid (RFC 8474 §7: letters, digits, "_"
// and "-").
func MailboxID(key int64, uidValidity uint32) string {
	return "M" + strconv.FormatInt(key, 36) + "-" + strconv.FormatUint(uint64(uidValidity), 36)
}
