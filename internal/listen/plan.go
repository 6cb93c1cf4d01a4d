package listen

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
)

// Socket is one socket Listen would open for a set of addresses: what
// `postern check` shows before anything is bound.
type Socket struct {
	// Network is "tcp4" or "tcp6".
	Network string
	// Addr is the address to bind, "host:port" with a numeric port.
	Addr string
	// V6Only is the IPV6_V6ONLY value (RFC 3493 §5.3) Listen sets on a
	// tcp6 socket; always false for tcp4. A wildcard tcp6 socket with
	// V6Only false is dual-stack.
	V6Only bool
}

// Families is a set of address families that reach a socket.
type Families uint8

// The address families.
const (
	IPv4 Families = 1 << iota
	IPv6
)

// String names the set as `postern check` prints it.
func (f Families) String() string {
	switch f {
	case IPv4 | IPv6:
		return "IPv4 and IPv6"
	case IPv4:
		return "IPv4 only"
	case IPv6:
		return "IPv6 only"
	}
	return "no address family"
}

// Families reports which families' clients can connect to s: IPv4 on a
// tcp4 socket, IPv6 on a tcp6 one, and both on a dual-stack [::] socket,
// where IPv4 clients arrive as IPv4-mapped addresses (RFC 4291 §2.5.5.2).
func (s Socket) Families() Families {
	if s.Network == "tcp4" {
		return IPv4
	}
	if ap, err := netip.ParseAddrPort(s.Addr); err == nil && ap.Addr().IsUnspecified() && !s.V6Only {
		return IPv4 | IPv6
	}
	return IPv6
}

// Reach is the union of the families that reach any of socks.
func Reach(socks []Socket) Families {
	var f Families
	for _, s := range socks {
		f |= s.Families()
	}
	return f
}

// Plan returns the sockets Listen(ctx, addrs, log) would open, in the same
// order, without binding anything: host names are resolved and the
// dual-stack rules of the package comment applied. It does not know
// whether the kernel will refuse dual-stack (then Listen falls back to two
// sockets); ProbeDualStack tells.
func Plan(ctx context.Context, addrs []string) ([]Socket, error) {
	b := binder{setV6Only: setV6Only, resolve: net.DefaultResolver.LookupNetIP}
	eps, err := b.plan(ctx, addrs)
	if err != nil {
		return nil, err
	}
	socks := make([]Socket, len(eps))
	for i, ep := range eps {
		socks[i] = ep.socket()
	}
	return socks, nil
}

// socket describes ep as bind opens it.
func (ep endpoint) socket() Socket {
	s := Socket{Network: "tcp6", Addr: net.JoinHostPort(ep.addr.String(), ep.port), V6Only: !ep.dualStack}
	if ep.addr.Is4() {
		s.Network, s.V6Only = "tcp4", false
	}
	return s
}

// ProbeDualStack opens and closes a socket on [::] with IPV6_V6ONLY=0 and
// an ephemeral port, to tell whether the kernel accepts dual-stack sockets
// (it may not: IPv6 disabled, or a BSD with net.inet6.ip6.v6only locked).
// It returns nil when it does.
func ProbeDualStack(ctx context.Context) error {
	return probeDualStack(ctx, setV6Only)
}

func probeDualStack(ctx context.Context, set func(fd uintptr, on bool) error) error {
	b := binder{setV6Only: set, log: slog.New(slog.DiscardHandler)}
	l, err := b.bind(ctx, "tcp6", netip.IPv6Unspecified(), "0", false)
	if err != nil {
		return err
	}
	return l.Close()
}
