// Package migrate copies mail between stores keeping what IMAP clients
// cache: UIDVALIDITY, UIDs, flags, keywords and internal dates (RFC 3501
// §2.3.1.1), so that replacing UW imapd or Dovecot, or converting mbox to
// Maildir, does not make every client download every mailbox again.
//
// Copy writes through the optional mailstore.Importer capability of the
// destination (maildir and mbox implement it), one mailbox at a time, each
// all or nothing. Sources are any mailstore.Store: our own drivers, a UW
// mbox tree opened with mbox.OpenReadOnly, or a Dovecot Maildir++ tree
// opened with FromDovecotMaildir.
package migrate
