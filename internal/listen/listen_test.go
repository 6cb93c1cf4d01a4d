package listen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

func testLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})), &buf
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// v6only reads IPV6_V6ONLY from a listener's socket.
func v6only(t *testing.T, l net.Listener) int {
	t.Helper()
	rc, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// connect dials network addr and returns the server's side of the
// connection, accepted on l.
func connect(t *testing.T, l net.Listener, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatalf("Dial(%s, %s) = %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func port(l net.Listener) int { return l.Addr().(*net.TCPAddr).Port }

func TestListenLoopback(t *testing.T) {
	log, buf := testLogger()
	ls, err := Listen(context.Background(), []string{"127.0.0.1:0", "[::1]:0"}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	if len(ls) != 2 {
		t.Fatalf("Listen gave %d listeners, want 2", len(ls))
	}
	for i, want := range []string{"127.0.0.1", "::1"} {
		s := connect(t, ls[i], "tcp", ls[i].Addr().String())
		if got := PeerAddr(s).Addr().String(); got != want {
			t.Errorf("PeerAddr on %v = %s, want %s", ls[i].Addr(), got, want)
		}
		if !IsLoopback(s) {
			t.Errorf("IsLoopback on %v = false, want true", ls[i].Addr())
		}
		if got := LocalAddr(s); got.Addr().String() != want || int(got.Port()) != port(ls[i]) {
			t.Errorf("LocalAddr on %v = %v, want %s:%d", ls[i].Addr(), got, want, port(ls[i]))
		}
		if line := fmt.Sprintf("msg=listening addr=%s\n", ls[i].Addr()); !strings.Contains(buf.String(), line) {
			t.Errorf("log lacks %q; log:\n%s", line, buf)
		}
	}
}

func TestListenDualStack(t *testing.T) {
	for _, addr := range []string{"[::]:0", ":0"} {
		log, buf := testLogger()
		ls, err := Listen(context.Background(), []string{addr}, log)
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll(ls)
		if len(ls) != 1 {
			t.Fatalf("Listen(%s) gave %d listeners, want 1", addr, len(ls))
		}
		l := ls[0]
		if got := v6only(t, l); got != 0 {
			t.Errorf("Listen(%s): IPV6_V6ONLY = %d, want 0", addr, got)
		}
		if !strings.Contains(buf.String(), "dualstack=true") {
			t.Errorf("Listen(%s) log lacks dualstack=true:\n%s", addr, buf)
		}

		s := connect(t, l, "tcp4", fmt.Sprintf("127.0.0.1:%d", port(l)))
		raw := s.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
		if !raw.Is4In6() || raw.String() != "::ffff:127.0.0.1" {
			t.Errorf("raw peer of IPv4 client = %s, want ::ffff:127.0.0.1", raw)
		}
		if got := PeerAddr(s).Addr(); got != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("PeerAddr of IPv4 client = %s, want 127.0.0.1", got)
		}
		if !IsLoopback(s) {
			t.Errorf("IsLoopback of mapped 127.0.0.1 = false, want true")
		}
		s = connect(t, l, "tcp6", fmt.Sprintf("[::1]:%d", port(l)))
		if got := PeerAddr(s).Addr().String(); got != "::1" {
			t.Errorf("PeerAddr of IPv6 client = %s, want ::1", got)
		}
	}
}

// freePort finds a port free on both families, for tests that need the
// same port twice.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return port(l)
}

func TestListenPair(t *testing.T) {
	var ls []net.Listener
	var err error
	for range 5 { // another process may grab the port in between
		p := freePort(t)
		ls, err = Listen(context.Background(), []string{fmt.Sprintf("0.0.0.0:%d", p), fmt.Sprintf("[::]:%d", p)}, nil)
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	if len(ls) != 2 {
		t.Fatalf("Listen gave %d listeners, want 2", len(ls))
	}
	if got := v6only(t, ls[1]); got != 1 {
		t.Errorf("IPv6 socket beside 0.0.0.0: IPV6_V6ONLY = %d, want 1", got)
	}
	s := connect(t, ls[0], "tcp4", fmt.Sprintf("127.0.0.1:%d", port(ls[0])))
	if raw := s.RemoteAddr().(*net.TCPAddr).AddrPort().Addr(); !raw.Is4() {
		t.Errorf("IPv4 client accepted as %s, want a plain IPv4 address on the IPv4 socket", raw)
	}
	s = connect(t, ls[1], "tcp6", fmt.Sprintf("[::1]:%d", port(ls[1])))
	if got := PeerAddr(s).Addr().String(); got != "::1" {
		t.Errorf("PeerAddr on IPv6 socket = %s, want ::1", got)
	}
}

func TestListenFallback(t *testing.T) {
	log, buf := testLogger()
	b := binder{log: log, resolve: net.DefaultResolver.LookupNetIP, setV6Only: func(fd uintptr, on bool) error {
		if !on {
			return syscall.ENOPROTOOPT
		}
		return setV6Only(fd, on)
	}}
	ls, err := b.listen(context.Background(), []string{"[::]:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(ls)
	if len(ls) != 2 {
		t.Fatalf("fallback gave %d listeners, want 2", len(ls))
	}
	if port(ls[0]) != port(ls[1]) {
		t.Errorf("fallback ports %d and %d, want the same", port(ls[0]), port(ls[1]))
	}
	if got := v6only(t, ls[0]); got != 1 {
		t.Errorf("fallback IPv6 socket: IPV6_V6ONLY = %d, want 1", got)
	}
	if !strings.Contains(buf.String(), "dual-stack socket refused") {
		t.Errorf("fallback not logged; log:\n%s", buf)
	}
	connect(t, ls[1], "tcp4", fmt.Sprintf("127.0.0.1:%d", port(ls[1])))
}

func TestListenResolve(t *testing.T) {
	b := binder{setV6Only: setV6Only, resolve: func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if host != "mail.test" {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"), netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	}}
	eps, err := b.plan(context.Background(), []string{"mail.test:imaps", "[::]:993", "0.0.0.0:993", "[::]:995"})
	if err != nil {
		t.Fatal(err)
	}
	want := "[127.0.0.1 993 false] [::1 993 false] [:: 993 false] [0.0.0.0 993 false] [:: 995 true] "
	var got string
	for _, ep := range eps {
		got += fmt.Sprint([]any{ep.addr, ep.port, ep.dualStack}, " ")
	}
	if got != want {
		t.Errorf("plan = %s, want %s", got, want)
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := freePort(t)
	for _, addrs := range [][]string{
		{"127.0.0.1"},
		{"127.0.0.1:notaport"},
		{"127.0.0.1:70000"},
		{fmt.Sprintf("127.0.0.1:%d", p), busy.Addr().String()},
	} {
		ls, err := Listen(context.Background(), addrs, nil)
		if err == nil {
			closeAll(ls)
			t.Errorf("Listen(%q) = nil error, want one", addrs)
		} else if !strings.HasPrefix(err.Error(), "listen: ") {
			t.Errorf("Listen(%q) error %q lacks the package prefix", addrs, err)
		}
		if ls != nil {
			t.Errorf("Listen(%q) returned listeners with an error", addrs)
		}
	}
	// The first listener of the failed call was closed: its port is free.
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Errorf("port of a failed Listen still bound: %v", err)
	} else {
		l.Close()
	}
}
