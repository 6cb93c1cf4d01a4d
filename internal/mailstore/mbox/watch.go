package mbox

import (
	"context"
	"path/filepath"
	"time"

	"github.com/postern/postern/internal/mailstore/fswatch"
)

// watchStart counts a watching handle, subscribes to the mailbox's files
// with the first, and starts the poller, with the watch of the index, with
// the first mailbox.
//
// The mailbox's HIGHESTMODSEQ now is the poller's first point of
// comparison (as in the Maildir store): another process's commit is a
// change even when it is the first thing the poller sees. Without it, a
// poller first woken by that very commit took its result for the
// starting state and never told the watchers.
func (s *Store) watchStart(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
	base, baseOK, err := rowByName(ctx, s.db, name)
	cancel()
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	w := s.watchedNames()
	w[name]++
	if w[name] == 1 {
		s.subs[name] = s.subscribe(name)
		if err == nil && baseOK {
			if s.watchBase == nil {
				s.watchBase = map[string]uint64{}
			}
			s.watchBase[name] = base.modSeq
		}
	}
	if s.pollStop == nil {
		s.idxSub = s.subscribeIndex()
		s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
		go s.poll(s.pollStop, s.pollDone)
	}
}

// subscribe watches what other programs change in a mailbox: its file
// (appended to by the MTA, rewritten in place or renamed over by another
// MUA, touched) and its dotlock appearing and going away (a writer starting
// and finishing), both through the directory so that a replaced file
// stays watched. Nil when even polling was refused.
func (s *Store) subscribe(name string) *fswatch.Sub {
	n, err := s.lookup(name)
	if err != nil {
		return nil
	}
	base := filepath.Base(n.file)
	targets := []fswatch.Target{{Dir: filepath.Dir(n.file), Names: []string{base, base + ".lock"}}}
	sub, err := s.opts.Watcher.Watch(targets, s.fsSignal)
	if err != nil {
		s.log.Warn("mbox: cannot watch, polling", "mailbox", name, "err", err)
		return nil
	}
	return sub
}

// subscribeIndex watches the index's -wal file, which every commit of
// another of our processes writes (flags, expunges, appends). Nil when
// even polling was refused.
func (s *Store) subscribeIndex() *fswatch.Sub {
	idx := s.opts.IndexPath
	targets := []fswatch.Target{{Dir: filepath.Dir(idx), Names: []string{filepath.Base(idx) + "-wal"}}}
	sub, err := s.opts.Watcher.Watch(targets, s.idxSignal)
	if err != nil {
		s.log.Warn("mbox: cannot watch the index, polling", "err", err)
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
		delete(s.watchBase, name)
	}
	var stop, done chan struct{}
	var idx *fswatch.Sub
	if len(w) == 0 && s.pollStop != nil {
		stop, done = s.pollStop, s.pollDone
		s.pollStop, s.pollDone = nil, nil
		idx, s.idxSub = s.idxSub, nil
	}
	s.pollMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	if idx != nil {
		idx.Close()
	}
}

// pollPeriod is how long the poller waits without a signal: the safety
// period while inotify watches every mailbox, the polling period when
// some mailbox could not be watched.
func (s *Store) pollPeriod() time.Duration {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if fswatch.AnyPolling(s.idxSub, s.subs) {
		return s.opts.PollInterval
	}
	return s.opts.SafetyPoll
}

// poll looks at the watched mailboxes when the file watcher signals, or at
// the latest every pollPeriod. After a change of the mailbox files, or the
// period, a look merges what other programs did (the commit signals the
// watchers). After a change of the index, it only reads the mailbox rows:
// a HIGHESTMODSEQ moved by another process signals the watchers, unless
// this process's own commit (whose -wal write woke us too) signalled that
// state already. Reading, not merging, there is what keeps the poller's
// own commits from waking it again and again. A look costs a query and two
// stats per watched mailbox, and with inotify happens only when something
// changed.
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
		merge := true
		select {
		case <-stop:
			return
		case <-t.C:
		case <-s.fsSignal:
		case <-s.idxSignal:
			merge = false
		}
		s.pollMu.Lock()
		names := make([]string, 0, len(s.watchNames))
		bases := map[string]uint64{}
		for n := range s.watchNames {
			names = append(names, n)
			if _, ok := last[n]; !ok {
				if b, ok := s.watchBase[n]; ok {
					bases[n] = b
				}
			}
		}
		s.pollMu.Unlock()
		seen := make(map[string]uint64, len(names))
		for _, n := range names {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
			r, ok, err := s.look(ctx, n, merge)
			cancel()
			if err != nil || !ok {
				continue
			}
			prev, ok := last[n]
			if !ok {
				prev, ok = bases[n]
			}
			if ok && prev != r.modSeq {
				s.sh.watchers.NotifyNew(r.id, r.modSeq)
			}
			seen[n] = r.modSeq
		}
		last = seen // forgets the mailboxes no longer watched
		t.Reset(s.pollPeriod())
	}
}

// look returns a watched mailbox's row: merged with its file when merge is
// set, as the index has it otherwise; ok is false for a mailbox gone.
func (s *Store) look(ctx context.Context, name string, merge bool) (r mboxRow, ok bool, err error) {
	if merge {
		r, _, err = s.current(ctx, name)
		return r, err == nil, err
	}
	return rowByName(ctx, s.db, name)
}
