package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestThrottle(opts ThrottleOptions) (*Throttle, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	opts.Now = clk.Now
	return NewThrottle(opts), clk
}

func TestThrottleRising(t *testing.T) {
	th, _ := newTestThrottle(ThrottleOptions{})
	a := netip.MustParseAddr("192.0.2.1")
	want := []time.Duration{0, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}
	for n, w := range want {
		if got := th.Delay(a); got != w {
			t.Errorf("Delay after %d failures = %v, want %v", n, got, w)
		}
		th.Failed(a)
	}
	th.Succeeded(a)
	if got := th.Delay(a); got != 0 {
		t.Errorf("Delay after Succeeded = %v, want 0", got)
	}
}

func TestThrottleKeys(t *testing.T) {
	tests := []struct {
		failed, asked string
		want          time.Duration
	}{
		{"192.0.2.1", "192.0.2.1", 2 * time.Second},
		{"192.0.2.1", "192.0.2.2", 0},
		{"::ffff:192.0.2.1", "192.0.2.1", 2 * time.Second},
		{"192.0.2.1", "::ffff:192.0.2.1", 2 * time.Second},
		{"2001:db8::1", "2001:db8::2", 2 * time.Second}, // same /64
		{"2001:db8::1", "2001:db8:0:1::1", 0},           // other /64
		{"fe80::1%eth0", "fe80::1", 2 * time.Second},    // zone ignored
	}
	for _, tt := range tests {
		th, _ := newTestThrottle(ThrottleOptions{})
		th.Failed(netip.MustParseAddr(tt.failed))
		if got := th.Delay(netip.MustParseAddr(tt.asked)); got != tt.want {
			t.Errorf("Failed(%s); Delay(%s) = %v, want %v", tt.failed, tt.asked, got, tt.want)
		}
	}
	th, _ := newTestThrottle(ThrottleOptions{IPv6Prefix: 128})
	th.Failed(netip.MustParseAddr("2001:db8::1"))
	if got := th.Delay(netip.MustParseAddr("2001:db8::2")); got != 0 {
		t.Errorf("IPv6Prefix 128: Delay(other address) = %v, want 0", got)
	}
}

func TestThrottleForget(t *testing.T) {
	th, clk := newTestThrottle(ThrottleOptions{Forget: time.Minute})
	a := netip.MustParseAddr("192.0.2.1")
	th.Failed(a)
	th.Failed(a)
	clk.Advance(59 * time.Second)
	if got := th.Delay(a); got != 4*time.Second {
		t.Errorf("Delay before Forget = %v, want 4s", got)
	}
	clk.Advance(time.Second)
	if got := th.Delay(a); got != 0 {
		t.Errorf("Delay at Forget = %v, want 0", got)
	}
	th.Failed(a)
	if got := th.Delay(a); got != 2*time.Second {
		t.Errorf("Delay after forgetting and failing again = %v, want 2s", got)
	}
}

func TestThrottleBounded(t *testing.T) {
	th, clk := newTestThrottle(ThrottleOptions{MaxEntries: 3, Forget: time.Hour})
	addr := func(i int) netip.Addr { return netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", i)) }
	for i := 1; i <= 5; i++ {
		th.Failed(addr(i))
		clk.Advance(time.Second)
	}
	if got := th.Len(); got != 3 {
		t.Errorf("Len = %d, want 3", got)
	}
	for i, want := range []time.Duration{0, 0, 2 * time.Second, 2 * time.Second, 2 * time.Second} {
		if got := th.Delay(addr(i + 1)); got != want {
			t.Errorf("Delay(%v) = %v, want %v", addr(i+1), got, want)
		}
	}
	// A fresh failure on the oldest survivor moves it to the front, so the
	// next newcomer evicts 192.0.2.4 instead.
	th.Failed(addr(3))
	th.Failed(addr(6))
	if got := th.Delay(addr(4)); got != 0 {
		t.Errorf("Delay(evicted 192.0.2.4) = %v, want 0", got)
	}
	if got := th.Delay(addr(3)); got != 4*time.Second {
		t.Errorf("Delay(192.0.2.3) = %v, want 4s", got)
	}

	// Stale entries are pruned on the next failure.
	clk.Advance(2 * time.Hour)
	th.Failed(addr(7))
	if got := th.Len(); got != 1 {
		t.Errorf("Len after all went stale = %d, want 1", got)
	}
}

func TestThrottleWait(t *testing.T) {
	var slept []time.Duration
	th, _ := newTestThrottle(ThrottleOptions{Sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}})
	a := netip.MustParseAddr("198.51.100.7")
	ctx := context.Background()
	if err := th.Wait(ctx, a); err != nil {
		t.Fatalf("Wait with no failures = %v, want nil", err)
	}
	th.Failed(a)
	th.Wait(ctx, a)
	th.Failed(a)
	th.Wait(ctx, a)
	want := []time.Duration{2 * time.Second, 4 * time.Second}
	if fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Errorf("slept %v, want %v", slept, want)
	}

	// The default sleep honours cancellation.
	th2 := NewThrottle(ThrottleOptions{Min: time.Hour, Max: time.Hour})
	th2.Failed(a)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := th2.Wait(cctx, a); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(cancelled) = %v, want context.Canceled", err)
	}
}

