// Package imap is the IMAP vocabulary shared by the wire codec, the protocol
// engine and the backend adapter: flags, number sets, states, status
// responses, fetch items, search criteria, envelopes and body structures.
// It does no I/O.
//
// It follows RFC 3501 (IMAP4rev1), with the extensions the server
// advertises (RFC 4315 UIDPLUS, RFC 5182 SEARCHRES, RFC 3348 CHILDREN).
package imap
