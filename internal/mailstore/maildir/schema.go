package maildir

// schema is the index layout (DESIGN.md §4). The index is the truth for
// metadata; every table can be rebuilt from the folders, their
// postern-uidlist and postern-keywords files (see Reindex).
//
// messages holds only what SELECT and FETCH FLAGS need on its main path;
// cached parse results live in their own table so a scan of a large mailbox
// never reads them. Flags are a bit mask of system flags (sysflags) and the
// other flags joined by spaces (keywords). base is the Maildir file name
// without its info (":2,FS"), info the suffix as last written or seen on
// disk: a name on disk differing from base+info is a change by another
// program. expunged keeps the base name of expunged files so a file left
// behind by a crash is deleted, not taken for new mail. metablob holds a
// packed copy of a large mailbox's messages rows as of a MODSEQ (see
// metablob.go); meta's "epoch" counts removals of mailbox rows, so cached
// metadata is never taken for a later row with the same id. savedate holds
// when each message was stored in its mailbox (RFC 8514), in its own table
// so that adding it needed no change to the messages rows or their packed
// copy; an index from before it simply has no rows (SAVEDATE NIL).
// hdrcache holds the header fields SEARCH looked at (mailstore.HeaderCacher),
// apart from cache so that FETCH never reads them; an index from before it
// has none, and SEARCH fills it.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mailboxes (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL,
	highestmodseq INTEGER NOT NULL,
	recent_uid    INTEGER NOT NULL DEFAULT 0,
	special_use   TEXT NOT NULL DEFAULT '',
	new_mtime     INTEGER NOT NULL DEFAULT -1,
	cur_mtime     INTEGER NOT NULL DEFAULT -1,
	uidlist_lines INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS subscriptions (
	name TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS messages (
	mailbox_id   INTEGER NOT NULL,
	uid          INTEGER NOT NULL,
	modseq       INTEGER NOT NULL,
	sysflags     INTEGER NOT NULL,
	keywords     TEXT NOT NULL,
	size         INTEGER NOT NULL,
	internaldate INTEGER NOT NULL,
	tzoffset     INTEGER NOT NULL,
	base         TEXT NOT NULL,
	info         TEXT NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_modseq ON messages (mailbox_id, modseq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_base ON messages (mailbox_id, base);
CREATE TABLE IF NOT EXISTS cache (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	data       BLOB NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE TABLE IF NOT EXISTS hdrcache (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	data       BLOB NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE TABLE IF NOT EXISTS expunged (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	base       TEXT NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged (mailbox_id, modseq);
CREATE INDEX IF NOT EXISTS expunged_base ON expunged (mailbox_id, base);
CREATE TABLE IF NOT EXISTS metablob (
	mailbox_id  INTEGER PRIMARY KEY,
	epoch       INTEGER NOT NULL,
	uidvalidity INTEGER NOT NULL,
	modseq      INTEGER NOT NULL,
	data        BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS savedate (
	mailbox_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	date       INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keywords (
	mailbox_id INTEGER NOT NULL,
	idx        INTEGER NOT NULL,
	name       TEXT NOT NULL,
	PRIMARY KEY (mailbox_id, idx)
);
`
