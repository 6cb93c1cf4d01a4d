// Package pop3server is Postern's POP3 protocol engine: the AUTHORIZATION,
// TRANSACTION and UPDATE states of RFC 1939, CAPA and response codes (RFC
// 2449, RFC 3206), STLS (RFC 2595 §4) and AUTH (RFC 5034) with the SASL
// mechanisms of internal/auth/sasl.
//
// It is the sibling of imapserver: a Server takes listeners or connections
// (Serve, ServeConn) and never opens sockets, every read and write runs
// under a deadline, Shutdown is graceful, and all mail access goes through
// a small Session interface (session.go) that the backend implements. The
// engine owns the wire: parsing, byte-stuffing (RFC 1939 §3), the
// message-number checks and the plaintext policy; the backend owns
// credentials, the maildrop snapshot and the UW-style log lines.
package pop3server
