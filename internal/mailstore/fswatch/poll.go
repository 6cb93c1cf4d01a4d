package fswatch

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// poller stats polled targets every interval, in one goroutine that runs
// only while some target is polled.
type poller struct {
	interval time.Duration

	mu      sync.Mutex
	targets map[*pollTarget]bool // guarded by mu
	stop    chan struct{}        // closes to stop the goroutine; guarded by mu
	done    chan struct{}        // closed when it exits; guarded by mu
}

// pollTarget is one polled Target with what its files looked like at the
// last look.
type pollTarget struct {
	sub   *Sub
	dir   string
	names []string // nil: the directory itself
	last  []stamp  // guarded by poller.mu
}

// stamp is what a stat says of a file; any difference is a change. The
// change time catches a rewrite that keeps size and modification time
// (and chmod, touch -m back in time).
type stamp struct {
	ok           bool
	ino, size    uint64
	mtime, ctime int64
}

func newPoller(interval time.Duration) *poller {
	return &poller{interval: interval, targets: map[*pollTarget]bool{}}
}

func (p *poller) add(s *Sub, t Target) *pollTarget {
	pt := &pollTarget{sub: s, dir: t.Dir, names: t.Names}
	pt.last = pt.look()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.targets[pt] = true
	if p.stop == nil {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.run(p.stop, p.done)
	}
	return pt
}

func (p *poller) remove(pt *pollTarget) {
	p.mu.Lock()
	delete(p.targets, pt)
	var stop, done chan struct{}
	if len(p.targets) == 0 && p.stop != nil {
		stop, done = p.stop, p.done
		p.stop, p.done = nil, nil
	}
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (p *poller) close() {
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.targets = map[*pollTarget]bool{}
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (p *poller) run(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// The stats run under mu so that a removed target is never
		// signalled after remove returns; they are a few per target.
		p.mu.Lock()
		for pt := range p.targets {
			now := pt.look()
			if !equalStamps(now, pt.last) {
				pt.last = now
				pt.sub.signal()
			}
		}
		p.mu.Unlock()
	}
}

// look stats the target's directory, or each of its named entries.
func (pt *pollTarget) look() []stamp {
	if len(pt.names) == 0 {
		return []stamp{statStamp(pt.dir)}
	}
	out := make([]stamp, len(pt.names))
	for i, n := range pt.names {
		out[i] = statStamp(filepath.Join(pt.dir, n))
	}
	return out
}

func statStamp(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	st := stamp{ok: true, size: uint64(fi.Size()), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
		st.ctime = ctimeOf(sys)
	}
	return st
}

func equalStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
