// Package sasl implements the server side of SASL mechanisms (RFC 4422)
// that carry a user name and password: PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login-00). It is protocol-neutral: mechanisms take
// and return raw bytes, and the protocol layer (IMAP AUTHENTICATE, RFC 3501
// §6.2.2 with SASL-IR, RFC 4959; POP3 AUTH, RFC 5034) frames them, with the
// base64 helpers in codec.go.
//
// A protocol layer drives an exchange like this:
//
//	m, err := sasl.NewServer(name, ir, hasIR, check) // ErrUnsupportedMech -> NO / -ERR
//	var resp []byte
//	for {
//		chal, done, err := m.Next(resp)
//		if err != nil { /* ErrMalformed -> BAD; else NO, per errors.Is */ }
//		if done { break }
//		// send "+ " + sasl.EncodeChallenge(chal), read a line
//		resp, err = sasl.DecodeResponse(line) // ErrCancelled on "*"
//	}
package sasl

import (
	"errors"
	"fmt"
	"strings"
)

// Mechanism names (RFC 4422 §3.1), as advertised and as NewServer accepts
// them, case-insensitively.
const (
	Plain = "PLAIN"
	Login = "LOGIN"
)

// Errors of an exchange, possibly wrapped. The protocol layer decides the
// reply: IMAP answers BAD to ErrMalformed and ErrCancelled (RFC 3501
// §6.2.2) and NO otherwise.
var (
	// ErrUnsupportedMech means NewServer does not know the mechanism.
	ErrUnsupportedMech = errors.New("sasl: unsupported mechanism")
	// ErrMalformed means a client response breaks the mechanism's syntax
	// or is not valid base64.
	ErrMalformed = errors.New("sasl: malformed response")
	// ErrCancelled means the client aborted the exchange with "*"
	// (RFC 4422 §3.5); DecodeResponse returns it.
	ErrCancelled = errors.New("sasl: authentication cancelled")
	// ErrAuthzDenied means the client asked to act as another identity
	// (an authorization identity other than its own), which is not
	// supported: no proxy authentication (RFC 4616 §2).
	ErrAuthzDenied = errors.New("sasl: authorization identity not permitted")
	// ErrFinished means Next was called after the exchange ended.
	ErrFinished = errors.New("sasl: exchange already finished")
)

// CheckFunc verifies a user name and password, typically by calling an
// auth.Authenticator and keeping the user it returns. Its error is
// returned by Next, wrapped.
type CheckFunc func(username, password string) error

// ServerMech is the server side of one authentication exchange. It is not
// safe for concurrent use.
type ServerMech interface {
	// Name returns the mechanism's name, e.g. "PLAIN".
	Name() string
	// Next takes the client's next response (decoded, not base64) and
	// returns the next challenge to send, or done when the exchange
	// succeeded. The first call starts the exchange: its response is
	// ignored (pass nil), since the initial response, if any, was given
	// to NewServer. A non-nil error ends the exchange unsuccessfully.
	// An empty, non-nil challenge means send an empty challenge ("+ ").
	Next(response []byte) (challenge []byte, done bool, err error)
	// Username returns the authentication identity the client gave so
	// far, or "" if none yet: for logging failures as well as successes.
	Username() string
}

// Mechanisms lists the supported mechanisms, strongest first.
func Mechanisms() []string { return []string{Plain, Login} }

// Supported reports whether NewServer knows mech (case-insensitive).
func Supported(mech string) bool {
	switch strings.ToUpper(mech) {
	case Plain, Login:
		return true
	}
	return false
}

// IsPlaintext reports whether mech sends the password in the clear, so
// that the protocol layer offers it only on encrypted or loopback
// connections (DESIGN.md §5; RFC 3501 §6.2.3 LOGINDISABLED).
func IsPlaintext(mech string) bool {
	switch strings.ToUpper(mech) {
	case Plain, Login:
		return true
	}
	return false
}

// NewServer starts the server side of mechanism mech (case-insensitive).
// initialResponse is the client's initial response (RFC 4422 §5: SASL-IR in
// IMAP, the second argument of POP3 AUTH), present when hasIR is true; a
// present initial response may be empty. check verifies the credentials.
func NewServer(mech string, initialResponse []byte, hasIR bool, check CheckFunc) (ServerMech, error) {
	if check == nil {
		return nil, errors.New("sasl: nil CheckFunc")
	}
	switch strings.ToUpper(mech) {
	case Plain:
		return &plainServer{ir: initialResponse, hasIR: hasIR, check: check}, nil
	case Login:
		return &loginServer{ir: initialResponse, hasIR: hasIR, check: check}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedMech, mech)
}
