// Package mbox is the UW-compatible mbox mail store (DESIGN.md §4; issue
// 4): INBOX is the spool file (/var/mail/USER), other mailboxes are files
// under the user's mail root, in the format UW imapd's "unix" driver
// reads and writes (uw-imap-docs/formats.txt), so UW's tools, mutt and
// alpine keep working on them and clients keep their UIDs.
//
// # Format
//
// Messages start with a "From " line carrying a date (RFC 4155; UW's
// VALID rule, fromline.go); body lines starting "From " are written
// ">From " and left so on reading, as UW does. UW's state lives in
// hidden header fields (uwheaders.go): X-IMAPbase in the first message
// or X-IMAP in the "FOLDER INTERNAL DATA" pseudo message (UIDVALIDITY,
// UIDLAST, keywords), and per message Status (R, O), X-Status (D F A T),
// X-Keywords and X-UID. Clients never see these fields (sizes and texts
// are computed without them) nor the pseudo message, which Create writes
// as UW's CREATE did. Content-Length is ignored. Messages an MTA delivered
// get the next UIDs; the UIDs and any flags that do not fit are written
// into the file at the next rewrite (Expunge, or Close of a mailbox),
// as UW did at its checkpoints. Flag changes are written in place when
// the new status block fits in the old one's bytes (UW pads X-Keywords
// for this, and so do we, byte for byte as UW: testdata/).
//
// Messages are written with LF line ends (APPEND, COPY, import: each CRLF
// made LF, toLF), as UW's unix driver writes them and as its read-write
// rewrites leave them; clients get CRLF (imapbackend). UIDLAST in the
// file covers every X-UID in it as soon as the file is unlocked (an
// append rewrites the file when the folder data no longer fits in
// place), and X-UIDs rise in file order (an append first writes the
// UIDs the index gave messages an MDA delivered, which have no X-UID
// yet): c-client takes an X-UID larger than UIDLAST, or lower than one
// it numbered before it, for damage and starts a new UIDVALIDITY.
//
// Mailbox names: see names.go (directories are mailboxes too, their own
// messages in DIR/.postern-mbox, because the contract lets "a" and
// "a/b" both hold mail).
//
// # Index
//
// A per-user SQLite index (index.go) holds, per message, its offsets,
// visible header length, flags, MODSEQ, internal date (from the "From "
// line) and cached structure; per mailbox, UIDVALIDITY, UIDNEXT,
// HIGHESTMODSEQ and the file's size, mtime, inode and a hash of its last
// 4 KiB. Every call stats the file (and its journal): unchanged, nothing
// is read, however large the file; grown with the old tail unchanged (an
// MTA appended), only the new part is parsed; anything else (another MUA
// rewrote it) is parsed in full, keeping UIDs from X-UID and, for
// messages without one, from a fingerprint of the "From " line and
// header. The index is the truth for what is not yet in the file (rows
// marked dirty); everything else can be rebuilt from the files.
//
// # Locking
//
// lock.go: NAME.lock (O_EXCL, or Debian's setgid dotlockfile when the
// directory is not writable: /var/mail is root:mail 2775), fcntl (as an
// OFD lock) and flock, taken only while a changed file is read or the
// file is written, never between calls. A NAME.lock older than
// LockTimeout (UW's five minutes), or waited on that long, or naming a
// PID that no longer runs, is broken. All our writes also happen inside
// a write transaction of the index, which orders them between our
// processes; several sessions and processes may have a mailbox selected
// read-write, each sees the others' changes at its next call, and a
// watcher is woken by inotify on the mailbox file, its dotlock and the
// index's -wal file (polling where inotify cannot watch; see watch.go).
//
// c-client's session lock (sessionlock.go): a UW program with the file
// open read-write holds an exclusive flock on /tmp/.DEV.INO for its whole
// session and rewrites the file from what it read at open. We take that
// lock, without waiting, before changing any byte already in the file;
// while another program holds it, we only append (without X-UID, as UW's
// append), keep flag and UID changes in the index until a later flush,
// and an EXPUNGE or MOVE waits for the session to end (SessionLockWait,
// 10 s) before failing with ErrLocked (NO [INUSE]).
//
// # Crash safety of rewrites
//
// Expunge (and any rewrite) changes the file in place from the first
// changed message on, through a redo journal (journal.go), rather than
// writing a new file and renaming it over the old:
//
//   - it works where the directory is not writable by the user (the
//     spool), which rename-over cannot;
//   - it keeps the inode, owner, group (mail), mode and ACLs of the spool
//     file, and other programs' open descriptors (mutt) stay on the file;
//   - only the tail after the first changed message is written (twice:
//     journal and file), not the whole file: expunging recent mail from a
//     large mailbox is cheap;
//   - there is one code path, and the crash test (crash_test.go) covers it.
//
// Steps, under all the locks and the index's write transaction:
//
//  1. The new tail T is written to the journal (IndexPath + ".journal/",
//     one file per mailbox file), followed by a SHA-256 of header and T;
//     the journal and its directory are fsync'd. The mailbox file is
//     untouched so far.
//  2. T is written into the file at its offset S, the file cut at
//     S+len(T) and fsync'd.
//  3. The index rows are updated and committed; then the journal is
//     removed.
//
// Recovery: every call stats the journal path of a mailbox before
// trusting the index. A kill -9
//
//   - during step 1 leaves a journal whose checksum fails: it is removed;
//     the file was never touched, the expunge did not happen;
//   - during or after step 2, before the journal is removed, leaves a
//     complete journal: it is replayed (T written at S again, the file
//     cut), which is idempotent, and the file is parsed in full. The
//     expunge has then happened; the UIDs come back from the X-UID
//     headers T carries, flags from its status blocks. Data another
//     program appended after the crash (past both the old end and
//     S+len(T)) is kept after T.
//
// Either way every message not expunged is intact byte for byte, which
// the crash test checks after SIGKILLs at many points of a rewrite, also
// with the index removed. Appends write at the end under the locks and
// fsync before the index commit; a crash can leave a partly written last
// message, which the next call reads as a (truncated) new message, as
// with an MTA that crashed.
//
// # Weaknesses
//
// An index row and a file that disagree by a final line end: mbox cannot
// store a message that does not end in a line end, so the file gets one;
// the index keeps the exact size, a reparse sees one byte more. A replayed
// journal assumes no other MUA rewrote the file between the crash and the
// replay (another MUA cannot take our dotlock before it is stale).
package mbox
