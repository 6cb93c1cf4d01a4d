// Package pop3backend implements pop3server.Session over a mailstore.Store,
// an auth.Authenticator and the message parser: the POP3 maildrop (RFC 1939)
// as a view of the user's INBOX.
//
// # The maildrop
//
// At login the session takes a snapshot of INBOX (RFC 1939 §8): the UIDs of
// its messages, their sizes and UIDVALIDITY. As UW ipop3d did, messages that
// carry \Deleted at that moment (flagged by an IMAP client, not yet
// expunged) are left out of the snapshot. Message numbers are positions in
// the snapshot and never change during the session; messages delivered
// later are not seen until the next login.
//
// Sizes are octets as RETR sends them: the stored message with every bare
// LF turned into CRLF (RFC 1939 §3), before byte-stuffing. They come from
// the MIME structure the store caches for IMAP (message.Part's BareLF
// counts); a message without one is parsed once at login and its structure
// cached for both protocols. Unlike UW, no "Status:" header is added, so a
// size is IMAP's RFC822.SIZE exactly (UW's were 12 octets larger).
//
// UIDL values are UW ipop3d's: UIDVALIDITY and UID as eight lower-case hex
// digits each ("%08x%08x"). They are stable across sessions and stores and,
// for a mailbox written by UW (whose X-IMAPbase and X-UID headers the mbox
// store keeps), equal to what UW's ipop3d gave, so "leave mail on server"
// clients do not fetch everything again after the migration.
//
// # DELE, RETR and the UPDATE state
//
// DELE and RSET change only the session's memory. RETR records the message
// as read; TOP does not. At QUIT (Session.Update, RFC 1939 §6) the session,
// as UW did, first sets \Seen on the messages it retrieved, then expunges
// exactly the UIDs it marked with one Mailbox.Expunge call, which the store
// makes atomic. Unlike UW, other messages carrying \Deleted are not expunged.
// A session that ends without QUIT (a dropped connection, Close without
// Update) changes nothing: neither deletions nor \Seen.
//
// # Concurrent sessions
//
// No lock is held between commands beyond what the store holds for one
// call, so IMAP sessions and other POP3 sessions work on the same INBOX at
// the same time. What each POP3 session gets:
//
//   - its own snapshot, taken at its login; changes by others (new mail,
//     flags, expunges) are not shown until the next login;
//   - a message another session expunged after the snapshot answers RETR and
//     TOP with "-ERR [SYS/TEMP] message was removed by another session";
//     LIST, STAT and UIDL still show it (RFC 1939 numbers cannot change);
//   - at QUIT, UIDs that are already gone are skipped without error: two
//     POP3 sessions that both DELE a message both succeed, and it is removed
//     once; messages delivered after the login are never touched.
//
// The log lines keep UW ipop3d's wording for log watchers and fail2ban
// (uw-observed.md §3.6): "Login user=%s host=%s nmsgs=%d/%d" (messages in
// the snapshot / in the mailbox), "Update user=%s host=%s nmsgs=%d ndele=%d
// nseen=%d", "Logout user=%s host=%s" and "Login failed user=%s auth=%s
// host=%s".
package pop3backend
