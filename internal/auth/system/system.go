// Package system authenticates the accounts of the machine, as UW imapd
// did (DESIGN.md §5): /etc/passwd for the identity, /etc/shadow for the
// password hash and its aging (passwd(5), shadow(5)). Hashes are verified
// in Go with github.com/go-crypt/crypt: yescrypt ($y$, Debian's default),
// SHA-512-crypt ($6$), SHA-256-crypt ($5$), MD5-crypt ($1$) and bcrypt
// ($2b$). With the "pam" build tag, NewPAM authenticates through PAM
// instead (service "imap" or "pop").
//
// Accounts are refused, with the reason logged and never told to the
// client (who gets the same auth.ErrInvalidCredentials as for a wrong
// password), when the uid is 0, the password is locked, empty or unset,
// the account has expired, or the password has expired (shadow(5)
// aging). The login shell is not checked unless Options.RequireValidShell
// says so, because UW imapd did not check it and sites have mail-only
// users with /usr/sbin/nologin.
//
// The files are read on every login, so a password changed by passwd(1)
// or an account locked by usermod -L applies to the next login at once.
package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/postern/postern/internal/auth"
)

// Default file locations.
const (
	DefaultPasswdFile = "/etc/passwd"
	DefaultShadowFile = "/etc/shadow"
	DefaultShellsFile = "/etc/shells"
)

// MaxPasswordLen is the longest password checked, in bytes: libxcrypt's
// CRYPT_MAX_PASSPHRASE_SIZE. Longer ones are refused after a dummy
// verification of their first MaxPasswordLen bytes, because SHA-crypt's
// cost grows with the length and a client could make each attempt as
// expensive as it liked.
const MaxPasswordLen = 512

// Options configures an Authenticator. The zero value uses the real
// system files.
type Options struct {
	// PasswdFile is the passwd(5) file. Empty means DefaultPasswdFile.
	PasswdFile string
	// ShadowFile is the shadow(5) file, consulted for users whose passwd
	// password field is "x". Empty means DefaultShadowFile.
	ShadowFile string
	// RequireValidShell refuses users whose login shell (empty meaning
	// /bin/sh, as passwd(5) says) is not listed in ShellsFile, as
	// pam_shells and FTP servers do: /usr/sbin/nologin and /bin/false are
	// not listed on Debian. False (the default) does not look at the
	// shell, as UW imapd did not, so mail-only accounts with nologin
	// keep working.
	RequireValidShell bool
	// ShellsFile is the shells(5) file used by RequireValidShell. Empty
	// means DefaultShellsFile.
	ShellsFile string
	// Logger receives the reason of every refused login and unreadable
	// files. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time, for account and password expiry.
	// Nil means time.Now. Tests inject a clock.
	Now func() time.Time
}

// Authenticator is an auth.Authenticator for the system's accounts. It
// keeps no state between logins and is safe for concurrent use.
type Authenticator struct {
	opts Options
	log  *slog.Logger
	hash *hasher
}

var _ auth.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator configured by opts. The files are not read
// until the first login.
func New(opts Options) (*Authenticator, error) {
	if opts.PasswdFile == "" {
		opts.PasswdFile = DefaultPasswdFile
	}
	if opts.ShadowFile == "" {
		opts.ShadowFile = DefaultShadowFile
	}
	if opts.ShellsFile == "" {
		opts.ShellsFile = DefaultShellsFile
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h, err := newHasher()
	if err != nil {
		return nil, err
	}
	h.shadow = opts.ShadowFile
	return &Authenticator{opts: opts, log: log, hash: h}, nil
}

// Authenticate implements auth.Authenticator. Every call that reaches the
// files costs exactly one password hash computation, whether or not the
// user exists, so that timing does not tell valid names apart. A user
// name not found as given is looked up again in lower case, as UW's
// checkpw did. Refusals give auth.ErrInvalidCredentials; files that
// cannot be read give an error wrapping auth.ErrTemporary when the
// failure may pass, or a plain error (a misconfiguration: missing file,
// no permission) otherwise.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("system: %w", err)
	}
	if len(password) > MaxPasswordLen {
		a.hash.burn(password[:MaxPasswordLen])
		a.log.Info("system: login refused: password longer than the maximum", "user", username, "max", MaxPasswordLen)
		return nil, auth.ErrInvalidCredentials
	}
	acct, err := a.lookup(username)
	if err != nil {
		a.hash.burn(password)
		return nil, err
	}
	if acct == nil {
		a.hash.burn(password)
		a.log.Debug("system: login failed: no such user", "user", username)
		return nil, auth.ErrInvalidCredentials
	}
	pw := acct.pw
	ok := a.verify(acct, password)
	reason, grace := a.refusal(acct)
	if reason != "" {
		// Logged whether or not the password matched (password_ok says
		// which), so that an administrator sees why a user cannot log in.
		a.log.Warn("system: login refused", "user", pw.name, "uid", pw.uid, "reason", reason, "password_ok", ok)
		return nil, auth.ErrInvalidCredentials
	}
	if !ok {
		a.log.Debug("system: login failed: wrong password", "user", pw.name)
		return nil, auth.ErrInvalidCredentials
	}
	if grace {
		a.log.Warn("system: password expired; accepted during its inactive period, the user must change it", "user", pw.name)
	}
	return &auth.User{Name: pw.name, UID: pw.uid, GID: pw.gid, Home: pw.home}, nil
}

