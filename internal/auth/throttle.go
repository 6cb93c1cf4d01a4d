package auth

import (
	"container/list"
	"context"
	"net/netip"
	"sync"
	"time"
)

// Default throttle parameters (DESIGN.md §5: failed logins are delayed per
// client address, rising from 2 s to 15 s).
const (
	DefaultThrottleMin        = 2 * time.Second
	DefaultThrottleMax        = 15 * time.Second
	DefaultThrottleForget     = 15 * time.Minute
	DefaultThrottleMaxEntries = 10000
	DefaultThrottleIPv6Prefix = 64
)

// ThrottleOptions configures a Throttle. The zero value gives the defaults.
type ThrottleOptions struct {
	// Min is the delay after the first failure; each further failure
	// doubles it. Zero means DefaultThrottleMin (2 s).
	Min time.Duration
	// Max caps the delay. Zero means DefaultThrottleMax (15 s).
	Max time.Duration
	// Forget is how long after its last failure an address is forgotten.
	// Zero means DefaultThrottleForget (15 min).
	Forget time.Duration
	// MaxEntries bounds memory: beyond it the address whose last failure is
	// oldest is forgotten first. Zero means DefaultThrottleMaxEntries.
	MaxEntries int
	// IPv6Prefix is how many leading bits of an IPv6 address identify one
	// client, since one host commonly holds a whole /64. Zero means
	// DefaultThrottleIPv6Prefix (64); 128 keys each address on its own.
	IPv6Prefix int
	// Now returns the current time. Nil means time.Now. Tests inject a clock.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in the latter
	// case. Nil means a timer-based wait. Tests inject a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// GlobalRate is how many failures per second, from all addresses
	// together, are delayed only as their address's count says; beyond it
	// (once GlobalBurst failures have passed at once) a failure's delay is
	// Max, whatever its address: a token bucket, so that an attack spread
	// over many addresses, each failing once or twice, is slowed too.
	// Zero turns the global limit off.
	GlobalRate float64
	// GlobalBurst is the bucket's size: how many failures may pass at
	// once before GlobalRate applies. Zero means one second's worth of
	// GlobalRate (at least 1).
	GlobalBurst int
	// Report, if set, is told of every Failed and Succeeded call: a
	// session served in a child process passes them on to the daemon's
	// Throttle, so the delay spans connections (DESIGN.md §2).
	Report func(addr netip.Addr, failed bool)
}

// Throttle delays authentication replies to client addresses that failed
// recently, rising from Min to Max with consecutive failures. It is safe for
// concurrent use; its zero value is ready to use with the defaults.
//
// A protocol layer calls Failed after a rejected login and then Wait before
// sending the rejection, and Succeeded after a successful one. Addresses are
// unmapped (DESIGN.md §2), so ::ffff:192.0.2.1 and 192.0.2.1 share an entry.
type Throttle struct {
	opts ThrottleOptions

	mu      sync.Mutex
	entries map[netip.Addr]*list.Element // guarded by mu; values are *throttleEntry
	order   list.List                    // guarded by mu; front = most recent failure

	// The global bucket (GlobalRate): tokens left at filled.
	tokens float64   // guarded by mu
	filled time.Time // guarded by mu; zero: the bucket is full
}

type throttleEntry struct {
	key      netip.Addr
	failures int
	last     time.Time
	// overGlobal is set when the entry's last failure found the global
	// bucket empty: its delay is then Max.
	overGlobal bool
}

// NewThrottle returns a Throttle configured by opts.
func NewThrottle(opts ThrottleOptions) *Throttle {
	return &Throttle{opts: opts}
}

func (t *Throttle) min() time.Duration {
	if t.opts.Min > 0 {
		return t.opts.Min
	}
	return DefaultThrottleMin
}

func (t *Throttle) max() time.Duration {
	if t.opts.Max > 0 {
		return t.opts.Max
	}
	return DefaultThrottleMax
}

func (t *Throttle) forget() time.Duration {
	if t.opts.Forget > 0 {
		return t.opts.Forget
	}
	return DefaultThrottleForget
}

func (t *Throttle) maxEntries() int {
	if t.opts.MaxEntries > 0 {
		return t.opts.MaxEntries
	}
	return DefaultThrottleMaxEntries
}

func (t *Throttle) now() time.Time {
	if t.opts.Now != nil {
		return t.opts.Now()
	}
	return time.Now()
}

// key maps a client address to its throttle key: unmapped, zone dropped,
// and IPv6 truncated to the configured prefix.
func (t *Throttle) key(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if !addr.Is6() {
		return addr
	}
	bits := t.opts.IPv6Prefix
	if bits <= 0 || bits > 128 {
		bits = DefaultThrottleIPv6Prefix
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return addr
	}
	return p.Addr()
}

