// Package systemd speaks the two systemd protocols a service needs, written
// by hand from their manual pages so Postern links no libsystemd
// (DESIGN.md §2 run mode 4):
//
//   - socket activation, sd_listen_fds(3): the sockets systemd opened for
//     the service start at fd 3, described by LISTEN_PID, LISTEN_FDS and
//     LISTEN_FDNAMES;
//   - readiness notification, sd_notify(3): "READY=1", "RELOADING=1",
//     "STOPPING=1" and "STATUS=..." datagrams sent to $NOTIFY_SOCKET.
//
// It knows nothing of IMAP: which service a socket offers is the caller's
// decision.
package systemd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ListenFDsStart is the first file descriptor systemd passes
// (SD_LISTEN_FDS_START in sd_listen_fds(3)); fds 0-2 stay stdio.
const ListenFDsStart = 3

// maxFDs bounds LISTEN_FDS: systemd passes at most a few hundred sockets,
// and a huge number is a corrupt environment, not a reason to walk the
// whole descriptor table.
const maxFDs = 4096

// unknownName is what sd_listen_fds_with_names(3) reports for a socket
// without a FileDescriptorName=.
const unknownName = "unknown"

// The environment variables of socket activation (sd_listen_fds(3)).
const (
	envPID   = "LISTEN_PID"
	envFDs   = "LISTEN_FDS"
	envNames = "LISTEN_FDNAMES"
)

// File is one socket systemd passed to the service.
type File struct {
	// Fd is the socket, with FD_CLOEXEC set, named "fd N (NAME)" for
	// error messages. The caller owns it.
	Fd *os.File
	// Name is the socket unit's FileDescriptorName= for it (by default
	// the socket unit's name; "connection" for an Accept=yes connection),
	// or "unknown" when systemd gave none.
	Name string
}

// Files returns the sockets systemd passed to this process
// (sd_listen_fds_with_names(3) with unset_environment true): none when
// LISTEN_PID or LISTEN_FDS is unset or LISTEN_PID names another process
// (the variables were inherited, not meant for us). The three variables
// are unset in every case so that child processes do not take the
// sockets for theirs, and FD_CLOEXEC is set on each descriptor so they do
// not inherit them. A second call therefore returns nothing.
func Files() ([]File, error) {
	pid, fds, names := os.Getenv(envPID), os.Getenv(envFDs), os.Getenv(envNames)
	_, pidSet := os.LookupEnv(envPID)
	for _, v := range []string{envPID, envFDs, envNames} {
		os.Unsetenv(v)
	}
	if !pidSet {
		return nil, nil
	}
	n, fdNames, err := parseEnv(os.Getpid(), pid, fds, names)
	if err != nil || n == 0 {
		return nil, err
	}
	files := make([]File, 0, n)
	for i := range n {
		fd := ListenFDsStart + i
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			for _, f := range files {
				f.Fd.Close()
			}
			return nil, fmt.Errorf("systemd: fd %d of %s=%s: %w", fd, envFDs, fds, err)
		}
		syscall.CloseOnExec(fd)
		// The name is what errors about the socket show.
		files = append(files, File{Fd: os.NewFile(uintptr(fd), fmt.Sprintf("fd %d (%s)", fd, fdNames[i])), Name: fdNames[i]})
	}
	return files, nil
}

// parseEnv checks the activation variables against our pid and returns
// how many descriptors were passed and their names. A LISTEN_PID for
// another process, or no LISTEN_FDS, means none, as sd_listen_fds(3) says.
// LISTEN_FDNAMES may
// be absent or shorter than LISTEN_FDS (the missing names are "unknown"),
// but not longer.
func parseEnv(ourPID int, pid, fds, names string) (n int, fdNames []string, err error) {
	p, err := strconv.Atoi(pid)
	if err != nil || p <= 0 {
		return 0, nil, fmt.Errorf("systemd: %s=%q is not a process id", envPID, pid)
	}
	if p != ourPID || fds == "" {
		return 0, nil, nil
	}
	n, err = strconv.Atoi(fds)
	if err != nil || n < 0 {
		return 0, nil, fmt.Errorf("systemd: %s=%q is not a count of descriptors", envFDs, fds)
	}
	if n > maxFDs {
		return 0, nil, fmt.Errorf("systemd: %s=%q: more than %d descriptors", envFDs, fds, maxFDs)
	}
	var given []string
	if names != "" {
		given = strings.Split(names, ":")
	}
	if len(given) > n {
		return 0, nil, fmt.Errorf("systemd: %s=%q names %d descriptors but %s=%s", envNames, names, len(given), envFDs, fds)
	}
	fdNames = make([]string, n)
	for i := range fdNames {
		fdNames[i] = unknownName
		if i < len(given) && given[i] != "" {
			fdNames[i] = given[i]
		}
	}
	return n, fdNames, nil
}

// errNotListening and errListening tell a passed socket's kind apart from
// the one a caller wanted.
var (
	errNotListening = errors.New("not a listening socket")
	errListening    = errors.New("a listening socket, not a connection")
)

// Listener turns a socket passed for an Accept=no unit into a listener.
// It fails, naming the fd, unless the socket is listening: a connected
// socket would make net.FileListener succeed and Accept fail later. The
// File is closed (the listener holds its own duplicate).
func (f File) Listener() (net.Listener, error) {
	defer f.Fd.Close()
	if err := checkListening(f, true); err != nil {
		return nil, err
	}
	l, err := net.FileListener(f.Fd)
	if err != nil {
		return nil, fmt.Errorf("systemd: %s: %w", f.Fd.Name(), err)
	}
	return l, nil
}

// Conn turns the socket passed for an Accept=yes unit into a connection.
// It fails, naming the fd, if the socket is listening. The File is closed
// (the connection holds its own duplicate).
func (f File) Conn() (net.Conn, error) {
	defer f.Fd.Close()
	if err := checkListening(f, false); err != nil {
		return nil, err
	}
	c, err := net.FileConn(f.Fd)
	if err != nil {
		return nil, fmt.Errorf("systemd: %s: %w", f.Fd.Name(), err)
	}
	return c, nil
}

// checkListening compares the socket's SO_ACCEPTCONN with want.
func checkListening(f File, want bool) error {
	rc, err := f.Fd.SyscallConn()
	if err != nil {
		return fmt.Errorf("systemd: %s: %w", f.Fd.Name(), err)
	}
	var acc int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		acc, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	}); err != nil {
		serr = err
	}
	if serr != nil {
		return fmt.Errorf("systemd: %s: not a socket: %w", f.Fd.Name(), serr)
	}
	switch {
	case want && acc == 0:
		return fmt.Errorf("systemd: %s: %w", f.Fd.Name(), errNotListening)
	case !want && acc != 0:
		return fmt.Errorf("systemd: %s: %w", f.Fd.Name(), errListening)
	}
	return nil
}
