package daemon

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConnLimiter(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("2001:db8::1")
	l := newConnLimiter(3, 2, nil)
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

func TestAllowed(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.1", true},
		{"::ffff:192.0.2.1", true}, // mapped peers match as IPv4
		{"198.51.100.1", false},
		{"::ffff:198.51.100.1", false},
		{"2001:db8::5", true},
		{"fe80::1%eth0", false},
		{"2001:db8::5%eth0", true}, // the zone does not hide a match
		{"::1", true},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if got := allowed(allow, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("allowed(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if !allowed(nil, netip.MustParseAddr("198.51.100.1")) || !allowed(allow, netip.Addr{}) {
		t.Error("an empty allow list, or a non-IP peer, must be allowed")
	}
	l := newConnLimiter(0, 0, allow)
	if ok, reason := l.acquire(netip.MustParseAddr("::ffff:198.51.100.1")); ok || reason != "Connections from 198.51.100.1 are not allowed" {
		t.Errorf("acquire(::ffff:198.51.100.1) = %v, %q", ok, reason)
	}
}

func TestRefusalLogLimited(t *testing.T) {
	var buf bytes.Buffer
	l := newConnLimiter(0, 0, nil)
	l.log = slog.New(slog.NewTextHandler(&buf, nil))
	a := netip.MustParseAddr("192.0.2.1")
	for range 1000 {
		l.logRefusal(a, "Too many connections from your address")
	}
	if n := strings.Count(buf.String(), `msg="connection refused"`); n != maxRefusalLogs {
		t.Errorf("1000 refusals in a moment logged %d lines, want %d:\n%s", n, maxRefusalLogs, buf.String())
	}
	l.logWindow = l.logWindow.Add(-time.Second) // the next second
	l.logRefusal(a, "Too many connections from your address")
	if !strings.Contains(buf.String(), `msg="connections refused, not logged one by one" count=990`) {
		t.Errorf("no summary of the 990 refusals not logged:\n%s", buf.String())
	}
}

// TestLimitedConnSyscallConn: the wrapper gives the socket beneath to
// whoever asks (imapserver waits for input through it without a read
// buffer), and says so when there is none.
func TestLimitedConnSyscallConn(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wrapped net.Conn = &limitedConn{Conn: c, release: func() {}}
	sc, ok := wrapped.(syscall.Conn)
	if !ok {
		t.Fatal("limitedConn does not implement syscall.Conn")
	}
	if rc, err := sc.SyscallConn(); err != nil || rc == nil {
		t.Errorf("SyscallConn over TCP = %v, %v", rc, err)
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if _, err := (&limitedConn{Conn: p1, release: func() {}}).SyscallConn(); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SyscallConn over a pipe = %v; want EINVAL", err)
	}
}
