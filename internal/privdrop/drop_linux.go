package privdrop

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Drop makes the process user t for good: setgroups to t's groups (see
// Target.Groups), setgid, then setuid, in that order since the group
// calls need root. Since Go 1.16 these apply to every thread of the
// process on Linux, so no goroutine keeps root.
//
// It then verifies, and returns an error if any check fails:
//   - real, effective and saved uid and gid are t's (getresuid(2),
//     getresgid(2)), so no saved id can bring root back;
//   - getgroups(2) is exactly the group list;
//   - no capability is left in the permitted or effective set;
//   - every thread listed in /proc/self/task shows the same (the
//     credentials the kernel checks are per thread);
//   - setuid(0), setgid(0) and setgroups([0]) fail.
//
// An error after the first system call leaves the process in an unknown
// state: the caller must exit without serving anything.
func Drop(t Target) error {
	if err := t.check(); err != nil {
		return err
	}
	groups, err := t.groups()
	if err != nil {
		return err
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("privdrop: setgroups %v: %w", groups, err)
	}
	if err := syscall.Setgid(t.GID); err != nil {
		return fmt.Errorf("privdrop: setgid %d: %w", t.GID, err)
	}
	if err := syscall.Setuid(t.UID); err != nil {
		return fmt.Errorf("privdrop: setuid %d: %w", t.UID, err)
	}
	return verify(t, groups)
}

// verify checks that the process is t with groups and cannot go back.
func verify(t Target, groups []int) error {
	if r, e, s := unix.Getresuid(); r != t.UID || e != t.UID || s != t.UID {
		return fmt.Errorf("privdrop: uids are %d/%d/%d (real/effective/saved) after the drop, want %d", r, e, s, t.UID)
	}
	if r, e, s := unix.Getresgid(); r != t.GID || e != t.GID || s != t.GID {
		return fmt.Errorf("privdrop: gids are %d/%d/%d (real/effective/saved) after the drop, want %d", r, e, s, t.GID)
	}
	got, err := syscall.Getgroups()
	if err != nil {
		return fmt.Errorf("privdrop: getgroups: %w", err)
	}
	if !sameSet(got, groups) {
		return fmt.Errorf("privdrop: groups are %v after the drop, want %v", got, groups)
	}
	if err := noCapabilities(); err != nil {
		return err
	}
	if err := verifyThreads(t, groups); err != nil {
		return err
	}
	// The real test: try to take root back. Each success is a failed drop.
	if err := syscall.Setuid(0); err == nil {
		return errors.New("privdrop: setuid(0) succeeded after the drop")
	}
	if err := syscall.Setgid(0); err == nil {
		return errors.New("privdrop: setgid(0) succeeded after the drop")
	}
	if err := syscall.Setgroups([]int{0}); err == nil {
		return errors.New("privdrop: setgroups([0]) succeeded after the drop")
	}
	return nil
}

// noCapabilities checks that the permitted and effective capability sets
// are empty, as the kernel makes them when all uids leave 0 (unless
// SECBIT_KEEP_CAPS was set, which this catches).
func noCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3 holds 64 bits in two words
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("privdrop: capget: %w", err)
	}
	for i, d := range data {
		if d.Effective != 0 || d.Permitted != 0 {
			return fmt.Errorf("privdrop: capabilities left after the drop (word %d: effective %#x, permitted %#x)", i, d.Effective, d.Permitted)
		}
	}
	return nil
}

// Current reports the process's effective uid and gid and its
// supplementary groups, for logs and tests. groups is nil if getgroups
// fails.
func Current() (uid, gid int, groups []int) {
	groups, err := syscall.Getgroups()
	if err != nil {
		groups = nil
	}
	return syscall.Geteuid(), syscall.Getegid(), groups
}
