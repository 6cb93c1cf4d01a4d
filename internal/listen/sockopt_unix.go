//go:build unix

package listen

import "syscall"

// setV6Only sets IPV6_V6ONLY (RFC 3493 §5.3) on a socket before bind.
func setV6Only(fd uintptr, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, v)
}
