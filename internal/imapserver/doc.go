// Package imapserver is the IMAP4rev1 protocol engine (RFC 3501): it accepts
// connections, runs the connection state machine (RFC 3501 §3), parses
// commands with imapwire, calls a Session for every operation on mail, and
// writes the responses. It knows nothing about storage: the backend adapter
// implements Session.
//
// Besides RFC 3501 it implements LITERAL+ (RFC 7888), SASL-IR (RFC 4959),
// UIDPLUS (RFC 4315), UNSELECT (RFC 3691), IDLE (RFC 2177), NAMESPACE
// (RFC 2342), CHILDREN (RFC 3348, answered by the backend), MOVE (RFC 6851,
// when the session implements SessionMove), CONDSTORE and QRESYNC (RFC 7162,
// when the session implements SessionCondStore; condstore.go) and STARTTLS
// (RFC 2595, RFC 3501 §6.2.1). The search family: ESEARCH (RFC 4731) and
// WITHIN (RFC 5032) in search.go and esearch.go, SEARCHRES (RFC 5182, when
// the session implements SessionSearchRes), and SORT, THREAD, SORT=DISPLAY
// and ESORT (RFC 5256, RFC 5957, RFC 5267 §3) in sort.go, when the session
// implements SessionSort.
//
// There is one file per command family; conn.go holds the dispatcher and the
// protocol rules that apply to every command (states, the EXPUNGE rule of RFC
// 3501 §7.4.1, the error choke point, the bad-command limit before login).
package imapserver
