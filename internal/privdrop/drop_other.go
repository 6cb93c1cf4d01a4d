//go:build !linux

package privdrop

import (
	"errors"
	"syscall"
)

// Drop is only implemented on Linux, where the result is verified with
// getresuid(2) and capget(2); elsewhere it refuses, so that a server
// never runs believing it dropped.
func Drop(t Target) error {
	if err := t.check(); err != nil {
		return err
	}
	return errors.New("privdrop: not supported on this system")
}

// Current reports the process's effective uid and gid and its
// supplementary groups. groups is nil if getgroups fails.
func Current() (uid, gid int, groups []int) {
	groups, err := syscall.Getgroups()
	if err != nil {
		groups = nil
	}
	return syscall.Geteuid(), syscall.Getegid(), groups
}
