package systemd

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// States for Notify (sd_notify(3)). Several may be sent in one call,
// separated by newlines.
const (
	// Ready tells systemd start-up (or a reload) is complete: for
	// Type=notify units, the moment dependent units may start.
	Ready = "READY=1"
	// Stopping tells systemd the service is shutting down on request.
	Stopping = "STOPPING=1"
)

// envNotify names the datagram socket systemd listens on (sd_notify(3)).
const envNotify = "NOTIFY_SOCKET"

// Notify sends state ("READY=1", "STATUS=...", several separated by
// newlines) to the service manager, as sd_notify(3) does: one datagram to
// the AF_UNIX socket named by $NOTIFY_SOCKET, a leading '@' meaning the
// Linux abstract namespace. Without $NOTIFY_SOCKET (not started by
// systemd, or not Type=notify) it does nothing and returns nil. The
// variable is left set: a daemon notifies again on reload and stop.
func Notify(state string) error {
	addr := os.Getenv(envNotify)
	if addr == "" {
		return nil
	}
	// Go's net package maps a leading '@' to the abstract namespace
	// itself; anything but an absolute path or '@' (systemd 254's
	// "vsock:" addresses, say) is not supported here.
	if addr[0] != '/' && addr[0] != '@' {
		return fmt.Errorf("systemd: %s=%q: only absolute paths and @abstract names are supported", envNotify, addr)
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("systemd: %s: %w", envNotify, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("systemd: %s: %w", envNotify, err)
	}
	return nil
}

// Reloading is the state to send when a reload starts: "RELOADING=1" with
// MONOTONIC_USEC, the CLOCK_MONOTONIC time systemd >= 253 needs to match
// the notification to its own SIGHUP for Type=notify-reload units
// (sd_notify(3)). Send Ready when the reload is done.
func Reloading() string {
	if us, ok := monotonicUsec(); ok {
		return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatUint(us, 10)
	}
	return "RELOADING=1"
}

// Status is the STATUS= line systemctl status shows for the service. A
// newline would end the field early, so newlines become spaces.
func Status(text string) string {
	return "STATUS=" + strings.ReplaceAll(text, "\n", " ")
}
