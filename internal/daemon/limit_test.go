package daemon

import (
	"net/netip"
	"testing"
)

func TestConnLimiter(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::1")
	l := newConnLimiter(3, 2)
	steps := []struct {
		addr       netip.Addr
		release    bool
		wantOK     bool
		wantReason string
	}{
		{addr: a, wantOK: true},
		{addr: a, wantOK: true},
		{addr: a, wantOK: false, wantReason: "Too many connections from your address"},
		{addr: b, wantOK: true},
		{addr: b, wantOK: false, wantReason: "Too many connections to this server"},
		{addr: a, release: true},
		{addr: b, wantOK: true},
	}
	for i, s := range steps {
		if s.release {
			l.release(s.addr)
			continue
		}
		ok, reason := l.acquire(s.addr)
		if ok != s.wantOK || reason != s.wantReason {
			t.Errorf("step %d: acquire(%v) = %v, %q; want %v, %q", i, s.addr, ok, reason, s.wantOK, s.wantReason)
		}
	}
	if len(l.perIP) != 2 || l.total != 3 {
		t.Errorf("after steps: total %d, perIP %v; want 3 and two addresses", l.total, l.perIP)
	}
}