// delayFor is the delay after n consecutive failures: 0, then Min doubling
// up to Max.
func (t *Throttle) delayFor(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d, max := t.min(), t.max()
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// lookup returns the live entry for key, dropping it if it is stale.
// Called with mu held.
func (t *Throttle) lookup(key netip.Addr, now time.Time) *list.Element {
	el, ok := t.entries[key]
	if !ok {
		return nil
	}
	if now.Sub(el.Value.(*throttleEntry).last) >= t.forget() {
		t.remove(el)
		return nil
	}
	return el
}

// remove drops el. Called with mu held.
func (t *Throttle) remove(el *list.Element) {
	delete(t.entries, el.Value.(*throttleEntry).key)
	t.order.Remove(el)
}

// burst is the global bucket's size.
func (t *Throttle) burst() float64 {
	if t.opts.GlobalBurst > 0 {
		return float64(t.opts.GlobalBurst)
	}
	return max(1, t.opts.GlobalRate)
}

// takeGlobal takes a token for one failure from the global bucket,
// reporting false when it is empty (the failure is over the rate).
// Called with mu held.
func (t *Throttle) takeGlobal(now time.Time) bool {
	if t.opts.GlobalRate <= 0 {
		return true
	}
	if t.filled.IsZero() {
		t.tokens = t.burst()
	} else if el := now.Sub(t.filled); el > 0 {
		t.tokens = min(t.burst(), t.tokens+el.Seconds()*t.opts.GlobalRate)
	}
	t.filled = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// GlobalExceeded reports whether the global bucket is empty now: the
// next failure, from any address, will be delayed Max. A connection
// served in a child process learns it from the daemon at start.
func (t *Throttle) GlobalExceeded() bool {
	if t.opts.GlobalRate <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.filled.IsZero() {
		return false
	}
	el := max(0, t.now().Sub(t.filled))
	return t.tokens+el.Seconds()*t.opts.GlobalRate < 1
}

// Drain empties the global bucket now, as if the rate had just been
// used up: a connection served in a child process starts so when the
// daemon's bucket was empty (GlobalExceeded), as its own bucket would
// otherwise start full.
func (t *Throttle) Drain() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens, t.filled = 0, t.now()
}

// Delay reports how long to wait before answering addr, given its recent
// failures: 0 when it has none.
func (t *Throttle) Delay(addr netip.Addr) time.Duration {
	key := t.key(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.lookup(key, t.now())
	if el == nil {
		return 0
	}
	e := el.Value.(*throttleEntry)
	if e.overGlobal {
		return t.max()
	}
	return t.delayFor(e.failures)
}

// Failed records a failed authentication from addr.
func (t *Throttle) Failed(addr netip.Addr) {
	if t.opts.Report != nil {
		t.opts.Report(addr, true)
	}
	key := t.key(addr)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries == nil {
		t.entries = make(map[netip.Addr]*list.Element)
	}
	over := !t.takeGlobal(now)
	if el := t.lookup(key, now); el != nil {
		e := el.Value.(*throttleEntry)
		e.failures++
		e.last = now
		e.overGlobal = over
		t.order.MoveToFront(el)
	} else {
		t.entries[key] = t.order.PushFront(&throttleEntry{key: key, failures: 1, last: now, overGlobal: over})
	}
	// The list is ordered by last failure, so stale and surplus entries
	// are all at the back.
	for el := t.order.Back(); el != nil; el = t.order.Back() {
		stale := now.Sub(el.Value.(*throttleEntry).last) >= t.forget()
		if !stale && t.order.Len() <= t.maxEntries() {
			break
		}
		t.remove(el)
	}
}

// Succeeded forgets addr's failures after a successful authentication.
func (t *Throttle) Succeeded(addr netip.Addr) {
	if t.opts.Report != nil {
		t.opts.Report(addr, false)
	}
	key := t.key(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[key]; ok {
		t.remove(el)
	}
}

// Failures reports how many recent failures addr has (0 when none or
// forgotten).
func (t *Throttle) Failures(addr netip.Addr) int {
	key := t.key(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.lookup(key, t.now())
	if el == nil {
		return 0
	}
	return el.Value.(*throttleEntry).failures
}

// Len reports how many addresses are remembered, stale ones included until
// they are pruned.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}

// Wait sleeps for Delay(addr), returning early with ctx.Err() if ctx is done
// first.
func (t *Throttle) Wait(ctx context.Context, addr netip.Addr) error {
	d := t.Delay(addr)
	if d <= 0 {
		return ctx.Err()
	}
	if t.opts.Sleep != nil {
		return t.opts.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
