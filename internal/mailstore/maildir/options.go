package maildir

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/postern/postern/internal/mailstore/fswatch"
)

// Options configure a Store. The zero value is ready to use: durable writes,
// private file modes, the real clock.
type Options struct {
	// Logger receives operational warnings (a flag rename that failed, a
	// file that could not be picked up). Nil discards them.
	Logger *slog.Logger
	// NoFsync skips fsync of message files and directories and runs SQLite
	// with synchronous=OFF. For tests only: false (the zero value) means a
	// message is on disk before Append returns.
	NoFsync bool
	// DirMode is the mode of directories the store creates; 0 means 0700.
	DirMode os.FileMode
	// FileMode is the mode of files the store creates; 0 means 0600.
	FileMode os.FileMode
	// Now is the clock for internal dates, UIDVALIDITY and file names; nil
	// means time.Now.
	Now func() time.Time
	// PollInterval is how often a store with watched mailboxes looks for
	// changes made by other processes (the index's HIGHESTMODSEQ,
	// directory mtimes) when a mailbox could not be watched with inotify;
	// 0 means one second.
	PollInterval time.Duration
	// SafetyPoll is how often the store looks anyway while inotify
	// watches every watched mailbox, in case an event was missed (a
	// folder renamed while watched); 0 means one minute.
	SafetyPoll time.Duration
	// Watcher watches the mail files and the index for changes by other
	// processes and programs; nil means fswatch.Default(), the process's
	// shared inotify instance.
	Watcher *fswatch.Watcher
	// BusyTimeout is how long a write waits for another process holding the
	// index's write lock; 0 means 30 seconds.
	BusyTimeout time.Duration
	// SpareFiles is how many expunged messages' files, emptied, each
	// folder keeps in tmp/ for the next APPENDs to reuse (spares.go);
	// 0 means 1024, a negative number none.
	SpareFiles int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.DirMode == 0 {
		o.DirMode = 0o700
	}
	if o.FileMode == 0 {
		o.FileMode = 0o600
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
	if o.SpareFiles == 0 {
		o.SpareFiles = 1024
	}
	return o
}
