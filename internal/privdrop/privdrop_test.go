package privdrop

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDropRefusesBadTargets(t *testing.T) {
	tests := []struct {
		target Target
		root   bool
	}{
		{Target{Name: "root", UID: 0, GID: 0}, true},
		{Target{Name: "toor", UID: 0, GID: 1000, Groups: []int{}}, true},
		{Target{Name: "x", UID: -1, GID: 1}, false},
		{Target{Name: "x", UID: 1, GID: -1}, false},
		{Target{Name: "x", UID: 1 << 32, GID: 1}, false},
		{Target{UID: 1000, GID: 1000}, false},                    // neither name nor groups
		{Target{UID: 1000, GID: 1000, Groups: []int{-5}}, false}, // bad group
		{Target{Name: "x", UID: 1000, GID: 1000, GroupFile: "testdata/nonexistent"}, false},
	}
	for _, tt := range tests {
		// Every case fails before any system call, so it is safe to run
		// in the test process itself, as root or not.
		err := Drop(tt.target)
		if err == nil {
			t.Fatalf("Drop(%+v) = nil, want an error (and the test process dropped!)", tt.target)
		}
		if got := errors.Is(err, ErrRoot); got != tt.root {
			t.Errorf("Drop(%+v) = %v; errors.Is(ErrRoot) = %v, want %v", tt.target, err, got, tt.root)
		}
	}
}

func TestGroupsOf(t *testing.T) {
	tests := []struct {
		user string
		gid  int
		want []int
	}{
		{"alice", 1000, []int{1000, 24, 29, 100}},
		{"alice", 24, []int{24, 29, 100}}, // the primary is not repeated
		{"bob", 1001, []int{1001, 29}},
		{"nobody", 65534, []int{65534}},
		{"ali", 1000, []int{1000}},   // members match whole names
		{"+alice", 5, []int{5}},      // compat lines are not groups
		{"carol", 1002, []int{1002}}, // only a malformed line lists carol
	}
	for _, tt := range tests {
		got, err := GroupsOf(tt.user, tt.gid, "testdata/group")
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("GroupsOf(%q, %d) = %v, %v; want %v, nil", tt.user, tt.gid, got, err, tt.want)
		}
	}
	if _, err := GroupsOf("alice", 1000, "testdata/nonexistent"); err == nil {
		t.Errorf("GroupsOf(missing file) = nil error, want one")
	}
}

func TestGroupsFromLongLine(t *testing.T) {
	file := "big:x:5:" + strings.Repeat("m,", maxGroupLine) + "alice\nsmall:x:6:alice\n"
	got, err := groupsFrom(strings.NewReader(file), "alice", 1)
	if want := []int{1, 6}; err != nil || !slices.Equal(got, want) {
		t.Errorf("groupsFrom(overlong line first) = %v, %v; want %v, nil", got, err, want)
	}
}

func TestParseGroupLine(t *testing.T) {
	tests := []struct {
		in      string
		want    groupEntry
		wantErr bool
	}{
		{in: "cdrom:x:24:alice", want: groupEntry{name: "cdrom", gid: 24, members: []string{"alice"}}},
		{in: "audio:x:29:alice,bob", want: groupEntry{name: "audio", gid: 29, members: []string{"alice", "bob"}}},
		{in: "empty:x:30:", want: groupEntry{name: "empty", gid: 30}},
		{in: "commas:x:31:,alice,,", want: groupEntry{name: "commas", gid: 31, members: []string{"alice"}}},
		{in: "bad:x:abc:alice", wantErr: true},
		{in: "bad:x:-1:alice", wantErr: true},
		{in: "bad:x:4294967295:alice", wantErr: true},
		{in: "bad:x:1", wantErr: true},
		{in: "bad:x:1:a:b", wantErr: true},
		{in: ":x:1:a", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseGroupLine(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && (got.name != tt.want.name || got.gid != tt.want.gid || !slices.Equal(got.members, tt.want.members))) {
			t.Errorf("parseGroupLine(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSameSet(t *testing.T) {
	tests := []struct {
		a, b []int
		want bool
	}{
		{[]int{1, 2}, []int{2, 1}, true},
		{[]int{1, 2, 2}, []int{2, 1}, true},
		{[]int{1}, []int{1, 2}, false},
		{nil, []int{}, true},
	}
	for _, tt := range tests {
		if got := sameSet(tt.a, tt.b); got != tt.want {
			t.Errorf("sameSet(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzParseGroupLine checks that a parsed line has a name, an id in range
// and members without separators.
func FuzzParseGroupLine(f *testing.F) {
	f.Add("cdrom:x:24:alice")
	f.Add("audio:x:29:alice,bob")
	f.Add("empty:x:30:")
	f.Add("bad:x:4294967295:alice")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseGroupLine(line)
		if err != nil {
			return
		}
		if e.name == "" || e.gid < 0 || e.gid > 1<<32-2 {
			t.Fatalf("parseGroupLine(%q) = %+v", line, e)
		}
		for _, m := range e.members {
			if m == "" || strings.ContainsAny(m, ",:") {
				t.Fatalf("parseGroupLine(%q) = %+v: bad member %q", line, e, m)
			}
		}
		// Whatever the file holds, the lookup keeps the primary first.
		gs, err := groupsFrom(strings.NewReader(line+"\n"), "alice", 7)
		if err != nil || len(gs) == 0 || gs[0] != 7 {
			t.Fatalf("groupsFrom(%q) = %v, %v", line, gs, err)
		}
	})
}
