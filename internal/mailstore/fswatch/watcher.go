package fswatch

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// DefaultPollInterval is the period of the polling fallback when
// Options.PollInterval is zero: the one second the drivers polled at
// before inotify, the bound issue 6 sets for cross-process push.
const DefaultPollInterval = time.Second

// ErrClosed is returned by Watch on a closed Watcher.
var ErrClosed = errors.New("fswatch: watcher closed")

// Options configure a Watcher. The zero value uses inotify where the system
// has it and polls every second elsewhere.
type Options struct {
	// PollInterval is how often polled targets are looked at; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	// ForcePoll polls every target, as on a system without inotify. For
	// tests and for file systems whose changes inotify cannot see (NFS,
	// where another host writes); false (the zero value) uses inotify.
	ForcePoll bool
}

// Target is a directory to watch. With Names empty, any change of an entry
// of Dir signals (a file created, moved in or out, deleted, written or
// chmod'ed); otherwise only a change of one of those entries does, which
// is how one file is watched across being replaced by a rename, deleted
// and created again (an mbox rewritten by another MUA, a SQLite -wal file).
type Target struct {
	Dir   string
	Names []string
}

// Watcher delivers change signals for watched directories. It is safe for
// concurrent use.
type Watcher struct {
	opts Options

	mu     sync.Mutex
	in     *inotify // the inotify instance while some target uses it; guarded by mu
	noIn   bool     // inotify_init1 failed once: poll from now on; guarded by mu
	poll   *poller  // guarded by mu
	closed bool     // guarded by mu
}

// New returns a Watcher. It opens nothing until the first Watch.
func New(opts Options) *Watcher {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	w := &Watcher{opts: opts, noIn: opts.ForcePoll}
	w.poll = newPoller(w.opts.PollInterval)
	return w
}

var (
	defaultOnce sync.Once
	defaultW    *Watcher
)

// Default returns the process's shared Watcher (inotify, one-second
// polling fallback), so that all stores of a process share one inotify
// instance.
func Default() *Watcher {
	defaultOnce.Do(func() { defaultW = New(Options{}) })
	return defaultW
}

// Sub is one subscription made by Watch. Close it when done.
type Sub struct {
	w  *Watcher
	ch chan<- struct{}

	// Set by Watch before the Sub is published, read-only after.
	ins     []*inotifyTarget // targets inotify watches
	polled  []*pollTarget    // targets the poller stats
	inst    *inotify         // the instance ins belong to
	closeMu sync.Mutex
	closed  bool // guarded by closeMu
}

// Watch subscribes ch to changes of targets: each change sends on ch
// without blocking, so give ch a capacity of one and a burst of changes
// leaves a single pending signal. Targets inotify cannot watch are polled;
// Sub.Polling says whether any is.
func (w *Watcher) Watch(targets []Target, ch chan<- struct{}) (*Sub, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	s := &Sub{w: w, ch: ch}
	for _, t := range targets {
		t.Dir = filepath.Clean(t.Dir)
		if !w.noIn && w.in == nil {
			in, err := newInotify()
			if err != nil {
				// No inotify at all (not Linux, or the per-user
				// max_user_instances reached): poll everything.
				w.noIn = true
			} else {
				w.in = in
			}
		}
		if w.in != nil {
			if it, err := w.in.add(s, t); err == nil {
				s.ins = append(s.ins, it)
				s.inst = w.in
				continue
			}
			// This watch was refused (ENOSPC at max_user_watches,
			// EACCES, a directory not there yet): poll this target.
		}
		s.polled = append(s.polled, w.poll.add(s, t))
	}
	w.releaseIdle()
	return s, nil
}

// releaseIdle closes the inotify instance when no target uses it, so that
// an idle process holds no descriptor and no goroutine. Called with w.mu
// held.
func (w *Watcher) releaseIdle() {
	if w.in != nil && w.in.empty() {
		w.in.close()
		w.in = nil
	}
}

// Polling reports whether some target of s is polled rather than watched
// by inotify, so its changes arrive within the poll interval rather than
// at once.
func (s *Sub) Polling() bool { return len(s.polled) > 0 }

// AnyPolling reports whether a store's changes can reach it late: its
// index subscription idx or one of its mailboxes' subs is missing (nil:
// not watched at all) or polled. A store then looks every poll interval,
// otherwise only at its long safety period.
func AnyPolling[K comparable](idx *Sub, subs map[K]*Sub) bool {
	if idx == nil || idx.Polling() {
		return true
	}
	for _, sub := range subs {
		if sub == nil || sub.Polling() {
			return true
		}
	}
	return false
}

// Close ends the subscription: ch receives nothing more once Close
// returns. Closing twice is harmless.
func (s *Sub) Close() {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return
	}
	s.closed = true
	s.closeMu.Unlock()
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.inst != nil {
		for _, it := range s.ins {
			s.inst.remove(it)
		}
		if s.inst == w.in {
			w.releaseIdle()
		}
	}
	for _, pt := range s.polled {
		w.poll.remove(pt)
	}
}

// signal sends on the subscription's channel without blocking.
func (s *Sub) signal() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// Close stops the watcher: its inotify descriptor is closed, its
// goroutines have exited when Close returns, and Watch fails from then on.
// Subscriptions still open receive nothing more.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	in := w.in
	w.in = nil
	w.mu.Unlock()
	var err error
	if in != nil {
		err = in.close()
	}
	w.poll.close()
	if err != nil {
		return fmt.Errorf("fswatch: %w", err)
	}
	return nil
}

// nameSet is a target's name filter; nil matches every name.
type nameSet map[string]bool

func newNameSet(names []string) nameSet {
	if len(names) == 0 {
		return nil
	}
	m := make(nameSet, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// match reports whether an event on entry name concerns the filter; an
// event on the directory itself (name "") always does.
func (ns nameSet) match(name string) bool {
	return ns == nil || name == "" || ns[name]
}
