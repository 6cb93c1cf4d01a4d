package daemon

import (
	"net/netip"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemGuardSampling(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	var inUse uint64
	reads := 0
	g := &memGuard{limit: 80 << 20, threshold: 60 << 20, now: clk.Now}
	g.sample = func() uint64 { reads++; return inUse }

	steps := []struct {
		advance time.Duration
		inUse   uint64
		want    bool
		reads   int
	}{
		{0, 10 << 20, false, 1},                // first call samples
		{time.Millisecond, 70 << 20, false, 1}, // within 100 ms: last verdict
		{memSampleEvery, 70 << 20, true, 2},    // resampled: over the threshold
		{time.Millisecond, 10 << 20, true, 2},  // still the last verdict
		{memSampleEvery, 60<<20 - 1, false, 3}, // just under the threshold
		{memSampleEvery, 60 << 20, true, 4},    // at it
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		inUse = s.inUse
		if got := g.overLimit(); got != s.want || reads != s.reads {
			t.Errorf("step %d: overLimit() = %v after %d samples, want %v after %d", i, got, reads, s.want, s.reads)
		}
	}
	// A burst of accepts resamples without waiting for the clock.
	inUse = 0
	for range memSampleAccepts {
		g.overLimit()
	}
	if g.overLimit() {
		t.Errorf("after %d accepts in one instant the guard still refuses on a stale sample", memSampleAccepts)
	}
}

func TestMemGuardOff(t *testing.T) {
	var g *memGuard
	if g.overLimit() {
		t.Error("nil guard refuses")
	}
	before := debug.SetMemoryLimit(-1)
	if newMemGuard(0).overLimit() {
		t.Error("memory_limit 0 refuses")
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("memory_limit 0 changed the runtime's soft limit from %d to %d", before, after)
	}
}

// TestMemGuardLimit checks that a real guard sets the soft limit and
// refuses once the runtime's memory passes its threshold.
func TestMemGuardLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	g := newMemGuard(1 << 30)
	if got, want := debug.SetMemoryLimit(-1), softLimit(1<<30, codeSize()); got != want {
		t.Errorf("soft limit = %d, want %d (1 GiB less the code)", got, want)
	}
	if g.overLimit() {
		t.Error("a test binary is over half a GiB?")
	}
	small := newMemGuard(minTestLimit)
	if !small.overLimit() {
		t.Errorf("a guard of %d octets does not refuse", minTestLimit)
	}
}

// minTestLimit is smaller than any Go program's memory in use.
const minTestLimit = 1 << 10

func TestConnLimiterMemory(t *testing.T) {
	l := newConnLimiter(0, 0, nil)
	l.mem = &memGuard{limit: 1, threshold: 1, now: time.Now, sample: func() uint64 { return 2 }}
	ok, reason := l.acquire(netip.MustParseAddr("192.0.2.1"))
	if ok || reason != reasonMemory {
		t.Errorf("acquire over the memory bound = %v, %q; want false, %q", ok, reason, reasonMemory)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func TestSoftLimit(t *testing.T) {
	tests := []struct{ limit, code, want int64 }{
		{256 << 20, 24 << 20, 200 << 20},
		{64 << 20, 0, 56 << 20},
		{40 << 20, 30 << 20, 20 << 20}, // at least half
	}
	for _, tt := range tests {
		if got := softLimit(tt.limit, tt.code); got != tt.want {
			t.Errorf("softLimit(%d, %d) = %d, want %d", tt.limit, tt.code, got, tt.want)
		}
	}
	if n := codeSize(); n <= 0 {
		t.Errorf("codeSize() = %d, want the test binary's mapped size", n)
	}
}
