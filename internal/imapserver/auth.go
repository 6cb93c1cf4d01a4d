package imapserver

import (
	"errors"
	"strings"

	"github.com/postern/postern/internal/auth/sasl"
	"github.com/postern/postern/internal/imap"
)

// errPrivacyRequired refuses a plaintext password on a connection that is
// neither encrypted nor local (RFC 3501 §6.2.3, RFC 5530 PRIVACYREQUIRED).
var errPrivacyRequired = imap.NO(imap.CodePrivacyRequired, "Plaintext authentication is disabled without TLS")

// handleLogin is LOGIN userid password (RFC 3501 §6.2.3).
func handleLogin(c *conn, cmd *command) error {
	var user, pass string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&user) || !c.dec.ExpectSP() || !c.dec.ExpectAString(&pass) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if !c.plaintextAllowed() {
		return errPrivacyRequired
	}
	if err := c.session.Login(c.ctx, user, pass); err != nil {
		cmd.loginFailed = true
		return errorf(cmd, err)
	}
	c.loggedIn(cmd)
	return nil
}

// loggedIn enters the authenticated state; the tagged OK carries the new
// capabilities (RFC 3501 §7.1 CAPABILITY code), sparing clients a round
// trip.
func (c *conn) loggedIn(cmd *command) {
	c.state = imap.StateAuthenticated
	cmd.code = imap.CodeCapability
	cmd.codeArg = capString(c.capabilities())
	cmd.text = "Logged in"
}

// handleAuthenticate is AUTHENTICATE mechanism [initial-response]
// (RFC 3501 §6.2.2, RFC 4959 SASL-IR).
func handleAuthenticate(c *conn, cmd *command) error {
	var mech, ir string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&mech) {
		return c.decErr()
	}
	hasIR := false
	if c.dec.SP() {
		// initial-response = base64 / "=": base64 characters are atom
		// characters, so an atom holds it.
		if !c.dec.ExpectAtom(&ir) {
			return c.decErr()
		}
		hasIR = true
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	mech = strings.ToUpper(mech)
	if !sasl.Supported(mech) {
		return imap.NO("", "Unsupported authentication mechanism")
	}
	if sasl.IsPlaintext(mech) && !c.plaintextAllowed() {
		return errPrivacyRequired
	}
	var initial []byte
	if hasIR {
		var err error
		if initial, err = sasl.DecodeInitialResponse([]byte(ir)); err != nil {
			return imap.BAD("", "Invalid initial response")
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
		return imap.NO("", "Unsupported authentication mechanism")
	}
	var resp []byte
	for {
		chal, done, err := m.Next(resp)
		switch {
		case loginErr != nil:
			cmd.loginFailed = true
			return errorf(cmd, loginErr)
		case errors.Is(err, sasl.ErrMalformed):
			return imap.BAD("", "Malformed authentication response")
		case errors.Is(err, sasl.ErrAuthzDenied):
			return imap.NO(imap.CodeAuthorizationFailed, "Authorization identity not permitted")
		case err != nil:
			return errorf(cmd, err)
		}
		if done {
			break
		}
		if err := c.w.continuation(sasl.EncodeChallenge(chal)); err != nil {
			return &ioError{err}
		}
		line, err := c.dec.ReadLine()
		if err != nil {
			return c.readLineErr(err)
		}
		if resp, err = sasl.DecodeResponse([]byte(line)); err != nil {
			if errors.Is(err, sasl.ErrCancelled) {
				return imap.BAD("", "Authentication cancelled")
			}
			return imap.BAD("", "Invalid base64 in authentication response")
		}
	}
	c.loggedIn(cmd)
	return nil
}

// readLineErr classifies an error of Decoder.ReadLine.
func (c *conn) readLineErr(err error) error {
	if _, ok := asLimit(err); ok {
		return err
	}
	return &ioError{err}
}
