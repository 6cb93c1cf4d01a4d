// Package privdrop turns a root process into one user for good: the
// inetd-mode server calls Drop after a system account logged in and
// before any of that user's files is opened (DESIGN.md §2, "Privileges"),
// so that a compromised session holds only its user's rights.
//
// Drop does what login(1) and UW imapd do (initgroups, setgid, setuid)
// and then checks the result instead of trusting it: real, effective and
// saved ids, the group list, no capability left, and root not regainable.
package privdrop

import (
	"errors"
	"fmt"
	"slices"
)

// Target is the user to become.
type Target struct {
	// Name is the user name whose supplementary groups are looked up in
	// GroupFile, as initgroups(3) does. It may be "" when Groups is set.
	Name string
	// UID and GID are the numeric ids to take. UID 0 is refused.
	UID, GID int
	// Groups, when non-nil, is the exact supplementary group list to set
	// (GID is added first if missing), and GroupFile is not read. Nil
	// means GroupsOf(Name, GID, GroupFile).
	Groups []int
	// GroupFile is the group(5) file. Empty means DefaultGroupFile.
	GroupFile string
}

// ErrRoot is returned for a target with UID 0: dropping to root is no
// drop, and DESIGN.md §5 forbids serving root at all.
var ErrRoot = errors.New("privdrop: refusing to run as uid 0")

// groups returns the full group list of t: GID first, then the others,
// without duplicates.
func (t Target) groups() ([]int, error) {
	if t.Groups == nil {
		if t.Name == "" {
			return nil, errors.New("privdrop: target has neither a name nor a group list")
		}
		return GroupsOf(t.Name, t.GID, t.GroupFile)
	}
	gs := []int{t.GID}
	for _, g := range t.Groups {
		if g < 0 {
			return nil, fmt.Errorf("privdrop: bad group id %d", g)
		}
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// check validates t before anything is changed.
func (t Target) check() error {
	if t.UID == 0 {
		return ErrRoot
	}
	if t.UID < 0 || t.GID < 0 || t.UID > 1<<32-2 || t.GID > 1<<32-2 {
		return fmt.Errorf("privdrop: bad target uid %d gid %d", t.UID, t.GID)
	}
	return nil
}

// sameSet reports whether a and b hold the same ids, ignoring order and
// repeats (getgroups(2) may return the list in any order).
func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
