package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/netns"
)

// The tests in this file run inside private network namespaces (package
// netns), once with net.ipv6.bindv6only=0 and once with 1, so that they
// can bind wildcard addresses on a fixed port without exposing anything,
// and so that the sysctl is proven not to matter: every IPv6 socket gets
// IPV6_V6ONLY set explicitly.

// nsPort is the port every case binds; the namespace is empty, so it is
// free, and a fixed port makes the expected addresses exact.
const nsPort = 143

// nsHosts is bind-mounted over /etc/hosts so "localhost" resolves the same
// everywhere.
var nsHosts = map[string]string{"/etc/hosts": "testdata/hosts"}

// forEachBindV6Only runs body in two private network namespaces, with
// net.ipv6.bindv6only set to 0 and to 1.
func forEachBindV6Only(t *testing.T, body func(t *testing.T, sysctl string)) {
	for _, v := range []string{"0", "1"} {
		t.Run("bindv6only="+v, func(t *testing.T) {
			if !netns.Inside() {
				netns.Run(t, t.Name(), nsHosts)
				return
			}
			netns.SetSysctl(t, "net/ipv6/bindv6only", v)
			if got := defaultV6Only(t); got != v {
				t.Fatalf("IPV6_V6ONLY of a fresh socket = %s, want %s from the sysctl", got, v)
			}
			body(t, v)
		})
	}
}

// defaultV6Only is IPV6_V6ONLY on a new AF_INET6 socket left alone: the
// kernel default, which is what the sysctl sets.
func defaultV6Only(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	v, err := syscall.GetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(v)
}

// sockV6Only is IPV6_V6ONLY of each listener, "-" for AF_INET sockets
// (where Linux answers 0 for the IPv6-level option, meaning nothing).
func sockV6Only(t *testing.T, ls []net.Listener) string {
	t.Helper()
	var out []string
	for _, l := range ls {
		rc, err := l.(*net.TCPListener).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v, domain int
		var gerr, derr error
		rc.Control(func(fd uintptr) {
			domain, derr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_DOMAIN)
			v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY)
		})
		switch {
		case derr != nil:
			t.Fatal(derr)
		case domain == syscall.AF_INET:
			out = append(out, "-")
		case gerr != nil:
			t.Fatal(gerr)
		default:
			out = append(out, fmt.Sprint(v))
		}
	}
	return strings.Join(out, " ")
}

// accepted is one connection accepted by listener index i.
type accepted struct {
	i int
	c net.Conn
}

// acceptAll accepts on every listener until they are closed, handing each
// connection to the returned channel.
func acceptAll(t *testing.T, ls []net.Listener) <-chan accepted {
	ch := make(chan accepted)
	for i, l := range ls {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				ch <- accepted{i, c}
			}
		}()
	}
	return ch
}

// dial connects to addr and says what happened: "refused", or the index
// of the listener that accepted, the raw peer address it saw, and the
// peer as PeerAddr reports it, e.g. "0 ::ffff:127.0.0.1 127.0.0.1".
func dial(t *testing.T, ch <-chan accepted, network, addr string) string {
	t.Helper()
	c, err := net.Dial(network, addr)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "refused"
	}
	if err != nil {
		t.Fatalf("Dial(%s, %s) = %v", network, addr, err)
	}
	defer c.Close()
	a := <-ch // the handshake is complete, so an Accept returns it
	defer a.c.Close()
	if got, want := a.c.RemoteAddr().String(), c.LocalAddr().String(); !sameEndpoint(got, want) {
		t.Fatalf("accepted %s, want the connection from %s", got, want)
	}
	raw := a.c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
	return fmt.Sprintf("%d %s %s", a.i, raw, PeerAddr(a.c).Addr())
}

// sameEndpoint compares two "host:port" strings, unmapping IPv4.
func sameEndpoint(a, b string) bool {
	pa, ea := netip.ParseAddrPort(a)
	pb, eb := netip.ParseAddrPort(b)
	return ea == nil && eb == nil && pa.Addr().Unmap() == pb.Addr().Unmap() && pa.Port() == pb.Port()
}

