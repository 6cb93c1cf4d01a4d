package daemon

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memGuard bounds the daemon's memory (the memory_limit key): it sets the
// Go runtime's soft limit, so the collector works harder as the bound
// nears, and it tells the listeners to refuse new connections while the
// memory in use is close to the bound, so that a flood of connections
// degrades service (new clients hear BYE [UNAVAILABLE] and retry later)
// instead of growing the daemon until the kernel's OOM killer ends every
// session at once.
//
// memory_limit bounds the daemon's resident memory: the runtime's soft
// limit is what remains of it after the executable's code (softLimit),
// and the refusal threshold is refuseEighths eighths of that, not all of
// it: the soft limit makes the runtime collect garbage to stay under it,
// so the memory in use only nears it when live data (sessions) fill it,
// and new sessions must stop before that, leaving the collector room to
// work and the connections already accepted room to run.
type memGuard struct {
	limit     int64 // octets; 0: no guard
	threshold uint64

	mu      sync.Mutex
	checked time.Time // last sample; guarded by mu
	since   int       // accepts since the last sample; guarded by mu
	over    bool      // the last sample's verdict; guarded by mu
	now     func() time.Time
	sample  func() uint64 // the memory in use; tests replace it
	// collect runs a garbage collection (runtime.GC), at most every
	// memCollectEvery while over the threshold; nil: never.
	collect   func()
	collected time.Time // guarded by mu
}

const (
	// memSampleEvery bounds how often the runtime's memory is sampled:
	// reading runtime/metrics is cheap but not free, and an accept loop
	// under a flood must stay cheap.
	memSampleEvery = 100 * time.Millisecond
	// memSampleAccepts resamples sooner after this many accepted
	// connections, so that a burst of accepts between two samples cannot
	// overshoot the bound by more than that many sessions.
	memSampleAccepts = 16
	// memCollectEvery bounds the collections the guard forces while over
	// its threshold.
	memCollectEvery = time.Second
	// refuseEighths eighths of the runtime's share (softLimit) is where
	// refusals start: half, as the heap grows to twice its live data
	// between collections (GOGC=100).
	refuseEighths = 4
)

// Runtime metrics: all memory the runtime mapped, less the heap it has
// returned to the system and the heap that is free but not yet returned.
// The soft limit counts the free part too, but the runtime returns it as
// the limit nears; counting it would keep refusing connections long
// after a flood ended, until the scavenger got round to it.
const (
	metricTotal    = "/memory/classes/total:bytes"
	metricReleased = "/memory/classes/heap/released:bytes"
	metricFree     = "/memory/classes/heap/free:bytes"
)

// newMemGuard sets the runtime's soft memory limit to limit octets and
// returns the guard; limit 0 leaves the runtime alone (GOMEMLIMIT, if set,
// still applies) and returns a guard that never refuses.
func newMemGuard(limit int64) *memGuard {
	g := &memGuard{limit: limit, now: time.Now, sample: runtimeInUse, collect: runtime.GC}
	if limit <= 0 {
		return g
	}
	soft := softLimit(limit, codeSize())
	debug.SetMemoryLimit(soft)
	g.threshold = uint64(soft) / 8 * refuseEighths
	return g
}

// softLimit is the Go runtime's share of memory_limit: what is left once
// the program's code is resident (code octets of it, file-backed pages
// the runtime does not count) and an eighth is kept back, as the runtime
// lets the heap grow up to its soft limit and may overshoot it by a few
// MiB of its own bookkeeping (measured: 4 MiB over a 41 MiB limit under
// TestExhaustMemoryLimit's flood); at least half the limit, so that a
// limit close to the program's size still leaves the runtime room.
func softLimit(limit, code int64) int64 {
	return max(limit-code-limit/8, limit/2)
}

// codeSize is the size of the executable's file mappings (its code and
// read-only data), read from /proc/self/maps: the most of the daemon's
// resident memory that is not the runtime's. 0 where it cannot be read.
func codeSize() int64 {
	exe, err := os.Executable()
	if err != nil {
		return 0
	}
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0
	}
	var total int64
	for line := range strings.SplitSeq(string(b), "\n") {
		// "start-end perms offset dev inode path"
		f := strings.Fields(line)
		if len(f) < 6 || f[5] != exe {
			continue
		}
		start, end, ok := strings.Cut(f[0], "-")
		lo, err1 := strconv.ParseUint(start, 16, 64)
		hi, err2 := strconv.ParseUint(end, 16, 64)
		if ok && err1 == nil && err2 == nil && hi > lo {
			total += int64(hi - lo)
		}
	}
	return total
}

// runtimeInUse is the memory the runtime holds for the program: what it
// mapped, less the heap that is free or returned to the system.
func runtimeInUse() uint64 {
	s := []metrics.Sample{{Name: metricTotal}, {Name: metricReleased}, {Name: metricFree}}
	metrics.Read(s)
	var inUse uint64
	if v := s[0].Value; v.Kind() == metrics.KindUint64 {
		inUse = v.Uint64()
	}
	for _, x := range s[1:] {
		if v := x.Value; v.Kind() == metrics.KindUint64 && v.Uint64() <= inUse {
			inUse -= v.Uint64()
		}
	}
	return inUse
}

// overLimit reports whether new connections must be refused now. It reads
// the runtime's figures at most every memSampleEvery or memSampleAccepts
// calls, and answers from the last reading in between.
func (g *memGuard) overLimit() bool {
	if g == nil || g.limit <= 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.since++
	now := g.now()
	if g.since < memSampleAccepts && now.Sub(g.checked) < memSampleEvery {
		return g.over
	}
	g.checked, g.since = now, 0
	g.over = g.sample() >= g.threshold
	if g.over && g.collect != nil && now.Sub(g.collected) >= memCollectEvery {
		// Sessions that ended leave their memory to the next
		// collection, which only allocation triggers: without one a
		// daemon refusing everyone (and so allocating little) could stay
		// "over" long after a flood ended.
		g.collected = now
		go g.collect()
	}
	return g.over
}