func TestThrottleZeroValue(t *testing.T) {
	var th Throttle
	a := netip.MustParseAddr("203.0.113.9")
	th.Succeeded(a) // no panic on an empty map
	th.Failed(a)
	if got := th.Delay(a); got != DefaultThrottleMin {
		t.Errorf("zero Throttle: Delay = %v, want %v", got, DefaultThrottleMin)
	}
}

// TestThrottlePenaltyPerAddress follows one address's delay from 2 s to
// 15 s through Wait, as a protocol layer drives it, while another address
// stays undelayed (DESIGN.md §5).
func TestThrottlePenaltyPerAddress(t *testing.T) {
	var slept []time.Duration
	th, _ := newTestThrottle(ThrottleOptions{Sleep: func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	ctx := context.Background()
	for range 6 {
		th.Failed(a)
		th.Wait(ctx, a)
	}
	th.Wait(ctx, b)
	want := "[2s 4s 8s 15s 15s 15s]"
	if got := fmt.Sprint(slept); got != want {
		t.Errorf("delays after failures from one address = %s, want %s", got, want)
	}
	th.Failed(b)
	if got := th.Delay(b); got != 2*time.Second {
		t.Errorf("Delay(other address after its first failure) = %v, want 2s", got)
	}
}

// TestThrottleGlobal checks the global bucket: GlobalBurst failures pass
// with their address's delay, the next ones (from fresh addresses) wait
// Max, and the rate refills it.
func TestThrottleGlobal(t *testing.T) {
	th, clk := newTestThrottle(ThrottleOptions{GlobalRate: 2, GlobalBurst: 3})
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}) }
	steps := []struct {
		advance time.Duration
		addr    int
		want    time.Duration
	}{
		{0, 1, 2 * time.Second},
		{0, 2, 2 * time.Second},
		{0, 3, 2 * time.Second},
		{0, 4, 15 * time.Second}, // bucket empty: Max, though a first failure
		{0, 5, 15 * time.Second},
		{500 * time.Millisecond, 6, 2 * time.Second}, // one token back at 2/s
		{0, 7, 15 * time.Second},
		{10 * time.Second, 8, 2 * time.Second}, // refilled (to the burst, no more)
		{0, 9, 2 * time.Second},
		{0, 10, 2 * time.Second},
		{0, 11, 15 * time.Second},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		th.Failed(addr(s.addr))
		if got := th.Delay(addr(s.addr)); got != s.want {
			t.Errorf("step %d: Failed(%v); Delay = %v, want %v", i, addr(s.addr), got, s.want)
		}
	}
	if !th.GlobalExceeded() {
		t.Error("GlobalExceeded() = false with the bucket empty")
	}
	// A later failure within the rate goes back to the address's own delay.
	clk.Advance(time.Second)
	if th.GlobalExceeded() {
		t.Error("GlobalExceeded() = true after a refill")
	}
	th.Failed(addr(4))
	if got := th.Delay(addr(4)); got != 4*time.Second {
		t.Errorf("second failure of 198.51.100.4 within the rate: Delay = %v, want 4s", got)
	}

	off, _ := newTestThrottle(ThrottleOptions{})
	for i := range 1000 {
		off.Failed(addr(i % 250))
	}
	if off.GlobalExceeded() || off.Delay(addr(1)) != 15*time.Second || off.Delay(netip.MustParseAddr("192.0.2.99")) != 0 {
		t.Error("GlobalRate 0 limits globally")
	}

	drained, _ := newTestThrottle(ThrottleOptions{GlobalRate: 1, GlobalBurst: 10})
	drained.Drain()
	drained.Failed(addr(1))
	if got := drained.Delay(addr(1)); got != 15*time.Second {
		t.Errorf("after Drain: Delay = %v, want 15s", got)
	}
}
