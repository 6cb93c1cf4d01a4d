// Package listen opens the sockets a standalone server accepts on, and
// gives protocol-neutral facts about a connection's peer. Dual-stack
// behaviour is always set explicitly, never left to the OS default
// (Linux net.ipv6.bindv6only, BSD net.inet6.ip6.v6only; RFC 3493 §5.3
// IPV6_V6ONLY), per DESIGN.md §2:
//
//   - a lone "[::]:p" (or ":p") is one socket with IPV6_V6ONLY=0, which also
//     accepts IPv4 as IPv4-mapped addresses (RFC 4291 §2.5.5.2);
//   - "0.0.0.0:p" and "[::]:p" together are two sockets, the IPv6 one with
//     IPV6_V6ONLY=1;
//   - if the kernel refuses dual-stack, the lone "[::]:p" falls back to two
//     sockets, and says so in the log.
//
// Run modes (inetd, stdio, systemd) come later.
package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"syscall"
)

// errNoDualStack marks a failure to turn IPV6_V6ONLY off.
var errNoDualStack = errors.New("listen: dual-stack socket refused")

// Listen binds every address in addrs ("host:port"; host an IP literal, a
// name resolved now to all its addresses, or empty for all addresses) and
// logs each bound address. On any failure it closes what it opened and
// returns the error.
func Listen(ctx context.Context, addrs []string, log *slog.Logger) ([]net.Listener, error) {
	b := binder{log: log, setV6Only: setV6Only, resolve: net.DefaultResolver.LookupNetIP}
	return b.listen(ctx, addrs)
}

// binder holds Listen's dependencies, replaced in tests.
type binder struct {
	log       *slog.Logger
	setV6Only func(fd uintptr, on bool) error
	resolve   func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// endpoint is one socket to open.
type endpoint struct {
	addr      netip.Addr
	port      string
	dualStack bool // [::] with IPV6_V6ONLY=0
}

func (b binder) listen(ctx context.Context, addrs []string) (ls []net.Listener, err error) {
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	eps, err := b.plan(ctx, addrs)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			ls = nil
		}
	}()
	for _, ep := range eps {
		opened, err := b.open(ctx, ep)
		ls = append(ls, opened...)
		if err != nil {
			return ls, err
		}
	}
	return ls, nil
}

// plan turns the configured addresses into endpoints, deciding which
// wildcard IPv6 sockets are dual-stack.
func (b binder) plan(ctx context.Context, addrs []string) ([]endpoint, error) {
	var eps []endpoint
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
		// Numeric, so that "imaps" and "993" pair up below.
		pn, err := net.LookupPort("tcp", port)
		if err != nil {
			return nil, fmt.Errorf("listen: %q: %w", a, err)
		}
		port = strconv.Itoa(pn)
		var ips []netip.Addr
		switch ip, err := netip.ParseAddr(host); {
		case host == "":
			ips = []netip.Addr{netip.IPv6Unspecified()}
		case err == nil:
			ips = []netip.Addr{ip}
		default:
			if ips, err = b.resolve(ctx, "ip", host); err != nil {
				return nil, fmt.Errorf("listen: %q: %w", a, err)
			}
		}
		for _, ip := range ips {
			ep := endpoint{addr: ip.Unmap(), port: port}
			if !slices.Contains(eps, ep) {
				eps = append(eps, ep)
			}
		}
	}
	for i, ep := range eps {
		if ep.addr == netip.IPv6Unspecified() {
			eps[i].dualStack = !slices.Contains(eps, endpoint{addr: netip.IPv4Unspecified(), port: ep.port})
		}
	}
	return eps, nil
}

// open binds one endpoint, or two when a dual-stack socket is refused.
func (b binder) open(ctx context.Context, ep endpoint) ([]net.Listener, error) {
	if ep.addr.Is4() {
		l, err := b.bind(ctx, "tcp4", ep.addr, ep.port, false)
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	l, err := b.bind(ctx, "tcp6", ep.addr, ep.port, !ep.dualStack)
	if err == nil || !ep.dualStack {
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	if !errors.Is(err, errNoDualStack) && !errors.Is(err, syscall.EAFNOSUPPORT) {
		return nil, err
	}

	// Fallback: an IPv6-only socket (if IPv6 works at all) and an IPv4
	// one on the same port.
	b.log.Warn("listen: dual-stack socket refused; using separate IPv4 and IPv6 sockets", "addr", net.JoinHostPort("::", ep.port), "err", err)
	var ls []net.Listener
	port := ep.port
	l6, err6 := b.bind(ctx, "tcp6", ep.addr, port, true)
	if err6 == nil {
		ls = append(ls, l6)
		port = fmt.Sprint(l6.Addr().(*net.TCPAddr).Port) // same port for both when port was 0
	} else {
		b.log.Warn("listen: no IPv6; listening on IPv4 only", "addr", net.JoinHostPort("::", ep.port), "err", err6)
	}
	l4, err := b.bind(ctx, "tcp4", netip.IPv4Unspecified(), port, false)
	if err != nil {
		return ls, err
	}
	return append(ls, l4), nil
}

// bind opens one socket. For tcp6 IPV6_V6ONLY is set to v6only explicitly.
func (b binder) bind(ctx context.Context, network string, ip netip.Addr, port string, v6only bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if network == "tcp6" {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) { serr = b.setV6Only(fd, v6only) }); err != nil {
				return err
			}
			if serr != nil && !v6only {
				return fmt.Errorf("%w: %w", errNoDualStack, serr)
			}
			return serr
		}
	}
	addr := net.JoinHostPort(ip.String(), port)
	l, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	attrs := []any{"addr", l.Addr().String()}
	if network == "tcp6" && ip.IsUnspecified() {
		attrs = append(attrs, "dualstack", !v6only)
	}
	b.log.Info("listening", attrs...)
	return l, nil
}
