package maildir

import (
	"context"
	"path/filepath"
	"time"

	"github.com/postern/postern/internal/mailstore/fswatch"
)

// watchStart counts a watching handle of mailbox id (whose directory is
// dir), subscribes to its files with the first, and starts the store's
// poller, with the watch of the index, with the first mailbox.
//
// The mailbox's HIGHESTMODSEQ now is the poller's first point of
// comparison: a commit by another process is a change even when it is the
// first thing the poller sees.
func (s *Store) watchStart(id int64, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
	base, baseOK, err := s.rowBy(ctx, s.db, id, "")
	cancel()
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	s.watched[id]++
	if s.watched[id] == 1 {
		s.subs[id] = s.subscribe(dir)
		if err == nil && baseOK {
			s.watchBase[id] = base.modSeq
		}
	}
	if s.pollStop == nil {
		s.idxSub = s.subscribeIndex()
		s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
		go s.poll(s.pollStop, s.pollDone)
	}
}

// subscribe watches what other programs change in a mailbox's folder: new/
// (deliveries) and cur/ (flag renames, deletions, moves by other MUAs).
// Nil when even polling was refused.
func (s *Store) subscribe(dir string) *fswatch.Sub {
	targets := []fswatch.Target{{Dir: filepath.Join(dir, "new")}, {Dir: filepath.Join(dir, "cur")}}
	sub, err := s.opts.Watcher.Watch(targets, s.fsSignal)
	if err != nil {
		s.log.Warn("maildir: cannot watch, polling", "dir", dir, "err", err)
		return nil
	}
	return sub
}

// subscribeIndex watches the index's -wal file, which every commit of
// another of our processes writes (flags, expunges, appends). Nil when
// even polling was refused.
func (s *Store) subscribeIndex() *fswatch.Sub {
	targets := []fswatch.Target{{Dir: s.root, Names: []string{IndexName + "-wal"}}}
	sub, err := s.opts.Watcher.Watch(targets, s.idxSignal)
	if err != nil {
		s.log.Warn("maildir: cannot watch the index, polling", "err", err)
		return nil
	}
	return sub
}

// watchStop uncounts a watching handle and stops the poller with the last.
func (s *Store) watchStop(id int64) {
	s.pollMu.Lock()
	if s.watched[id]--; s.watched[id] <= 0 {
		delete(s.watched, id)
		if sub := s.subs[id]; sub != nil {
			sub.Close()
		}
		delete(s.subs, id)
		delete(s.watchBase, id)
	}
	var stop, done chan struct{}
	var idx *fswatch.Sub
	if len(s.watched) == 0 && s.pollStop != nil {
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
// period while inotify watches everything, the polling period when
// something could not be watched.
func (s *Store) pollPeriod() time.Duration {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if fswatch.AnyPolling(s.idxSub, s.subs) {
		return s.opts.PollInterval
	}
	return s.opts.SafetyPoll
}

// poll looks at the watched mailboxes when the file watcher signals, or at
// the latest every pollPeriod. After a change of the folders, or the
// period, a look merges what other programs did on disk (the commit
// signals the watchers). After a change of the index, it only reads the
// mailbox rows: a HIGHESTMODSEQ moved by another process's commit signals
// the watchers, unless this process's own commit (whose -wal write woke us
// too) signalled that state already. Reading, not merging, there is what
// keeps the poller's own commits from waking it again and again. A look
// costs a query (and two stats) per watched mailbox, and with inotify
// happens only when something changed.
func (s *Store) poll(stop, done chan struct{}) {
	defer close(done)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("maildir: watch poller panicked", "panic", r)
		}
	}()
	t := time.NewTimer(s.pollPeriod())
	defer t.Stop()
	last := map[int64]uint64{}
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
		ids := make([]int64, 0, len(s.watched))
		bases := map[int64]uint64{}
		for id := range s.watched {
			ids = append(ids, id)
			if _, ok := last[id]; !ok {
				if b, ok := s.watchBase[id]; ok {
					bases[id] = b
				}
			}
		}
		s.pollMu.Unlock()
		seen := make(map[int64]uint64, len(ids))
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.BusyTimeout)
			r, ok, err := s.look(ctx, id, merge)
			cancel()
			if err != nil || !ok {
				continue
			}
			// A mailbox looked at for the first time compares with its
			// state when the watch began: another process's first commit
			// after that is a change too.
			prev, ok := last[id]
			if !ok {
				prev, ok = bases[id]
			}
			if ok && prev != r.modSeq {
				s.sh.watchers.NotifyNew(id, r.modSeq)
			}
			seen[id] = r.modSeq
		}
		last = seen // forgets the mailboxes no longer watched
		t.Reset(s.pollPeriod())
	}
}

// look returns a watched mailbox's row: merged with the disk when merge
// is set, as the index has it otherwise; ok is false for a mailbox gone.
func (s *Store) look(ctx context.Context, id int64, merge bool) (r mboxRow, ok bool, err error) {
	if merge {
		r, err = s.current(ctx, id, "")
		return r, err == nil, err
	}
	return s.rowBy(ctx, s.db, id, "")
}
