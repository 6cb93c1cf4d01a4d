// Package virtual authenticates users listed in a password file of the
// shape Dovecot's passwd-file uses (DESIGN.md §5), so that Dovecot
// installations can migrate:
//
//	user:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
//
// Schemes: {BCRYPT}/{BLF-CRYPT}, {SHA512-CRYPT}/{SHA256-CRYPT} (Drepper's
// SHA-crypt), {CRYPT} or no prefix (the crypt(3) format chooses among those
// two), and {PLAIN} for demos and tests. The file is reread when it changes.
package virtual

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern/postern/internal/auth"
)

// DefaultReloadInterval is how often, at most, File checks whether its file
// changed.
const DefaultReloadInterval = time.Second

// Options configures a File. The zero value is usable.
type Options struct {
	// Logger receives load problems (bad lines, plaintext passwords,
	// unsupported schemes) and reload failures. Nil discards them.
	Logger *slog.Logger
	// MailRootTemplate gives the mail root of users whose line has neither
	// a home nor a "mail" extra field, e.g. "/var/vmail/%d/%n". Variables:
	// %u user name, %n its part before "@", %d its part after "@", %%.
	// It must expand to an absolute path. Empty means such users get an
	// empty MailRoot.
	MailRootTemplate string
	// ReloadInterval is how often, at most, the file's identity, size and
	// modification time are checked; the file is reread when one changed.
	// Zero means DefaultReloadInterval; negative means on every call.
	ReloadInterval time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Cache remembers passwords that verified (see auth.Cache), so that
	// repeated logins skip the slow hash. Every reload of the file
	// invalidates it. Nil means every login pays the hash.
	Cache *auth.Cache
}

// File is an auth.Authenticator backed by a password file. It is safe for
// concurrent use.
type File struct {
	path string
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	users   map[string]*entry // guarded by mu; replaced whole on reload
	info    os.FileInfo       // guarded by mu; what users was read from
	checked time.Time         // guarded by mu; last stat
	gen     uint64            // guarded by mu; bumped on every load, for the cache
	// dummy is what an unknown user's password is checked against: a
	// hash of the scheme and cost most users of the file have (dummy.go).
	dummy credential // guarded by mu

	// dummyChecks counts checks against dummy, so that tests can see an
	// unknown user pay the hash.
	dummyChecks atomic.Int64
}

var _ auth.Authenticator = (*File)(nil)

// Open reads the password file at path. A missing or unreadable file is an
// error; bad lines are logged and skipped.
func Open(path string, opts Options) (*File, error) {
	f := &File{path: path, opts: opts, log: opts.Logger}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if opts.MailRootTemplate != "" {
		p, err := expandTemplate(opts.MailRootTemplate, "user@example.org", "")
		if err != nil {
			return nil, err
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("virtual: mail root template %q is not an absolute path", opts.MailRootTemplate)
		}
	}
	if err := f.load(f.now()); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) now() time.Time {
	if f.opts.Now != nil {
		return f.opts.Now()
	}
	return time.Now()
}

// load reads and parses the file and installs the result. Called with mu
// held, or before f is shared.
func (f *File) load(now time.Time) error {
	fd, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	defer fd.Close()
	info, err := fd.Stat()
	if err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	// Read through the same descriptor as the Stat, so that info
	// describes exactly the bytes parsed even if the file is replaced now.
	data, err := io.ReadAll(fd)
	if err != nil {
		return fmt.Errorf("virtual: %w", err)
	}
	users, problems := parseFile(data)
	for _, p := range problems {
		f.log.Error("virtual: skipping bad line in password file", "file", f.path, "line", p.line, "err", p.err)
	}
	for _, e := range users {
		switch {
		case e.credErr != nil:
			f.log.Error("virtual: user cannot log in: unusable password hash", "file", f.path, "line", e.line, "user", e.name, "err", e.credErr)
		case e.cred.plaintext():
			f.log.Warn("virtual: plaintext password; use only for demos and tests", "file", f.path, "line", e.line, "user", e.name)
		}
	}
	f.users, f.info, f.checked = users, info, now
	f.dummy = dummyFor(users)
	f.gen++
	f.log.Debug("virtual: loaded password file", "file", f.path, "users", len(users))
	return nil
}

