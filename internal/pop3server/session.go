package pop3server

import (
	"context"
	"io"
	"net/netip"
)

// ConnInfo describes the client side of a connection, for the backend's
// policy decisions and logs.
type ConnInfo struct {
	RemoteAddr netip.AddrPort // unmapped (DESIGN.md §2)
	LocalAddr  netip.AddrPort
	// TLS is true once the connection is encrypted (implicit TLS or after
	// STLS); updated in place by STLS.
	TLS bool
	// Loopback is true when the peer is on this host (or a pipe).
	Loopback bool
	// ID is a short connection identifier for logs.
	ID string
}

// Session is one connection's backend, created by Options.NewSession. The
// server calls it from one goroutine at a time.
//
// Errors: return an *Error to answer -ERR with a response code (RFC 2449
// §8, RFC 3206) and a text safe for the client; any other error is logged
// and answered "-ERR [SYS/TEMP] ..." .
type Session interface {
	// Login checks a user name and password (USER/PASS, and AUTH after
	// SASL decoding) and, on success, opens the maildrop: the message list
	// is a snapshot taken now (RFC 1939 §8). Wrong credentials return
	// ErrAuth; a maildrop another session holds exclusively returns an
	// *Error with CodeInUse.
	Login(ctx context.Context, username, password string) error

	// Transaction state (RFC 1939 §5). Message numbers are 1-based
	// positions in the snapshot; the server has already checked that n is
	// in range and not marked deleted.

	// Stat returns the count and total size (octets as RETR sends them,
	// CRLF line ends, before byte-stuffing) of messages not marked deleted.
	Stat(ctx context.Context) (count int, size int64, err error)
	// List returns the snapshot: one entry per message, in order, with
	// its size as RETR sends it, its UIDL and whether it is marked deleted.
	List(ctx context.Context) ([]Message, error)
	// Retr writes message n with CRLF line endings (not byte-stuffed: the
	// server does that) and records that it was retrieved.
	Retr(ctx context.Context, n int, w io.Writer) error
	// Top writes the header of message n, the blank line, and the first
	// lines of its body (RFC 1939 §7), CRLF line endings.
	Top(ctx context.Context, n int, lines int, w io.Writer) error
	// Dele marks message n deleted; Rset unmarks all.
	Dele(ctx context.Context, n int) error
	Rset(ctx context.Context) error
	// Update is QUIT in the TRANSACTION state (RFC 1939 §6): it removes
	// exactly the messages this session marked, all or nothing, and
	// returns an error if it could not (answered -ERR, RFC 1939 §6: "some
	// deleted messages not removed").
	Update(ctx context.Context) error
	// Close ends the session (after QUIT, or when the connection drops:
	// then nothing marked is removed).
	Close() error
}

// Message is one entry of the maildrop snapshot.
type Message struct {
	Size    int64  // octets as RETR sends them (CRLF), before byte-stuffing
	UID     string // the UIDL value (RFC 1939 §7: 1 to 70 characters 0x21-0x7E)
	Deleted bool   // marked by DELE in this session
}

// SessionAPOP is implemented by sessions whose password store holds
// plaintext-equivalent secrets, so that APOP can be checked (RFC 1939 §7).
// Only then does the greeting carry a timestamp and APOP work; otherwise
// APOP is an unknown command. APOP sends no password, so it is allowed on
// unencrypted connections.
type SessionAPOP interface {
	// APOP checks that digest (32 lower-case hex digits) is the MD5 of
	// timestamp (the greeting's, angle brackets included) followed by
	// the user's secret, and on success opens the maildrop as Login
	// does. Errors as for Login.
	APOP(ctx context.Context, username, timestamp, digest string) error
}

// SessionEndReason is implemented by sessions that log why a connection
// ended other than by QUIT, in UW's words: "Autologout" after the login or
// idle timer, "Unexpected client disconnect, while reading line" when the
// client went away, "Server shutting down". The server calls it just
// before Close.
type SessionEndReason interface {
	SetEndReason(reason string)
}
