package mailstore

// OutsideWatcher is an optional interface of Mailbox, for drivers whose
// Watch signals the changes made by other processes and outside programs
// (a delivery by the MTA, a flag set by a session in another imapd
// process) as well as this process's, by inotify or by the driver's own
// polling. A caller waiting for changes (IMAP IDLE, RFC 2177) then needs
// no frequent poll of its own, only a long safety one.
type OutsideWatcher interface {
	// WatchesOutside reports whether Watch covers outside changes.
	WatchesOutside() bool
}
