package netns

import (
	"fmt"
	"syscall"
	"unsafe"
)

// bindMount mounts file src over target; the mount namespace is private
// (unshare --propagation private), so the host never sees it.
func bindMount(src, target string) error {
	if err := syscall.Mount(src, target, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("netns: bind-mounting %s over %s: %w", src, target, err)
	}
	return nil
}

// ifreqFlags is struct ifreq (netdevice(7)) as SIOCGIFFLAGS/SIOCSIFFLAGS
// use it: the name, then a short of flags, padded to the union's size.
type ifreqFlags struct {
	name  [syscall.IFNAMSIZ]byte
	flags uint16
	_     [22]byte
}

// loopbackUp sets IFF_UP on lo, as `ip link set lo up` does, without
// depending on iproute2. The kernel then adds 127.0.0.1/8 and ::1.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: socket for ioctl: %w", err)
	}
	defer syscall.Close(fd)
	var req ifreqFlags
	copy(req.name[:], "lo")
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, &req); err != nil {
		return fmt.Errorf("netns: SIOCGIFFLAGS lo: %w", err)
	}
	req.flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, &req); err != nil {
		return fmt.Errorf("netns: SIOCSIFFLAGS lo up: %w", err)
	}
	return nil
}

func ioctl(fd int, req uintptr, r *ifreqFlags) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(r))); e != 0 {
		return e
	}
	return nil
}
