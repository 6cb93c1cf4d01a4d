package privdrop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultGroupFile is the group(5) file Drop reads supplementary groups
// from.
const DefaultGroupFile = "/etc/group"

// maxGroupLine bounds one group(5) line; a group with thousands of
// members can be long, so this is generous. Longer lines are skipped.
const maxGroupLine = 1 << 20

// groupEntry is one line of group(5):
//
//	name:password:GID:member,member,...
type groupEntry struct {
	name    string
	gid     int
	members []string
}

// parseGroupLine parses one group(5) line, without its newline.
func parseGroupLine(line string) (groupEntry, error) {
	f := strings.Split(line, ":")
	if len(f) != 4 {
		return groupEntry{}, fmt.Errorf("privdrop: group line has %d fields, want 4", len(f))
	}
	if f[0] == "" {
		return groupEntry{}, errors.New("privdrop: group line has an empty name")
	}
	gid, err := parseID(f[2])
	if err != nil {
		return groupEntry{}, fmt.Errorf("privdrop: group %q: %w", f[0], err)
	}
	e := groupEntry{name: f[0], gid: gid}
	for m := range strings.SplitSeq(f[3], ",") {
		if m != "" {
			e.members = append(e.members, m)
		}
	}
	return e, nil
}

// parseID parses a decimal gid, 0 to 2^32-2 (2^32-1 is (gid_t)-1).
func parseID(s string) (int, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("bad id %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("bad id %q", s)
	}
	return int(n), nil
}

// GroupsOf returns the group list initgroups(3) would give user: gid
// first, then the GID of every group in the group(5) file at path (""
// means DefaultGroupFile) that lists user as a member, in file order,
// without duplicates. Malformed lines, NIS compat ("+"/"-") lines and
// comments are skipped, as glibc skips them; an unreadable file is an
// error, since dropping to fewer groups than the user has would be a
// silent surprise.
func GroupsOf(user string, gid int, path string) ([]int, error) {
	if path == "" {
		path = DefaultGroupFile
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("privdrop: %w", err)
	}
	defer f.Close()
	groups, err := groupsFrom(f, user, gid)
	if err != nil {
		return nil, fmt.Errorf("privdrop: reading %s: %w", path, err)
	}
	return groups, nil
}

func groupsFrom(r io.Reader, user string, gid int) ([]int, error) {
	groups := []int{gid}
	br := bufio.NewReaderSize(r, maxGroupLine)
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of an overlong line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return groups, nil
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		line := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if line != "" && line[0] != '#' && line[0] != '+' && line[0] != '-' {
			if e, perr := parseGroupLine(line); perr == nil && slices.Contains(e.members, user) && !slices.Contains(groups, e.gid) {
				groups = append(groups, e.gid)
			}
		}
		if err == io.EOF {
			return groups, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
