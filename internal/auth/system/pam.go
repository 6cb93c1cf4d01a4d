//go:build pam

package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"runtime"
	"strconv"

	"github.com/msteinert/pam/v2"

	"github.com/postern/postern/internal/auth"
)

// PAMOptions configures a PAMAuthenticator. The zero value is usable.
type PAMOptions struct {
	// Logger receives the reason of every refused login and PAM's
	// messages. Nil discards them.
	Logger *slog.Logger
	// ConfDir is the directory holding the PAM service files. Empty means
	// the system's (/etc/pam.d). Tests point it at a temporary directory;
	// it needs Linux-PAM 1.4 or later (pam_start_confdir).
	ConfDir string
	// RemoteHost returns the client's address for a login's context, set
	// as PAM_RHOST as UW imapd did, so that pam_access host rules and
	// pam_unix's failure logs (which fail2ban reads) see it. Nil, or ""
	// returned, leaves PAM_RHOST unset. In inetd mode, where the process
	// serves one connection, it can simply return that peer's address.
	RemoteHost func(ctx context.Context) string
}

// PAMAuthenticator is an auth.Authenticator that asks PAM, as UW imapd
// built for "lnp" did: pam_authenticate with the password as the only
// conversation answer, then pam_acct_mgmt (expired, locked, access
// rules), then the identity from the name service (getpwnam through
// os/user, so NSS sources such as LDAP work). UID 0 is refused whatever
// PAM says, and so is an empty password, even where the service allows
// nullok. It is safe for concurrent use; each login is one PAM
// transaction. Built only with the "pam" build tag (cgo, libpam0g-dev).
type PAMAuthenticator struct {
	service string
	opts    PAMOptions
	log     *slog.Logger
}

var _ auth.Authenticator = (*PAMAuthenticator)(nil)

// NewPAM returns an Authenticator for the PAM service (conventionally
// "imap" for IMAP and "pop" for POP3, UW's names, so existing
// /etc/pam.d files keep working).
func NewPAM(service string, opts PAMOptions) (*PAMAuthenticator, error) {
	if service == "" {
		return nil, errors.New("system: empty PAM service name")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PAMAuthenticator{service: service, opts: opts, log: log}, nil
}

// Authenticate implements auth.Authenticator. Refusals give
// auth.ErrInvalidCredentials, with the reason logged; PAM reporting its
// backing service unavailable gives auth.ErrTemporary; a broken PAM
// configuration gives a plain error.
func (p *PAMAuthenticator) Authenticate(ctx context.Context, username, password string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("system: %w", err)
	}
	if !validName(username) || password == "" || len(password) > MaxPasswordLen {
		return nil, auth.ErrInvalidCredentials
	}
	// A PAM handle belongs to the thread that made it as far as some
	// modules are concerned; keep the whole transaction on one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	conv := func(s pam.Style, msg string) (string, error) {
		switch s {
		case pam.PromptEchoOff:
			return password, nil
		case pam.PromptEchoOn:
			// Some modules ask for the name again.
			return username, nil
		case pam.ErrorMsg, pam.TextInfo:
			p.log.Debug("system: PAM message", "service", p.service, "user", username, "msg", msg)
			return "", nil
		}
		return "", fmt.Errorf("system: unsupported PAM conversation style %d", s)
	}
	var tx *pam.Transaction
	var err error
	if p.opts.ConfDir != "" {
		tx, err = pam.StartConfDir(p.service, username, pam.ConversationFunc(conv), p.opts.ConfDir)
	} else {
		tx, err = pam.StartFunc(p.service, username, conv)
	}
	if err != nil {
		return nil, fmt.Errorf("system: pam_start(%q): %w", p.service, err)
	}
	defer tx.End()
	if p.opts.RemoteHost != nil {
		if host := p.opts.RemoteHost(ctx); host != "" {
			if err := tx.SetItem(pam.Rhost, host); err != nil {
				return nil, fmt.Errorf("system: pam_set_item(PAM_RHOST): %w", err)
			}
		}
	}

	const flags = pam.Silent | pam.DisallowNullAuthtok
	if err := tx.Authenticate(flags); err != nil {
		return nil, p.authError(username, "pam_authenticate", err)
	}
	if err := tx.AcctMgmt(flags); err != nil {
		// The password was right; the account may not log in.
		p.log.Warn("system: login refused", "user", username, "reason", acctReason(err), "service", p.service)
		if isTemporary(err) {
			return nil, fmt.Errorf("system: pam_acct_mgmt: %w: %w", auth.ErrTemporary, err)
		}
		return nil, auth.ErrInvalidCredentials
	}
	name, err := tx.GetItem(pam.User)
	if err != nil || name == "" {
		name = username
	}
	return p.identity(name)
}

// identity looks up the authenticated name and refuses uid 0.
func (p *PAMAuthenticator) identity(name string) (*auth.User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		// PAM accepted a name the name service does not know (a module
		// such as pam_permit, or a broken NSS setup): no uid to run as.
		p.log.Warn("system: login refused", "user", name, "reason", "PAM accepted a user the name service does not know", "err", err)
		return nil, auth.ErrInvalidCredentials
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("system: user %q has non-numeric ids %q/%q", name, u.Uid, u.Gid)
	}
	if uid == 0 {
		// DESIGN.md §5: UID 0 never logs in, whatever PAM allows.
		p.log.Warn("system: login refused", "user", name, "uid", uid, "reason", reasonUID0, "password_ok", true)
		return nil, auth.ErrInvalidCredentials
	}
	return &auth.User{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir}, nil
}

// authError maps a pam_authenticate failure.
func (p *PAMAuthenticator) authError(username, call string, err error) error {
	var pe pam.Error
	if !errors.As(err, &pe) {
		return fmt.Errorf("system: %s: %w", call, err)
	}
	switch pe {
	case pam.ErrAuth, pam.ErrUserUnknown, pam.ErrCredInsufficient, pam.ErrMaxtries, pam.ErrPermDenied:
		p.log.Debug("system: login failed", "user", username, "service", p.service, "pam", pe.Error())
		return auth.ErrInvalidCredentials
	}
	if isTemporary(pe) {
		p.log.Warn("system: PAM backing service unavailable", "user", username, "service", p.service, "pam", pe.Error())
		return fmt.Errorf("system: %s: %w: %w", call, auth.ErrTemporary, err)
	}
	p.log.Error("system: PAM failed", "user", username, "service", p.service, "call", call, "pam", pe.Error())
	return fmt.Errorf("system: %s: %w", call, err)
}

// isTemporary reports PAM errors that may pass on their own.
func isTemporary(err error) bool {
	return errors.Is(err, pam.ErrAuthinfoUnavail) || errors.Is(err, pam.ErrTryAgain)
}

// acctReason words a pam_acct_mgmt refusal for the log.
func acctReason(err error) string {
	switch {
	case errors.Is(err, pam.ErrAcctExpired):
		return reasonAccountExp
	case errors.Is(err, pam.ErrNewAuthtokReqd):
		return "password expired or must be changed (PAM_NEW_AUTHTOK_REQD)"
	case errors.Is(err, pam.ErrAuthtokExpired):
		return reasonPasswordExp
	case errors.Is(err, pam.ErrPermDenied), errors.Is(err, pam.ErrAuth):
		// pam_access, pam_listfile, pam_deny...
		return "denied by PAM account management"
	case errors.Is(err, pam.ErrUserUnknown):
		return "unknown to PAM account management"
	}
	return "PAM account management: " + err.Error()
}
