package pop3server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/auth/sasl"
)

// errPlaintextDisallowed refuses a plaintext password on a connection that
// is neither encrypted nor local (RFC 2595 §2.1, DESIGN.md §5).
var errPlaintextDisallowed = &Error{Code: CodeAuth, Text: "Plaintext authentication disallowed on non-secure connections"}

// plaintextAllowed reports whether USER/PASS and plaintext SASL mechanisms
// may be used on this connection.
func (c *conn) plaintextAllowed() bool {
	return c.info.TLS || c.info.Loopback || c.srv.opts.InsecureAuth
}

// handleUSER is USER name (RFC 1939 §7).
func handleUSER(c *conn, r request) error {
	if err := wantArgs(r, 1, 1); err != nil {
		return err
	}
	if !c.plaintextAllowed() {
		return errPlaintextDisallowed
	}
	c.user = r.args[0]
	c.writeOK("User name accepted, password please")
	return nil
}

// handlePASS is PASS string (RFC 1939 §7). The password is the whole rest
// of the line, spaces included.
func handlePASS(c *conn, r request) error {
	if r.arg == "" {
		return bad("missing argument")
	}
	if !c.plaintextAllowed() {
		return errPlaintextDisallowed
	}
	if c.prevUser == "" {
		return bad("no user name; send USER first")
	}
	if err := c.session.Login(c.ctx, c.prevUser, r.arg); err != nil {
		return &loginFailure{err}
	}
	return c.loggedIn(c.prevUser)
}

// handleAPOP is APOP name digest (RFC 1939 §7), dispatched only when the
// session implements SessionAPOP.
func handleAPOP(c *conn, r request) error {
	if err := wantArgs(r, 2, 2); err != nil {
		return err
	}
	digest := strings.ToLower(r.args[1])
	if len(digest) != 32 {
		return bad("invalid digest")
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return bad("invalid digest")
	}
	if err := c.session.(SessionAPOP).APOP(c.ctx, r.args[0], c.timestamp, digest); err != nil {
		return &loginFailure{err}
	}
	return c.loggedIn(r.args[0])
}

// newTimestamp returns the greeting's APOP timestamp, a unique msg-id
// (RFC 1939 §7, RFC 2449 §3): random, so that a digest cannot be replayed.
func (c *conn) newTimestamp() string {
	var b [8]byte
	rand.Read(b[:])
	return "<" + hex.EncodeToString(b[:]) + "." + strconv.FormatInt(time.Now().Unix(), 10) + "@" + c.srv.opts.Hostname + ">"
}

// loggedIn enters the TRANSACTION state: it takes the maildrop snapshot
// (RFC 1939 §8) and says how many messages it holds. Without a snapshot the
// session cannot go on: the connection is closed after the -ERR.
func (c *conn) loggedIn(user string) error {
	msgs, err := c.session.List(c.ctx)
	if err != nil {
		c.respondRefusal("LIST", err)
		return errClose
	}
	c.msgs = msgs
	c.state = stateTransaction
	c.log = c.log.With("user", user)
	c.writeOK("Mailbox open, " + strconv.Itoa(len(msgs)) + " messages")
	return nil
}

// handleAUTH is AUTH mechanism [initial-response] (RFC 5034 §4). AUTH
// without a mechanism is not defined there (the mechanisms are in CAPA's
// SASL line), so it is answered -ERR.
func handleAUTH(c *conn, r request) error {
	if err := wantArgs(r, 1, 2); err != nil {
		return err
	}
	mech := strings.ToUpper(r.args[0])
	if !sasl.Supported(mech) {
		return &Error{Text: "Unsupported authentication mechanism"}
	}
	if sasl.IsPlaintext(mech) && !c.plaintextAllowed() {
		return errPlaintextDisallowed
	}
	var initial []byte
	hasIR := len(r.args) == 2
	if hasIR {
		var err error
		if initial, err = sasl.DecodeInitialResponse([]byte(r.args[1])); err != nil {
			return bad("invalid base64 in initial response")
		}
	}
	// loginErr keeps the session's own answer (with its response code),
	// whatever the mechanism wraps it in.
	var loginErr error
	check := func(user, pass string) error {
		loginErr = c.session.Login(c.ctx, user, pass)
		return loginErr
	}
	m, err := sasl.NewServer(mech, initial, hasIR, check)
	if err != nil {
		return &Error{Text: "Unsupported authentication mechanism"}
	}
	var resp []byte
	for {
		chal, done, err := m.Next(resp)
		switch {
		case loginErr != nil:
			return &loginFailure{loginErr}
		case errors.Is(err, sasl.ErrMalformed):
			return bad("malformed authentication response")
		case errors.Is(err, sasl.ErrAuthzDenied):
			return &loginFailure{&Error{Code: CodeAuth, Text: "Authorization identity not permitted"}}
		case err != nil:
			return err
		}
		if done {
			break
		}
		// continue-req = "+" SP [base64] CRLF (RFC 5034 §4).
		c.writeLine("+ " + sasl.EncodeChallenge(chal))
		if err := c.flush(); err != nil {
			return &ioError{err}
		}
		line, err := c.readLine(maxAuthLineLength)
		if errors.Is(err, errLineTooLong) {
			return bad("authentication response too long")
		} else if errors.Is(err, errLineEndless) {
			return c.closeEndless()
		} else if err != nil {
			return err
		}
		if resp, err = sasl.DecodeResponse(line); err != nil {
			if errors.Is(err, sasl.ErrCancelled) {
				return &Error{Text: "Authentication cancelled"}
			}
			return bad("invalid base64 in authentication response")
		}
	}
	return c.loggedIn(m.Username())
}
