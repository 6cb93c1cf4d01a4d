// Package sortthread implements the SORT and THREAD algorithms of
// RFC 5256 (base subject, sent date, the SORT keys, THREAD=ORDEREDSUBJECT
// and THREAD=REFERENCES) and the DISPLAYFROM/DISPLAYTO keys of RFC 5957
// (SORT=DISPLAY) as pure functions over a small per-message summary.
//
// It does no I/O and knows nothing of mailboxes: the caller (the IMAP
// backend) runs the search, fills one Message per matching message from its
// envelope and index data, and writes the result with the message numbers
// it wants (sequence numbers for SORT/THREAD, UIDs for UID SORT/UID THREAD).
//
// Strings are compared with the i;unicode-casemap collation of RFC 5051,
// as RFC 5256 §7 requires (I18NLEVEL=1): each character is mapped to its
// Unicode simple titlecase and the result is put in NFKD; the keys are
// then compared octet by octet. See Collate.
package sortthread
