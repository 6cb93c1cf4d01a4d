// Package imapbackend implements imapserver.Session over a mailstore.Store,
// an auth.Authenticator and the message parser: the only place where IMAP
// meets storage (DESIGN.md §3).
//
// It keeps, per session, the map between message sequence numbers and UIDs
// of the selected mailbox (RFC 3501 §2.3.1), follows the changes other
// sessions and programs make through Mailbox.Changes and reports them as
// untagged EXISTS, RECENT, FETCH and EXPUNGE responses when the protocol
// allows (RFC 3501 §7.4.1, §5.2), evaluates SEARCH (RFC 3501 §6.4.4, with
// WITHIN of RFC 5032), keeps the SEARCHRES result variable as UIDs (RFC
// 5182), runs SORT and THREAD (RFC 5256, RFC 5957) through sortthread,
// assembles FETCH data (RFC 3501 §6.4.5, §7.4.2) from a parsed MIME structure
// cached in the store, and maps storage errors to response codes (RFC 5530).
//
// CONDSTORE and QRESYNC (RFC 7162, condstore.go) come from the store's
// per-message MODSEQ and its history of expunged UIDs: once the client
// enables them, updates carry UID and MODSEQ and expunges are VANISHED.
//
// Messages are served with CRLF line endings whatever the store holds:
// a bare LF is sent as CRLF and every size (RFC822.SIZE, BODYSTRUCTURE body
// sizes, section literals) counts the converted octets, as UW imapd and
// Dovecot do.
package imapbackend
