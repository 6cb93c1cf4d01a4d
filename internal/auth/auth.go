// Package auth is the protocol-neutral authentication contract: an
// Authenticator checks a user name and password and returns a User, and a
// Throttle delays repeated failures from one client address (DESIGN.md §5).
//
// Implementations live in subpackages: virtual (a Dovecot-shaped passwd
// file) now, system (shadow, PAM) later. SASL mechanisms (RFC 4422) that
// reduce to a user name and password are in sasl. Protocol packages map the
// errors here to their own replies: ErrInvalidCredentials and ErrDisabled to
// IMAP NO [AUTHENTICATIONFAILED] / [CONTACTADMIN] (RFC 5530 §3) and POP3
// -ERR [AUTH] (RFC 3206 §4), ErrTemporary to [UNAVAILABLE] / [SYS/TEMP].
package auth

import (
	"context"
	"errors"
)

// Authenticator checks credentials. Implementations: virtual (password
// file) now; system (shadow/PAM) later. Implementations are safe for
// concurrent use.
type Authenticator interface {
	// Authenticate checks a username and password and returns the user's
	// identity. Wrong credentials give ErrInvalidCredentials (never saying
	// which part was wrong); a disabled account gives ErrDisabled, and only
	// after the password was verified, so that it reveals nothing to a
	// guesser; a passing failure of the backing store gives ErrTemporary;
	// anything else is an internal error. All may be wrapped: test with
	// errors.Is.
	Authenticate(ctx context.Context, username, password string) (*User, error)
}

// User is an authenticated identity.
type User struct {
	// Name is the canonical login name, as the account database spells it.
	Name string
	// UID and GID are the numeric system ids to run as, or -1 when the
	// account is not a system account or the database does not give them.
	UID, GID int
	// Home is the home directory; it may be "".
	Home string
	// MailRoot is the directory under which this user's mail lives. For
	// virtual users it comes from the "mail" extra field, the home
	// directory, or a template (see package virtual). It may be "" when the
	// database gives nothing; the caller then applies its own default.
	MailRoot string
	// Extra holds the key=value extra fields of the account database
	// (e.g. "mail" -> "maildir:~/Maildir"); a bare key maps to "". It is nil
	// when there are none. Callers must not modify it.
	Extra map[string]string
}

// Errors returned by Authenticators, possibly wrapped.
var (
	// ErrInvalidCredentials means the user does not exist or the password
	// is wrong; which of the two is deliberately not said.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrDisabled means the credentials were right but the account may not
	// log in (locked, nologin, UID 0).
	ErrDisabled = errors.New("auth: account disabled")
	// ErrTemporary means the check could not be made now (database busy or
	// unreadable); the client may retry later.
	ErrTemporary = errors.New("auth: temporary failure")
)