// lookup returns the entry for name and the generation of the file it
// comes from, first rereading the file if it changed and the reload
// interval has passed.
func (f *File) lookup(name string) (*entry, uint64, credential) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maybeReload()
	return f.users[name], f.gen, f.dummy
}

// burn checks password against the dummy credential and drops the
// result: the cost of checking a real user's password, paid where there
// is none to check.
func (f *File) burn(dummy credential, password string) {
	f.dummyChecks.Add(1)
	_, _ = dummy.check(password)
}

// maybeReload rereads the file if it changed. A failed reload keeps the
// users already loaded. Called with mu held.
func (f *File) maybeReload() {
	now := f.now()
	interval := f.opts.ReloadInterval
	if interval == 0 {
		interval = DefaultReloadInterval
	}
	if interval > 0 && now.Sub(f.checked) < interval && !now.Before(f.checked) {
		return
	}
	f.checked = now
	info, err := os.Stat(f.path)
	if err != nil {
		f.log.Error("virtual: cannot check password file; keeping the users loaded", "file", f.path, "err", err)
		return
	}
	if os.SameFile(info, f.info) && info.Size() == f.info.Size() && info.ModTime().Equal(f.info.ModTime()) {
		return
	}
	if err := f.load(now); err != nil {
		f.log.Error("virtual: cannot reload password file; keeping the users loaded", "file", f.path, "err", err)
		return
	}
	f.log.Info("virtual: reloaded password file", "file", f.path, "users", len(f.users))
}

// Authenticate implements auth.Authenticator. Unknown users, bad names and
// unusable hashes cost a bcrypt comparison, as a wrong password does, so
// that timing does not tell which users exist. Only a password that
// verified before for this user, against the file as it is now, skips the
// hash (Options.Cache): the one who knows it learns nothing from that.
func (f *File) Authenticate(ctx context.Context, username, password string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("virtual: %w", err)
	}
	e, gen, dummy := f.lookup(username)
	if ValidUsername(username) != nil {
		e = nil // never matched, whatever the file holds
	}
	if e == nil || password == "" {
		f.burn(dummy, password)
		return nil, auth.ErrInvalidCredentials
	}
	if e.credErr != nil {
		f.burn(dummy, password)
		f.log.Warn("virtual: login refused: unusable password hash", "user", e.name, "err", e.credErr)
		return nil, auth.ErrInvalidCredentials
	}
	// A password that verified before against this very file skips the
	// hash; anything else (a wrong password above all) pays it in full.
	if !f.opts.Cache.Verified(e.name, password, gen) {
		ok, err := e.cred.check(password)
		if err != nil {
			f.log.Warn("virtual: login refused: cannot check password", "user", e.name, "err", err)
			return nil, auth.ErrInvalidCredentials
		}
		if !ok {
			return nil, auth.ErrInvalidCredentials
		}
		f.opts.Cache.Remember(e.name, password, gen)
	}
	if e.disabled {
		return nil, auth.ErrDisabled
	}
	if e.uid == 0 {
		// DESIGN.md §1: UID 0 never logs in.
		f.log.Warn("virtual: login refused: uid 0", "user", e.name)
		return nil, auth.ErrDisabled
	}
	root, err := mailRoot(e.name, e.home, e.extra["mail"], f.opts.MailRootTemplate)
	if err != nil {
		return nil, fmt.Errorf("virtual: user %q: mail location: %w", e.name, err)
	}
	return &auth.User{
		Name:     e.name,
		UID:      e.uid,
		GID:      e.gid,
		Home:     e.home,
		MailRoot: root,
		Extra:    e.extra,
	}, nil
}

// Len reports how many users are loaded.
func (f *File) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.users)
}
