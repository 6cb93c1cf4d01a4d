package mbox

import (
	"context"
	"time"
)

// watchStart counts a watching handle and starts the poller with the first.
func (s *Store) watchStart(name string) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	s.watchedNames()[name]++
	if s.pollStop == nil {
		s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
		go s.poll(s.pollStop, s.pollDone)
	}
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

// poll looks at the watched mailboxes every PollInterval: a file changed
// by another program is merged (the commit signals the watchers), and a
// HIGHESTMODSEQ moved by another process signals them directly. The cost
// per interval is a query and two stats per watched mailbox; inotify
// could make it immediate.
func (s *Store) poll(stop, done chan struct{}) {
	defer close(done)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("mbox: watch poller panicked", "panic", r)
		}
	}()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	last := map[string]uint64{}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.pollMu.Lock()
		names := make([]string, 0, len(s.watchNames))
		for n := range s.watchNames {
			names = append(names, n)
		}
		s.pollMu.Unlock()
		for _, n := range names {
			ctx, cancel := context.WithTimeout(context.Background(), 10*s.opts.PollInterval)
			r, _, err := s.current(ctx, n)
			cancel()
			if err != nil {
				continue
			}
			if prev, ok := last[n]; ok && prev != r.modSeq {
				s.sh.watchers.Notify(r.id)
			}
			last[n] = r.modSeq
		}
	}
}
