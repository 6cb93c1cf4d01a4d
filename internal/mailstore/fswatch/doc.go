// Package fswatch tells the mail store drivers that files changed on disk,
// so that an IDLE client sees a message delivered by an outside program,
// or a change committed by another process, at once instead of at the next
// poll (RFC 2177 §3 asks the server to send updates "as soon as" it can).
//
// A Watcher keeps one inotify instance (inotify(7)) for all the mailboxes of
// a process: a directory watched by several subscriptions is added to the
// kernel once and removed after its last user (reference counts per path),
// so a process serving many sessions of one user stays far below the
// per-user max_user_watches limit. Where inotify is unavailable (another
// OS, inotify_init1 refused, a watch refused with ENOSPC at the
// max_user_watches limit or EACCES), the target is polled instead: one stat
// per directory or named file per Options.PollInterval, still signalling
// only when something changed.
//
// Signals are coalesced: every subscription has a channel of capacity one
// that receives without blocking, so a burst of events (the dozens of
// writes of one SQLite commit, a delivery's create and rename) wakes the
// reader once. A signal means "look again", never what changed.
package fswatch