func TestListenNetns(t *testing.T) {
	p := func(host string) string { return net.JoinHostPort(host, fmt.Sprint(nsPort)) }
	tests := []struct {
		name    string
		addrs   []string
		plan    []Socket // also the bound addresses, in order
		v6only  string   // getsockopt per listener
		reach   string   // Reach(plan)
		dial4   string   // dialing 127.0.0.1
		dial6   string   // dialing ::1
		logWant string
	}{
		{
			name:   "lone [::]",
			addrs:  []string{p("::")},
			plan:   []Socket{{"tcp6", p("::"), false}},
			v6only: "0", reach: "IPv4 and IPv6",
			dial4:   "0 ::ffff:127.0.0.1 127.0.0.1",
			dial6:   "0 ::1 ::1",
			logWant: `msg=listening addr=[::]:143 dualstack=true`,
		},
		{
			name:   "empty host",
			addrs:  []string{fmt.Sprintf(":%d", nsPort)},
			plan:   []Socket{{"tcp6", p("::"), false}},
			v6only: "0", reach: "IPv4 and IPv6",
			dial4: "0 ::ffff:127.0.0.1 127.0.0.1",
			dial6: "0 ::1 ::1",
		},
		{
			name:   "0.0.0.0 and [::]",
			addrs:  []string{p("0.0.0.0"), p("::")},
			plan:   []Socket{{"tcp4", p("0.0.0.0"), false}, {"tcp6", p("::"), true}},
			v6only: "- 1", reach: "IPv4 and IPv6",
			dial4:   "0 127.0.0.1 127.0.0.1",
			dial6:   "1 ::1 ::1",
			logWant: `msg=listening addr=[::]:143 dualstack=false`,
		},
		{
			name:   "[::] and 0.0.0.0",
			addrs:  []string{p("::"), p("0.0.0.0")},
			plan:   []Socket{{"tcp6", p("::"), true}, {"tcp4", p("0.0.0.0"), false}},
			v6only: "1 -", reach: "IPv4 and IPv6",
			dial4: "1 127.0.0.1 127.0.0.1",
			dial6: "0 ::1 ::1",
		},
		{
			name:   "127.0.0.1 and [::1]",
			addrs:  []string{p("127.0.0.1"), p("::1")},
			plan:   []Socket{{"tcp4", p("127.0.0.1"), false}, {"tcp6", p("::1"), true}},
			v6only: "- 1", reach: "IPv4 and IPv6",
			dial4: "0 127.0.0.1 127.0.0.1",
			dial6: "1 ::1 ::1",
		},
		{
			name:   "0.0.0.0 alone",
			addrs:  []string{p("0.0.0.0")},
			plan:   []Socket{{"tcp4", p("0.0.0.0"), false}},
			v6only: "-", reach: "IPv4 only",
			dial4: "0 127.0.0.1 127.0.0.1",
			dial6: "refused",
		},
		{
			name:   "[::1] alone",
			addrs:  []string{p("::1")},
			plan:   []Socket{{"tcp6", p("::1"), true}},
			v6only: "1", reach: "IPv6 only",
			dial4: "refused",
			dial6: "0 ::1 ::1",
		},
		{
			// The resolver sorts ::1 first (RFC 6724 §6).
			name:   "localhost",
			addrs:  []string{p("localhost")},
			plan:   []Socket{{"tcp6", p("::1"), true}, {"tcp4", p("127.0.0.1"), false}},
			v6only: "1 -", reach: "IPv4 and IPv6",
			dial4: "1 127.0.0.1 127.0.0.1",
			dial6: "0 ::1 ::1",
		},
		{
			name:   "service name and duplicates",
			addrs:  []string{"[::]:imap", p("::"), "[::ffff:0.0.0.0]:143"},
			plan:   []Socket{{"tcp6", p("::"), true}, {"tcp4", p("0.0.0.0"), false}},
			v6only: "1 -", reach: "IPv4 and IPv6",
			dial4: "1 127.0.0.1 127.0.0.1",
			dial6: "0 ::1 ::1",
		},
	}
	forEachBindV6Only(t, func(t *testing.T, _ string) {
		ctx := context.Background()
		for _, tt := range tests {
			plan, err := Plan(ctx, tt.addrs)
			if err != nil {
				t.Fatalf("%s: Plan(%q) = %v", tt.name, tt.addrs, err)
			}
			if !slices.Equal(plan, tt.plan) {
				t.Errorf("%s: Plan(%q) = %v, want %v", tt.name, tt.addrs, plan, tt.plan)
			}
			if got := Reach(plan).String(); got != tt.reach {
				t.Errorf("%s: Reach(Plan(%q)) = %s, want %s", tt.name, tt.addrs, got, tt.reach)
			}

			log, buf := testLogger()
			ls, err := Listen(ctx, tt.addrs, log)
			if err != nil {
				t.Fatalf("%s: Listen(%q) = %v", tt.name, tt.addrs, err)
			}
			var bound []Socket
			for _, l := range ls {
				a := l.Addr().(*net.TCPAddr)
				s := Socket{Network: "tcp6", Addr: a.String()}
				if a.IP.To4() != nil {
					s.Network = "tcp4"
				}
				bound = append(bound, s)
			}
			var planned []Socket
			for _, s := range tt.plan {
				planned = append(planned, Socket{Network: s.Network, Addr: s.Addr})
			}
			if !slices.Equal(bound, planned) {
				t.Errorf("%s: Listen(%q) bound %v, want %v", tt.name, tt.addrs, bound, planned)
			}
			if got := sockV6Only(t, ls); got != tt.v6only {
				t.Errorf("%s: Listen(%q) IPV6_V6ONLY = %s, want %s", tt.name, tt.addrs, got, tt.v6only)
			}
			ch := acceptAll(t, ls)
			if got := dial(t, ch, "tcp4", p("127.0.0.1")); got != tt.dial4 {
				t.Errorf("%s: Listen(%q), dial 127.0.0.1 = %s, want %s", tt.name, tt.addrs, got, tt.dial4)
			}
			if got := dial(t, ch, "tcp6", p("::1")); got != tt.dial6 {
				t.Errorf("%s: Listen(%q), dial ::1 = %s, want %s", tt.name, tt.addrs, got, tt.dial6)
			}
			if tt.logWant != "" && !strings.Contains(buf.String(), tt.logWant+"\n") {
				t.Errorf("%s: Listen(%q) log lacks %q:\n%s", tt.name, tt.addrs, tt.logWant, buf)
			}
			closeAll(ls)
		}
	})
}