// account is what one login reads from the files.
type account struct {
	pw       passwdEntry
	field    string       // the password field that applies: shadow's, or passwd's when not "x"
	sp       *shadowEntry // nil when passwd holds the password itself
	spReason string       // reasonNoShadow or reasonBadShadow when passwd says "x" but shadow does not help
}

// lookup reads the passwd and shadow entries of username, trying the
// lower-cased name too. It returns nil, nil when there is no such user.
func (a *Authenticator) lookup(username string) (*account, error) {
	if !validName(username) {
		return nil, nil
	}
	line, found, err := findLine(a.opts.PasswdFile, username)
	if err == nil && !found {
		if lower := strings.ToLower(username); lower != username {
			line, found, err = findLine(a.opts.PasswdFile, lower)
		}
	}
	if err != nil {
		return nil, a.fileError(a.opts.PasswdFile, err)
	}
	if !found {
		return nil, nil
	}
	pw, err := parsePasswdLine(line)
	if err != nil {
		// The entry exists but is damaged: treat it as no user, loudly.
		a.log.Error("system: login refused: malformed passwd entry", "file", a.opts.PasswdFile, "user", username, "err", err)
		return nil, nil
	}
	acct := &account{pw: pw, field: pw.password}
	if pw.password != "x" {
		return acct, nil
	}
	acct.field = ""
	line, found, err = findLine(a.opts.ShadowFile, pw.name)
	if err != nil {
		return nil, a.fileError(a.opts.ShadowFile, err)
	}
	if !found {
		acct.spReason = reasonNoShadow
		return acct, nil
	}
	sp, err := parseShadowLine(line)
	if err != nil {
		a.log.Error("system: malformed shadow entry", "file", a.opts.ShadowFile, "user", pw.name, "err", err)
		acct.spReason = reasonBadShadow
		return acct, nil
	}
	acct.sp, acct.field = &sp, sp.password
	return acct, nil
}

// fileError logs and wraps a failure to read path. Missing files and
// permission problems are configuration errors; anything else (an I/O
// error) may pass, and is reported as auth.ErrTemporary.
func (a *Authenticator) fileError(path string, err error) error {
	a.log.Error("system: cannot read account file", "file", path, "err", err)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("system: %w", err)
	}
	return fmt.Errorf("system: %w: %w", auth.ErrTemporary, err)
}

// verify checks password against the account's hash, or spends a dummy
// verification when there is no usable hash, so that the cost is the same.
// An empty password never matches.
func (a *Authenticator) verify(acct *account, password string) bool {
	_, hash := classify(acct.field)
	if hash == "" || password == "" {
		a.hash.burn(password)
		return false
	}
	d, err := a.hash.decode(hash)
	if err != nil {
		a.hash.burn(password)
		return false
	}
	ok, err := a.hash.match(d, password)
	if err != nil {
		a.log.Error("system: cannot check password", "user", acct.pw.name, "err", err)
		return false
	}
	return ok
}

// refusal returns why acct may not log in whatever the password, or "";
// grace reports a password expired but in its shadow(5) inactive period.
func (a *Authenticator) refusal(acct *account) (reason string, grace bool) {
	if acct.pw.uid == 0 {
		// DESIGN.md §5: UID 0 never logs in, whatever the name.
		return reasonUID0, false
	}
	if acct.spReason != "" {
		return acct.spReason, false
	}
	state, hash := classify(acct.field)
	switch state {
	case locked:
		return reasonLocked, false
	case noPassword:
		return reasonNoPassword, false
	case emptyHash:
		return reasonEmptyPassword, false
	}
	if _, err := a.hash.decode(hash); err != nil {
		return reasonBadHash, false
	}
	if acct.sp != nil {
		if reason, grace = ageReason(*acct.sp, day(a.opts.Now())); reason != "" {
			return reason, false
		}
	}
	if a.opts.RequireValidShell {
		if ok, err := a.validShell(acct.pw.shell); !ok {
			if err != nil {
				a.log.Error("system: cannot read shells file", "file", a.opts.ShellsFile, "err", err)
			}
			return reasonShell, false
		}
	}
	return "", grace
}

// validName reports whether name can be looked up at all: no separator,
// line break or control character, and not an NIS compat or comment line.
// Such names fail as unknown users.
func validName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	switch name[0] {
	case '+', '-', '#':
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == ':' {
			return false
		}
	}
	return true
}
