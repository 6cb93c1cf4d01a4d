package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/system"
	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/fswatch"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/privdrop"
)

// newAuthenticator opens the account database cfg names (auth).
func newAuthenticator(cfg *config.Config, log *slog.Logger) (auth.Authenticator, error) {
	switch cfg.Auth {
	case config.AuthVirtual:
		users, err := virtual.Open(cfg.PasswdFile, virtual.Options{
			MailRootTemplate: cfg.MailRoot,
			Logger:           log,
			// Worth it only in a process that serves many logins: the
			// daemon with virtual users. An inetd process serves one.
			Cache: auth.NewCache(cfg.AuthCacheTTL, cfg.AuthCacheSize, nil),
		})
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		return users, nil
	case config.AuthPAM:
		return newPAM(cfg, log)
	default:
		users, err := system.New(system.Options{RequireValidShell: cfg.RequireValidShell, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		return users, nil
	}
}

// openStore opens a user's mail as cfg says: a Maildir (the account's own
// mail root, else the mail_root or system_mail_root template) or UW's mbox
// layout (mbox_inbox and mbox_dir).
func openStore(cfg *config.Config, log *slog.Logger) func(context.Context, *auth.User) (mailstore.Store, error) {
	return func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
		ulog := log.With("user", u.Name)
		if cfg.Store() == config.StoreMbox {
			root := expandMailRoot(cfg.MboxDir, u)
			// A store with no index yet is new to Postern (though maybe
			// not to UW: hence mbox_default_mailboxes is off by default).
			fresh := cfg.MboxDefaultMailboxes && !exists(filepath.Join(root, mbox.IndexName))
			st, err := mbox.Open(mbox.Options{
				Root:          root,
				Inbox:         expandMailRoot(cfg.MboxInbox, u),
				HomeMboxInbox: cfg.MboxHomeInbox,
				Logger:        ulog,
				Sender:        u.Name + "@" + hostname(),
				Watcher:       mailWatcher(cfg),
			})
			return withDefaults(ctx, st, err, fresh, cfg, ulog)
		}
		root := u.MailRoot
		if root == "" {
			tmpl := cfg.MailRoot
			if cfg.SystemAccounts() {
				tmpl = cfg.SystemMailRoot
			}
			root = expandMailRoot(tmpl, u)
		}
		if cfg.SystemAccounts() && u.UID >= 0 {
			if err := ownedBy(root, u.UID); err != nil {
				return nil, err
			}
		}
		fresh := !exists(root)
		st, err := maildir.Open(root, maildir.Options{Logger: ulog, Watcher: mailWatcher(cfg)})
		return withDefaults(ctx, st, err, fresh, cfg, ulog)
	}
}

// pollWatcher is the process's polling file watcher for mail_watch =
// poll, made on first use and shared by every store, as the inotify one is.
var pollWatcher = sync.OnceValue(func() *fswatch.Watcher {
	return fswatch.New(fswatch.Options{ForcePoll: true})
})

// mailWatcher returns the file watcher mail_watch asks for; nil is the
// stores' default, the process's inotify watcher.
func mailWatcher(cfg *config.Config) *fswatch.Watcher {
	if cfg.MailWatch == config.MailWatchPoll {
		return pollWatcher()
	}
	return nil
}

// withDefaults makes the default_mailboxes in a store opened for the first
// time. A failure is logged, not fatal: the user can still read mail.
func withDefaults(ctx context.Context, st mailstore.Store, err error, fresh bool, cfg *config.Config, log *slog.Logger) (mailstore.Store, error) {
	if err != nil || !fresh || len(cfg.DefaultMailboxes) == 0 {
		return st, err
	}
	boxes := make([]mailstore.DefaultMailbox, len(cfg.DefaultMailboxes))
	for i, d := range cfg.DefaultMailboxes {
		boxes[i] = mailstore.DefaultMailbox{Name: d.Name, SpecialUse: d.SpecialUse}
	}
	if err := mailstore.CreateDefaults(ctx, st, boxes); err != nil {
		log.Warn("daemon: default mailboxes", "err", err)
	} else {
		log.Info("daemon: created the default mailboxes of a new account")
	}
	return st, nil
}

// rootControlled reports whether dir and every directory and symbolic
// link on the way to it (and through the links) are owned by root.
func rootControlled(dir string) bool {
	if !filepath.IsAbs(dir) {
		return false
	}
	cur := "/"
	for _, part := range strings.Split(filepath.Clean(dir), "/") {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return false
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
			return false
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(cur)
			if err != nil || !rootControlled(real) {
				return false
			}
			cur = real
		}
	}
	return true
}