// TestListenNetnsFallback forces the kernel's refusal of dual-stack: the
// lone [::] becomes an IPv6-only socket and an IPv4 one on the same port,
// both reached, with a log line saying so.
func TestListenNetnsFallback(t *testing.T) {
	forEachBindV6Only(t, func(t *testing.T, _ string) {
		log, buf := testLogger()
		b := binder{log: log, resolve: net.DefaultResolver.LookupNetIP, setV6Only: refuseDualStack}
		ls, err := b.listen(context.Background(), []string{fmt.Sprintf("[::]:%d", nsPort)})
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll(ls)
		var got []string
		for _, l := range ls {
			got = append(got, l.Addr().String())
		}
		if want := []string{"[::]:143", "0.0.0.0:143"}; !slices.Equal(got, want) {
			t.Fatalf("fallback bound %q, want %q", got, want)
		}
		if got := sockV6Only(t, ls); got != "1 -" {
			t.Errorf("fallback IPV6_V6ONLY = %s, want 1 -", got)
		}
		ch := acceptAll(t, ls)
		if got, want := dial(t, ch, "tcp4", "127.0.0.1:143"), "1 127.0.0.1 127.0.0.1"; got != want {
			t.Errorf("fallback: dial 127.0.0.1 = %s, want %s", got, want)
		}
		if got, want := dial(t, ch, "tcp6", "[::1]:143"), "0 ::1 ::1"; got != want {
			t.Errorf("fallback: dial ::1 = %s, want %s", got, want)
		}
		for _, line := range []string{
			`level=WARN msg="listen: dual-stack socket refused; using separate IPv4 and IPv6 sockets" addr=[::]:143 err="listen: listen tcp6 [::]:143: listen: dual-stack socket refused: protocol not available"`,
			`level=INFO msg=listening addr=[::]:143 dualstack=false`,
			`level=INFO msg=listening addr=0.0.0.0:143`,
		} {
			if !strings.Contains(buf.String(), line+"\n") {
				t.Errorf("fallback log lacks %q:\n%s", line, buf)
			}
		}
	})
}

// refuseDualStack is a setV6Only for a kernel that refuses IPV6_V6ONLY=0.
func refuseDualStack(fd uintptr, on bool) error {
	if !on {
		return syscall.ENOPROTOOPT
	}
	return setV6Only(fd, on)
}

func TestProbeDualStackNetns(t *testing.T) {
	forEachBindV6Only(t, func(t *testing.T, _ string) {
		ctx := context.Background()
		if err := ProbeDualStack(ctx); err != nil {
			t.Errorf("ProbeDualStack = %v, want nil", err)
		}
		err := probeDualStack(ctx, refuseDualStack)
		if !errors.Is(err, errNoDualStack) || !errors.Is(err, syscall.ENOPROTOOPT) {
			t.Errorf("probeDualStack(refusing) = %v, want errNoDualStack wrapping ENOPROTOOPT", err)
		}
	})
}
