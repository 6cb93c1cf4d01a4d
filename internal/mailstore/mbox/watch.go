package mbox

import (
	"context"
	"path/filepath"
	"time"

	"github.com/postern/postern/internal/mailstore/fswatch"
)

// watchStart counts a watching handle, subscribes to the mailbox's files
// with the first, and starts the poller with the first mailbox.
func (s *Store) watchStart(name string) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	w := s.watchedNames()
	w[name]++
	if w[name] == 1 {
		s.subs[name] = s.subscribe(name)
	}
	if s.pollStop == nil {
		s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
		go s.poll(s.pollStop, s.pollDone)
	}
}

// subscribe watches what other processes and programs change in a
// mailbox: its file (appended to by the MTA, rewritten in place or
// renamed over by another MUA, touched), its dotlock appearing and going
// away (a writer starting and finishing), both through the directory so
// that a replaced file stays watched, and the index's -wal file (any
// commit by another of our processes: flags, expunges, appends). Nil when
// even polling was refused.
func (s *Store) subscribe(name string) *fswatch.Sub {
	n, err := s.lookup(name)
	var targets []fswatch.Target
	if err == nil {
		base := filepath.Base(n.file)
		targets = append(targets, fswatch.Target{Dir: filepath.Dir(n.file), Names: []string{base, base + ".lock"}})
	}
	idx := s.opts.IndexPath
	targets = append(targets, fswatch.Target{Dir: filepath.Dir(idx), Names: []string{filepath.Base(idx) + "-wal"}})
	sub, err := s.opts.Watcher.Watch(targets, s.fsSignal)
	if err != nil {
		s.log.Warn("mbox: cannot watch, polling", "mailbox", name, "err", err)
		return nil
	}
	return sub
}

func (s *Store) watchedNames() map[string]int {
	if s.watchNames == nil {
		s.watchNames = map[string]int{}
	}
	return s.watchNames
}

// watchStop uncounts a watching handle and stops the poller with the last.
func (s *Store) watchStop(name string) {
	s.pollMu.Lock()
	w := s.watchedNames()
	if w[name]--; w[name] <= 0 {
		delete(w, name)
		if sub := s.subs[name]; sub != nil {
			sub.Close()
		}
		delete(s.subs, name)
	}
	var stop, done chan struct{}
	if len(w) == 0 && s.pollStop != nil {
		stop, done = s.pollStop, s.pollDone
		s.pollStop, s.pollDone = nil, nil
	}
	s.pollMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// pollPeriod is how long the poller waits without a signal: the safety
// period while inotify watches every mailbox, the polling period when
// some mailbox could not be watched.
func (s *Store) pollPeriod() time.Duration {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for _, sub := range s.subs {
		if sub == nil || sub.Polling() {
			return s.opts.PollInterval
		}
	}
	return s.opts.SafetyPoll
}

// poll looks at the watched mailboxes when the file watcher signals (or
// at the latest every pollPeriod): a file changed by another program is
// merged (the commit signals the watchers), and a HIGHESTMODSEQ moved by
// another process signals them directly, unless this process's own commit
// (whose -wal write woke us too) signalled that state already. A look
// costs a query and two stats per watched mailbox, and with inotify
// happens only when something changed.
func (s *Store) poll(stop, done chan struct{}) {
	defer close(done)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("mbox: watch poller panicked", "panic", r)
		}
	}()
	t := time.NewTimer(s.pollPeriod())
	defer t.Stop()
	last := map[string]uint64{}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-s.fsSignal:
		}
		s.pollMu.Lock()
		names := make([]string, 0, len(s.watchNames))
		for n := range s.watchNames {
			names = append(names, n)
		}
		s.pollMu.Unlock()
		seen := make(map[string]uint64, len(names))
		for _, n := range names {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
			r, _, err := s.current(ctx, n)
			cancel()
			if err != nil {
				continue
			}
			if prev, ok := last[n]; ok && prev != r.modSeq {
				s.sh.watchers.NotifyNew(r.id, r.modSeq)
			}
			seen[n] = r.modSeq
		}
		last = seen // forgets the mailboxes no longer watched
		t.Reset(s.pollPeriod())
	}
}
