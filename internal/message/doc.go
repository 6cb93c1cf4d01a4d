// Package message parses Internet messages (RFC 5322) and their MIME
// structure (RFC 2045, RFC 2046) leniently, recording the byte offset of
// every part so that a server can answer IMAP BODY[section] requests by
// seeking in the stored message instead of re-parsing it.
//
// The package is protocol-neutral: it knows what IMAP FETCH and SEARCH need
// from a message (RFC 3501 §6.4.4, §6.4.5, §7.4.2: ENVELOPE fields, the
// BODYSTRUCTURE inputs, part numbering, header field selection, decoded text)
// but never imports an IMAP package; the IMAP adapter turns these types into
// wire form.
//
// Parsing never fails on malformed input. The rules, chosen to match what
// Dovecot and UW imapd do with broken mail:
//
//   - A header ends at the first empty line. A header line without a colon
//     does not end it: it is kept as a nameless field (Dovecot keeps such a
//     line in the header too), which no name lookup matches.
//   - LF alone is accepted as a line ending everywhere; offsets count the
//     bytes as stored and BareLFHeader/BareLFBody count the LFs that a
//     conversion to CRLF would grow.
//   - 8-bit bytes in headers are kept as they are.
//   - A multipart without a closing delimiter runs to the end of its parent
//     (or of the message); a delimiter of an enclosing multipart ends every
//     part inside it.
//   - Parts nested deeper than MaxDepth are opaque leaves.
//
// Encoded words (RFC 2047) are kept raw in ENVELOPE fields, as RFC 3501
// wants; DecodeHeader decodes them for SEARCH. Content-Type parameters are
// decoded as RFC 2231 says.
package message
