// Package fanout is the in-process half of mailstore.Mailbox.Watch, shared
// by the drivers: every Store of a process that opens the same index gets
// the same shared state (Registry), and a commit through any handle wakes
// every handle watching that mailbox (Watchers). Other processes' changes
// are the drivers' own business (their pollers).
package fanout

import (
	"sync"
	"time"
)

// Watchers is the set of watch channels of each mailbox, by mailbox id.
// Its zero value is ready to use; it is safe for concurrent use.
type Watchers struct {
	mu sync.Mutex
	m  map[int64]map[chan<- struct{}]struct{} // guarded by mu
	// seen is the HIGHESTMODSEQ of each mailbox the watchers were last
	// signalled for (NotifyAt, NotifyNew), so that the index watcher,
	// woken by this process's own commit, does not signal it again.
	seen map[int64]uint64 // guarded by mu
}

// Register adds ch to the watchers of mailbox id.
func (w *Watchers) Register(id int64, ch chan<- struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[int64]map[chan<- struct{}]struct{}{}
	}
	if w.m[id] == nil {
		w.m[id] = map[chan<- struct{}]struct{}{}
	}
	w.m[id][ch] = struct{}{}
}

// Unregister removes ch from the watchers of mailbox id.
func (w *Watchers) Unregister(id int64, ch chan<- struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m[id], ch)
	if len(w.m[id]) == 0 {
		delete(w.m, id)
		delete(w.seen, id)
	}
}

// Notify signals every watcher of mailbox id. It never blocks: a watcher
// whose channel (of capacity 1) already holds a signal has it coalesced.
func (w *Watchers) Notify(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notifyLocked(id)
}

func (w *Watchers) notifyLocked(id int64) {
	for ch := range w.m[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// NotifyAt signals every watcher of mailbox id for a commit that left its
// HIGHESTMODSEQ at modSeq, and remembers modSeq for NotifyNew.
func (w *Watchers) NotifyAt(id int64, modSeq uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.noteLocked(id, modSeq)
	w.notifyLocked(id)
}

// NotifyNew signals the watchers of mailbox id, found at HIGHESTMODSEQ
// modSeq by a look at the index, unless they were signalled for that
// state already (by this process's commit, or another store's look). It
// reports whether it signalled.
func (w *Watchers) NotifyNew(id int64, modSeq uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m[id]) == 0 {
		return false
	}
	if prev, ok := w.seen[id]; ok && prev == modSeq {
		return false
	}
	w.noteLocked(id, modSeq)
	w.notifyLocked(id)
	return true
}

// noteLocked remembers modSeq for a watched mailbox (the memory is
// bounded by the watched mailboxes: Unregister forgets).
func (w *Watchers) noteLocked(id int64, modSeq uint64) {
	if len(w.m[id]) == 0 {
		return
	}
	if w.seen == nil {
		w.seen = map[int64]uint64{}
	}
	w.seen[id] = modSeq
}

// Registry shares one *T per key (an index path) among the users of a
// process, created on first Acquire and dropped after the last Release
// (or, with ReleaseLater, a while after it). Its zero value is ready to
// use; it is safe for concurrent use.
type Registry[T any] struct {
	mu sync.Mutex
	m  map[string]*entry[T] // guarded by mu
}

type entry[T any] struct {
	refs  int
	v     *T
	timer *time.Timer // drops the unused entry (ReleaseLater); guarded by Registry.mu
}

// Acquire returns the value for key, made with newT if there is none, and
// counts one more user. Each Acquire needs one Release or ReleaseLater.
func (r *Registry[T]) Acquire(key string, newT func() *T) *T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*entry[T]{}
	}
	e := r.m[key]
	if e == nil {
		e = &entry[T]{v: newT()}
		r.m[key] = e
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.refs++
	return e.v
}

// Release counts one user less, dropping the value after the last.
func (r *Registry[T]) Release(key string) { r.ReleaseLater(key, 0) }

// ReleaseLater counts one user less; after the last, the value is kept
// for linger more, for the next Acquire of key (a user logging in again
// finds what the last session cached), then dropped.
func (r *Registry[T]) ReleaseLater(key string, linger time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[key]
	if e == nil {
		return
	}
	if e.refs--; e.refs > 0 {
		return
	}
	if linger <= 0 {
		delete(r.m, key)
		return
	}
	e.timer = time.AfterFunc(linger, func() { r.expire(key, e) })
}

// expire drops e, left unused for its linger, unless acquired again.
func (r *Registry[T]) expire(key string, e *entry[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[key] == e && e.refs <= 0 {
		delete(r.m, key)
	}
}
