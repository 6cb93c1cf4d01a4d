package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples is how many error texts are kept per command.
const maxSamples = 3

// opStats is what all clients of a run recorded for one command.
type opStats struct {
	hist    histogram // latencies of the commands that succeeded
	errors  atomic.Uint64
	skipped atomic.Uint64 // not run: the server lacks the capability
	bytesIn atomic.Uint64 // octets received by the commands that succeeded

	mu      sync.Mutex
	samples []string // guarded by mu; the first maxSamples error texts
}

// stats holds the counters of a run, shared by its clients.
type stats struct {
	ops []opStats // indexed by Op: the built-in ones, then the profile's custom lines
}

func newStats(p Profile) *stats {
	return &stats{ops: make([]opStats, int(numOps)+len(p.Commands))}
}

// record adds one command's outcome: its latency when it succeeded, an
// error (with its text kept if among the first) otherwise.
func (s *stats) record(op Op, d time.Duration, in uint64, err error) {
	o := &s.ops[op]
	if err == nil {
		o.hist.record(d)
		o.bytesIn.Add(in)
		return
	}
	o.errors.Add(1)
	o.mu.Lock()
	if len(o.samples) < maxSamples {
		o.samples = append(o.samples, err.Error())
	}
	o.mu.Unlock()
}

// totals returns the commands done and the errors so far, for the
// progress line.
func (s *stats) totals() (done, errs uint64) {
	for i := range s.ops {
		done += s.ops[i].hist.count.Load()
		errs += s.ops[i].errors.Load()
	}
	return done, errs
}
