//go:build linux

package privdrop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The drop tests run in a child: the test binary re-executes itself with
// childEnv set, TestMain sees it, drops to the target, reports what the
// process became as JSON on stdout, and exits. A drop cannot be undone, so
// it must never happen in the process that runs the other tests.
const (
	childEnv  = "POSTERN_PRIVDROP_CHILD"  // JSON Target
	secretEnv = "POSTERN_PRIVDROP_SECRET" // a root-only 0600 file
	publicEnv = "POSTERN_PRIVDROP_PUBLIC" // a 0644 file in the same directory

	lockedThreads = 8 // goroutines the child parks on their own threads
)

// report is what the child found after Drop.
type report struct {
	DropErr          string
	UID, EUID, SUID  int
	GID, EGID, SGID  int
	Groups           []int
	CurUID, CurGID   int
	CurGroups        []int
	SetuidErr        string // setuid(0) after the drop
	SetgidErr        string
	SetgroupsErr     string
	SetreuidErr      string // setreuid(-1, 0)
	SecretErr        string // reading the 0600 root file
	PublicErr        string // reading the 0644 file: must succeed
	SecondDropErr    string // Drop again, to another user
	SecondDropIsRoot bool
	Threads          [][4]int // uids of every thread, read from /proc
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(child(spec))
	}
	os.Exit(m.Run())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func child(spec string) int {
	var t Target
	if err := json.Unmarshal([]byte(spec), &t); err != nil {
		fmt.Fprintln(os.Stderr, "child: bad target:", err)
		return 2
	}
	// Park goroutines on threads of their own first, so that the drop has
	// several threads to change.
	release := make(chan struct{})
	var parked sync.WaitGroup
	for range lockedThreads {
		parked.Add(1)
		go func() {
			runtime.LockOSThread()
			parked.Done()
			<-release
		}()
	}
	parked.Wait()
	defer close(release)

	var r report
	r.DropErr = errString(Drop(t))
	tasks, _ := os.ReadDir(taskDir)
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join(taskDir, task.Name(), "status"))
		if err != nil {
			continue
		}
		if ids, err := parseStatus(string(data)); err == nil {
			r.Threads = append(r.Threads, ids.uids)
		}
	}
	r.UID, r.EUID, r.SUID = unix.Getresuid()
	r.GID, r.EGID, r.SGID = unix.Getresgid()
	r.Groups, _ = syscall.Getgroups()
	r.CurUID, r.CurGID, r.CurGroups = Current()
	r.SetuidErr = errString(syscall.Setuid(0))
	r.SetgidErr = errString(syscall.Setgid(0))
	r.SetgroupsErr = errString(syscall.Setgroups([]int{0}))
	r.SetreuidErr = errString(syscall.Setreuid(-1, 0))
	_, err := os.ReadFile(os.Getenv(secretEnv))
	r.SecretErr = errString(err)
	_, err = os.ReadFile(os.Getenv(publicEnv))
	r.PublicErr = errString(err)
	second := Drop(Target{UID: t.UID + 1, GID: t.GID + 1, Groups: []int{}})
	r.SecondDropErr = errString(second)
	r.SecondDropIsRoot = errors.Is(second, ErrRoot)
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 2
	}
	return 0
}

// runChild drops to t in a child and returns its report.
func runChild(t *testing.T, target Target, secret, public string) report {
	t.Helper()
	spec, err := json.Marshal(target)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec), secretEnv+"="+secret, publicEnv+"="+public)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child for %+v: %v\n%s", target, err, out)
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("child for %+v: bad report %q: %v", target, out, err)
	}
	return r
}

