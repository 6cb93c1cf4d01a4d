package listen

import (
	"net"
	"net/netip"
)

// PeerAddr returns c's remote address with IPv4-mapped IPv6 addresses
// unmapped (::ffff:192.0.2.1 -> 192.0.2.1), as logs, limits and allow
// lists want them (DESIGN.md §2). It is the zero AddrPort when c's peer is
// not an IP endpoint (a pipe, a Unix socket).
func PeerAddr(c net.Conn) netip.AddrPort {
	if c == nil {
		return netip.AddrPort{}
	}
	return unmapped(c.RemoteAddr())
}

// LocalAddr is PeerAddr for c's local end: the address and port the client
// connected to (which port decides implicit TLS in inetd mode).
func LocalAddr(c net.Conn) netip.AddrPort {
	if c == nil {
		return netip.AddrPort{}
	}
	return unmapped(c.LocalAddr())
}

// IsLoopback reports whether c's peer is on a loopback address (127/8,
// ::1, or either IPv4-mapped), where plaintext passwords may be allowed
// without TLS (DESIGN.md §5). A non-IP peer gives false: the caller decides
// about pipes.
func IsLoopback(c net.Conn) bool {
	return PeerAddr(c).Addr().IsLoopback()
}

func unmapped(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case nil:
		return ap
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		var err error
		if ap, err = netip.ParseAddrPort(a.String()); err != nil {
			return netip.AddrPort{}
		}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