// ownedBy checks that a system user's Maildir, wherever a symbolic link
// in its place leads, is the user's own: the user may replace ~/Maildir
// with a link to another user's world-readable Maildir or root's, which
// the kernel would let them read but Postern must not serve as theirs
// (issue 8 item 7). A root that does not exist yet is made by the user.
func ownedBy(root string, uid int) error {
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("daemon: mail root: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != uid {
		return fmt.Errorf("daemon: mail root %s is owned by uid %d, not by the user (uid %d): %w", root, st.Uid, uid, fs.ErrPermission)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// expandMailRoot fills a mail-root template: %u the user name, %h the home
// directory, %% a percent sign.
func expandMailRoot(tmpl string, u *auth.User) string {
	return strings.NewReplacer("%%", "%", "%u", u.Name, "%h", u.Home).Replace(tmpl)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// beforeOpen returns the hook that runs between a successful login and
// the first open of the user's files. For system accounts in a process
// running as root (inetd mode, or a daemon's per-connection child) it
// drops privileges to the user: initgroups, setgid, setuid, verified
// (DESIGN.md §2). A drop that fails leaves the process in an unknown
// state, so the process exits rather than serve anything more.
func beforeOpen(cfg *config.Config, log *slog.Logger) func(*auth.User) error {
	if !cfg.SystemAccounts() || os.Geteuid() != 0 {
		return nil
	}
	return func(u *auth.User) error {
		if u.UID <= 0 {
			return fmt.Errorf("daemon: refusing to serve %s as uid %d", u.Name, u.UID)
		}
		if cfg.Store() == config.StoreMbox {
			// Still root: the user may not be able to create the spool
			// file in /var/mail (root:mail 2775 on Debian).
			if err := ensureSpool(expandMailRoot(cfg.MboxInbox, u), u); err != nil {
				log.Warn("cannot create the user's spool file; APPEND to INBOX will fail until the MTA does", "user", u.Name, "err", err)
			}
		}
		if err := privdrop.Drop(privdrop.Target{Name: u.Name, UID: u.UID, GID: u.GID}); err != nil {
			log.Error("privilege drop failed; ending the process", "user", u.Name, "uid", u.UID, "gid", u.GID, "err", err)
			os.Exit(1)
		}
		if u.Home != "" {
			// As UW did: relative paths (and core files) land in the home.
			_ = os.Chdir(u.Home)
		}
		log.Debug("privileges dropped", "user", u.Name, "uid", u.UID, "gid", u.GID)
		return nil
	}
}

// ensureSpool creates the user's empty spool file if it does not exist, as
// useradd (CREATE_MAIL_SPOOL) and MTAs do: owned by the user, with the
// spool directory's group (mail), mode 0660. O_EXCL|O_NOFOLLOW: an
// existing file or a planted symlink is left alone.
//
// Root creates it only in a directory that only root controls: every
// component of the path to it owned by root (links included). With
// mbox_inbox under the home (%h/...), a user could otherwise plant a link
// (~/mail -> /etc) and have root make a file of theirs anywhere; the user
// makes such a spool file themselves, after the privilege drop.
func ensureSpool(path string, u *auth.User) error {
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if !rootControlled(filepath.Dir(path)) {
		return nil
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o660)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	gid := int(dir.Sys().(*syscall.Stat_t).Gid)
	if err := f.Chown(u.UID, gid); err != nil {
		os.Remove(path)
		return err
	}
	return f.Chmod(0o660)
}
