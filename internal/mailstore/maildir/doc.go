// Package maildir is the Maildir mail store (DESIGN.md §4), with one SQLite
// index per user. Mail files are the truth for content, the index for
// metadata.
//
// Layout. INBOX is the Maildir root itself (root/cur, root/new, root/tmp);
// other mailboxes are Maildir++ folders: "Sent" is root/.Sent, "a/b" is
// root/.a.b, with "." and "%" (and control bytes) in a name component
// written %2E, %25 and so on. Every folder is a direct child of the root;
// names with empty, "." or ".." components are refused and folders that are
// symbolic links are never followed. Message files carry standard info
// flags ("base:2,DFPRST": \Draft, \Flagged, $Forwarded, \Answered, \Seen,
// \Deleted) and keywords as letters a-z named by the folder's
// postern-keywords file; keywords past the 26th live in the index only.
//
// Index. root/postern-index.sqlite (modernc.org/sqlite via database/sql):
// WAL, busy_timeout, every write a BEGIN IMMEDIATE transaction, so several
// processes share it and a UID is never handed out twice. Commits that
// give out UIDs are synchronous=FULL, but for APPEND's; APPEND, flag
// changes, expunges and cached data are NORMAL (no fsync;
// Store.writeLazy), Dovecot's durability contract. An APPEND's file and
// uidlist line are fsynced before its OK, and what a power loss takes
// from the index is taken back from them (lostcommits.go). See schema.go
// for the tables.
//
// Outside programs. Calls that need the current state (Messages, Changes,
// State, Status, Open and every write) compare the mtimes of new/ and cur/
// with the ones the index recorded: two stats when nothing happened. A
// changed new/ has its files moved to cur/ and given the next UIDs; a
// changed cur/ is compared with the index: unknown files become new
// messages, vanished ones expunges, renamed ones flag changes. An mtime
// less than a second old (racyWindow) is not trusted (a change in the same
// tick would not move it): the directory's names are then compared with
// the index by reading (sameOnDisk, no write lock), and a full merge runs
// only when they differ. An agreeing comparison is reused for
// verifyReuse (500 ms) while the index row and the mtimes stay the same,
// so another program's change in the very tick of ours shows within that
// time; every other change shows at once. This process's own writes carry
// the comparison they started from forward (carryVerified): they change
// directory and index in step, so the poll after an APPEND, STORE or
// EXPUNGE does not read cur/ again, and the reuse still ends verifyReuse
// after cur/ was last read.
//
// UIDs survive the index. Each folder's postern-uidlist records its
// UIDVALIDITY and a "UID BASE" line per message, appended (and fsync'd) in
// the transaction that hands the UID out. A lost index is rebuilt from the
// folders on the next Open (or by Reindex) with the same UIDVALIDITY and
// UIDs.
//
// Crash safety, step by step:
//   - Append writes and fsyncs tmp/NAME (mtime = internal date), then, in
//     the transaction, renames it into cur/ with its flags, appends the
//     uidlist line and commits lazily (the WAL is not fsynced); cur/ and
//     the uidlist are fsynced after the commit, outside the write lock
//     (so concurrent APPENDs overlap their flushes), and before Append
//     returns. A crash before the commit leaves a file in cur/ that the
//     next sync adopts with its flags and date (and, as the uidlist line
//     was written, usually its UID). A power loss after the commit,
//     before those fsyncs, may lose the rename: the next sync takes the
//     row without a file for an expunge, of a message whose APPEND was
//     never answered. A power loss after the OK may lose the commit
//     itself, never the file or its uidlist line: before a process first
//     uses the mailbox, recoverUIDs raises UIDNEXT past every UID the
//     uidlist lists and gives the files back their UIDs (lostcommits.go).
//   - Expunge records the expunged UIDs with their file names and unlinks
//     the files inside the transaction: a crash before the commit leaves
//     index rows without files, which the next sync expunges, as asked. A
//     file that survives an expunge is recognized by name and removed, never
//     taken for new mail.
//   - MoveTo links the file into the destination, then records the copy and
//     the source's expunge in one transaction: other sessions never see the
//     message in both mailboxes or in neither. A crash before the commit
//     leaves the new link, adopted as new mail in the destination, and may
//     leave the source unlinked: the message ends up moved, never lost.
//   - Flag changes rename the file; the index keeps the name on disk, so a
//     failed rename leaves the index right and the old name, which is not
//     mistaken for another program's change.
//   - Delete renames the folder to a trash name in the transaction and
//     removes it after the commit; Open removes trash left by a crash.
//
// Metadata in memory. Each process keeps, per index, a copy of the
// selected mailboxes' message metadata (metacache.go), checked at each use
// against the mailbox row in one read transaction and brought up to date
// from the rows changed and expunged since its HIGHESTMODSEQ, so a SELECT,
// FETCH 1:* FLAGS or STATUS of a selected mailbox costs O(changes), not a
// scan. A large mailbox's copy is also stored in the index as a packed blob
// (metablob.go) from which a new process starts the same way. An epoch in
// the index, bumped whenever a mailbox row is removed (Delete, Reindex, a
// folder gone), keeps a copy from being taken for a later row.
//
// Watching. Commits signal every open handle of the mailbox in this process
// at once (a registry keyed by index path). Changes by other processes and
// programs are seen through inotify (mailstore/fswatch: one instance per
// process) on the watched folders' new/ and cur/ and on the index's -wal
// file, which every commit of another process writes; a look then merges
// the folder or notices the moved HIGHESTMODSEQ. A safety look runs every
// Options.SafetyPoll (1 min); where inotify cannot watch, every
// Options.PollInterval (1 s). All of it runs only while some handle is
// watching.
package maildir
