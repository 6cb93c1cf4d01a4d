package maildir

import (
	"context"
	"time"
)

// watchStart counts a watching handle and starts the poller with the first.
func (s *Store) watchStart(id int64) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	s.watched[id]++
	if s.pollStop == nil {
		s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
		go s.poll(s.pollStop, s.pollDone)
	}
}

// watchStop uncounts a watching handle and stops the poller with the last.
func (s *Store) watchStop(id int64) {
	s.pollMu.Lock()
	if s.watched[id]--; s.watched[id] <= 0 {
		delete(s.watched, id)
	}
	var stop, done chan struct{}
	if len(s.watched) == 0 && s.pollStop != nil {
		stop, done = s.pollStop, s.pollDone
		s.pollStop, s.pollDone = nil, nil
	}
	s.pollMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// poll looks at the watched mailboxes every PollInterval for what other
// processes did: a directory changed by another program is merged (which
// signals the watchers through the commit), and a HIGHESTMODSEQ moved by
// another process's commit signals them directly. The index is read fresh
// on every call, so nothing else needs invalidating (no data_version
// bookkeeping is needed for correctness). inotify would make this
// immediate; polling keeps the cost at a query and two stats per watched
// mailbox per interval.
func (s *Store) poll(stop, done chan struct{}) {
	defer close(done)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("maildir: watch poller panicked", "panic", r)
		}
	}()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	last := map[int64]uint64{}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.pollMu.Lock()
		ids := make([]int64, 0, len(s.watched))
		for id := range s.watched {
			ids = append(ids, id)
		}
		s.pollMu.Unlock()
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.PollInterval*10)
			r, err := s.current(ctx, id, "")
			cancel()
			if err != nil {
				continue
			}
			if prev, ok := last[id]; ok && prev != r.modSeq {
				s.sh.watchers.Notify(id)
			}
			last[id] = r.modSeq
		}
	}
}
