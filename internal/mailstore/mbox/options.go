package mbox

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/postern/postern/internal/mailstore/fswatch"
)

// IndexName is the default file name of the per-user index under Root.
const IndexName = ".postern-index.sqlite"

// Default values of Options fields.
const (
	DefaultDotlockHelper = "/usr/bin/dotlockfile"
	// DefaultLockTimeout is UW's: a NAME.lock older than five minutes is
	// taken as stale and broken (uw-imap-docs/locking.txt, "BEZERK AND MMDF").
	DefaultLockTimeout = 5 * time.Minute
	// DefaultSessionLockWait bounds the wait for a c-client session: UW's
	// mailutil holds the file for well under a second, an interactive
	// MUA (pine) for as long as it runs, when a client must hear NO.
	DefaultSessionLockWait = 10 * time.Second
)

// Options configure a Store (Open). Only Root is required.
type Options struct {
	// Root is the directory holding the mailboxes other than INBOX: the
	// user's home directory as UW had it, or a mail directory such as
	// ~/mail. Mailbox "a/b" is the file Root/a/b. Required.
	Root string
	// Inbox is the path of the INBOX file, usually the spool file
	// /var/mail/USER. Empty means Root/mbox (a store with no spool).
	Inbox string
	// HomeMboxInbox applies UW's rule (naming.txt): when the file
	// Root/mbox exists, it is INBOX instead of Inbox. False (the zero
	// value) always uses Inbox.
	HomeMboxInbox bool
	// IndexPath is the per-user SQLite index. Empty means
	// Root/.postern-index.sqlite. Its directory also holds the journals of
	// interrupted rewrites (IndexPath + ".journal/"), so it must be on
	// storage that survives a crash as well as the mail does.
	IndexPath string
	// Logger receives operational warnings (a stale lock broken, a journal
	// replayed, a file reparsed). Nil discards them.
	Logger *slog.Logger
	// NoFsync skips fsync of mailbox files and journals and runs SQLite
	// with synchronous=OFF. For tests only: false (the zero value) means
	// data is on disk before a call returns, as the contract asks.
	NoFsync bool
	// AllowOutsideRoot lets names be absolute paths, hold ".." components
	// or start with "~user", as UW allowed. False (the zero value) refuses
	// them with mailstore.ErrInvalidName.
	AllowOutsideRoot bool
	// DotlockHelper is the program used to take NAME.lock when the
	// mailbox's directory is not writable by the user (Debian's /var/mail
	// is root:mail 2775): liblockfile's setgid-mail dotlockfile, run as
	// "dotlockfile -l -r N NAME.lock" and "dotlockfile -u NAME.lock".
	// Empty means /usr/bin/dotlockfile.
	DotlockHelper string
	// LockTimeout is how old a NAME.lock must be, or how long we wait for
	// it, before it is taken as stale and broken. 0 means 5 minutes, UW's
	// value. A lock whose holder (the PID written in it) is gone on this
	// host is broken at once.
	LockTimeout time.Duration
	// SessionLockWait is how long a write that must rewrite the file
	// (EXPUNGE, MOVE, a flag change that does not fit in place is not
	// one: it waits in the index) waits for a c-client (UW) read-write
	// session holding the file to end (sessionlock.go), retrying, before
	// it fails with ErrLocked. 0 means DefaultSessionLockWait.
	SessionLockWait time.Duration
	// FileMode is the mode of mailbox files the store creates; 0 means 0600.
	FileMode os.FileMode
	// DirMode is the mode of directories the store creates; 0 means 0700.
	DirMode os.FileMode
	// Location is the zone of "From " line dates that carry none; nil
	// means time.Local (what the MTA that wrote them used).
	Location *time.Location
	// Hostname is written in the "From " lines of appended messages and in
	// the pseudo message, as UW did; empty means os.Hostname().
	Hostname string
	// Sender is the address in the "From " lines of appended messages;
	// empty means USER@Hostname with USER from $USER (UW: the user).
	Sender string
	// Now is the clock for internal dates and UIDVALIDITY; nil means
	// time.Now.
	Now func() time.Time
	// PollInterval is how often a store with watched mailboxes looks for
	// changes by other processes and programs when a mailbox could not be
	// watched with inotify; 0 means one second.
	PollInterval time.Duration
	// SafetyPoll is how often the store looks anyway while inotify
	// watches every watched mailbox, in case an event was missed (a
	// directory replaced while watched); 0 means one minute.
	SafetyPoll time.Duration
	// Watcher watches the mailbox files and the index for changes by
	// other processes and programs; nil means fswatch.Default(), the
	// process's shared inotify instance.
	Watcher *fswatch.Watcher
	// BusyTimeout is how long a write waits for another process holding
	// the index's write lock; 0 means 30 seconds.
	BusyTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Root = filepath.Clean(o.Root)
	if o.Inbox == "" {
		o.Inbox = filepath.Join(o.Root, "mbox")
	}
	if o.IndexPath == "" {
		o.IndexPath = filepath.Join(o.Root, IndexName)
	}
	if o.DotlockHelper == "" {
		o.DotlockHelper = DefaultDotlockHelper
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.SessionLockWait == 0 {
		o.SessionLockWait = DefaultSessionLockWait
	}
	if o.FileMode == 0 {
		o.FileMode = 0o600
	}
	if o.DirMode == 0 {
		o.DirMode = 0o700
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
		if o.Hostname == "" {
			o.Hostname = "localhost"
		}
	}
	if o.Sender == "" {
		u := os.Getenv("USER")
		if u == "" {
			u = "MAILER-DAEMON"
		}
		o.Sender = u + "@" + o.Hostname
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.SafetyPoll == 0 {
		o.SafetyPoll = time.Minute
	}
	if o.Watcher == nil {
		o.Watcher = fswatch.Default()
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 30 * time.Second
	}
	return o
}