// secretFiles makes a world-searchable directory holding a root-only
// 0600 file and a 0644 control file, so that a failed read after the drop
// can only be the file's own mode.
func secretFiles(t *testing.T) (secret, public string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "postern-privdrop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	secret, public = filepath.Join(dir, "secret"), filepath.Join(dir, "public")
	if err := os.WriteFile(secret, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, []byte("anyone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return secret, public
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestDrop(t *testing.T) {
	requireRoot(t)
	extraName, extraGID := addGroup(t)
	name, uid, gid := addUser(t, extraName)
	secret, public := secretFiles(t)

	tests := []struct {
		desc       string
		target     Target
		wantGroups []int
	}{
		{"groups from /etc/group", Target{Name: name, UID: uid, GID: gid}, []int{gid, extraGID}},
		{"explicit empty group list", Target{Name: name, UID: uid, GID: gid, Groups: []int{}}, []int{gid}},
		{"explicit list with the primary repeated", Target{UID: uid, GID: gid, Groups: []int{extraGID, gid, extraGID}}, []int{gid, extraGID}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := runChild(t, tt.target, secret, public)
			if r.DropErr != "" {
				t.Fatalf("Drop(%+v) = %s, want nil", tt.target, r.DropErr)
			}
			if r.UID != uid || r.EUID != uid || r.SUID != uid {
				t.Errorf("after Drop(%+v): uids %d/%d/%d, want %d", tt.target, r.UID, r.EUID, r.SUID, uid)
			}
			if r.GID != gid || r.EGID != gid || r.SGID != gid {
				t.Errorf("after Drop(%+v): gids %d/%d/%d, want %d", tt.target, r.GID, r.EGID, r.SGID, gid)
			}
			if got, want := sorted(r.Groups), sorted(tt.wantGroups); !slices.Equal(got, want) {
				t.Errorf("after Drop(%+v): groups %v, want %v", tt.target, got, want)
			}
			if r.CurUID != uid || r.CurGID != gid || !slices.Equal(sorted(r.CurGroups), sorted(tt.wantGroups)) {
				t.Errorf("Current() = %d, %d, %v; want %d, %d, %v", r.CurUID, r.CurGID, r.CurGroups, uid, gid, tt.wantGroups)
			}
			for what, e := range map[string]string{
				"setuid(0)":         r.SetuidErr,
				"setgid(0)":         r.SetgidErr,
				"setgroups([0])":    r.SetgroupsErr,
				"setreuid(-1, 0)":   r.SetreuidErr,
				"Drop to another":   r.SecondDropErr,
				"reading 0600 file": r.SecretErr,
			} {
				if e == "" {
					t.Errorf("after Drop(%+v): %s succeeded, want an error", tt.target, what)
				}
			}
			if r.SecretErr != "" && !errors.Is(errorFromString(r.SecretErr), os.ErrPermission) {
				t.Errorf("after Drop: reading the 0600 file: %s, want permission denied", r.SecretErr)
			}
			if len(r.Threads) <= lockedThreads {
				t.Errorf("after Drop: %d threads seen, want more than %d", len(r.Threads), lockedThreads)
			}
			for i, ids := range r.Threads {
				if ids != [4]int{uid, uid, uid, uid} {
					t.Errorf("after Drop: thread %d has uids %v, want all %d", i, ids, uid)
				}
			}
			if r.PublicErr != "" {
				t.Errorf("after Drop: reading the 0644 control file: %s, want nil", r.PublicErr)
			}
		})
	}
}

// errorFromString recognises the permission error in a child's report.
func errorFromString(s string) error {
	if len(s) >= len("permission denied") && s[len(s)-len("permission denied"):] == "permission denied" {
		return os.ErrPermission
	}
	return errors.New(s)
}

// TestDropErrorsBeforeChanging pins that a failed drop (here: the target's
// group file is missing, so nothing is changed) reports an error and
// leaves the process as it was.
func TestDropErrorsBeforeChanging(t *testing.T) {
	uid, gid, groups := Current()
	err := Drop(Target{Name: "nobody", UID: 65534, GID: 65534, GroupFile: "testdata/nonexistent"})
	if err == nil {
		t.Fatal("Drop with a missing group file = nil, want an error")
	}
	if u, g, gs := Current(); u != uid || g != gid || !slices.Equal(gs, groups) {
		t.Errorf("after a failed Drop: Current() = %d, %d, %v; want %d, %d, %v", u, g, gs, uid, gid, groups)
	}
}
