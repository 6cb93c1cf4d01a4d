package daemon

import (
	"os"
	"syscall"
)

// DetachStderr points file descriptor 2 at /dev/null when it is a socket,
// as it is under inetd and xinetd: whatever the Go runtime prints there on a
// fatal error (a stack trace) would otherwise go to the client. Logs go to
// syslog or log_file instead (DESIGN.md §2 run mode 1).
func DetachStderr() error {
	if !StderrIsSocket() {
		return nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	return syscall.Dup3(int(null.Fd()), 2, 0)
}

// StderrIsSocket reports whether file descriptor 2 is a socket: under
// inetd and xinetd it is the client's connection, where nothing but the
// protocol may be written.
func StderrIsSocket() bool {
	var st syscall.Stat_t
	return syscall.Fstat(2, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFSOCK
}
