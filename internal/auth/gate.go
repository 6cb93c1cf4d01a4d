package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
)

// Gate is the login sequence every protocol follows before a session may
// touch the user's mail, so that IMAP and POP3 cannot drift apart: the
// nologin file, the password check, the failure delay per client address,
// UW's log lines (fail2ban's uw-imapd filter matches them), and the hook
// that runs before any of the user's files is opened (the privilege drop).
type Gate struct {
	// Auth checks the credentials. Required.
	Auth Authenticator
	// Throttle delays answers to failed logins; nil: no delay.
	Throttle *Throttle
	// NoLoginFile refuses every login while it exists (NoLogin); "": off.
	NoLoginFile string
	// BeforeOpen runs after a successful check, before the caller opens
	// any of the user's files; nil: nothing. Its error refuses the login.
	BeforeOpen func(*User) error
	// Logger receives UW's "Login disabled" and "Login failed" lines.
	Logger *slog.Logger
}

// Refusal kinds a protocol words in its own way (NO codes, -ERR codes).
const (
	RefusedNoLogin     = "nologin"     // Reason is the nologin text for the client
	RefusedCredentials = "credentials" // wrong password, unknown, locked or expired account
	RefusedTemporary   = "temporary"   // the account database failed for now
)

// Refused is a login the Gate turned away. Reason may be shown to the
// client; Err, when set, is for the log only.
type Refused struct {
	Kind   string
	Reason string
	Err    error
}

func (r *Refused) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("auth: login refused (%s): %v", r.Kind, r.Err)
	}
	return "auth: login refused (" + r.Kind + ")"
}

func (r *Refused) Unwrap() error { return r.Err }

// Login runs the sequence for a client at peer and returns the user, a
// *Refused, or another error (the account database broke, or BeforeOpen
// failed) for the caller to log. A failed check waits out the throttle's
// delay before returning.
func (g *Gate) Login(ctx context.Context, username, password string, peer netip.AddrPort) (*User, error) {
	host := LogHost(peer)
	if reason, ok := NoLogin(g.NoLoginFile); ok {
		g.Logger.Warn(fmt.Sprintf("Login disabled user=%s auth=%s host=%s", username, username, host), "reason", g.NoLoginFile+" exists")
		return nil, &Refused{Kind: RefusedNoLogin, Reason: reason}
	}
	u, err := g.Auth.Authenticate(ctx, username, password)
	if err != nil {
		switch {
		case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrDisabled):
			g.Logger.Warn(fmt.Sprintf("Login failed user=%s auth=%s host=%s", username, username, host))
			if t := g.Throttle; t != nil && peer.IsValid() {
				t.Failed(peer.Addr())
				g.Logger.Debug("auth: failed login answer delayed", "host", host, "delay", t.Delay(peer.Addr()).String())
				if err := t.Wait(ctx, peer.Addr()); err != nil {
					return nil, fmt.Errorf("auth: login delay: %w", err)
				}
			}
			return nil, &Refused{Kind: RefusedCredentials, Reason: "Authentication failed"}
		case errors.Is(err, ErrTemporary):
			g.Logger.Warn(fmt.Sprintf("Login failed user=%s auth=%s host=%s", username, username, host), "err", err)
			return nil, &Refused{Kind: RefusedTemporary, Reason: "Temporary authentication failure", Err: err}
		}
		return nil, fmt.Errorf("auth: authenticate %q: %w", username, err)
	}
	if t := g.Throttle; t != nil && peer.IsValid() {
		t.Succeeded(peer.Addr())
	}
	if g.BeforeOpen != nil {
		if err := g.BeforeOpen(u); err != nil {
			return nil, fmt.Errorf("auth: preparing the session of %s: %w", u.Name, err)
		}
	}
	return u, nil
}
