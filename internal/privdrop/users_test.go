package privdrop

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// requireRoot fails the test with a clear message unless it runs as root,
// or skips it when POSTERN_SKIP_PROGRAMS=1: these tests create system
// users and change the uid of a child process.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
			t.Skip("not root and POSTERN_SKIP_PROGRAMS=1: skipping the privilege drop test")
		}
		t.Fatal("this test must run as root (it creates users with useradd and drops privileges in a child); set POSTERN_SKIP_PROGRAMS=1 to skip it")
	}
	for _, prog := range []string{"useradd", "userdel", "groupadd", "groupdel"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s not found (package passwd): %v", prog, err)
		}
	}
}

// testName returns a fresh name with the postern-t- prefix the test
// users and groups share, short enough for useradd (32 bytes).
func testName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "postern-t-" + hex.EncodeToString(b)
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// addGroup creates a system group and removes it at cleanup.
func addGroup(t *testing.T) (name string, gid int) {
	t.Helper()
	name = testName(t)
	run(t, "groupadd", "--system", name)
	t.Cleanup(func() { exec.Command("groupdel", name).Run() })
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, err = strconv.Atoi(g.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return name, gid
}

// addUser creates a system user with its own group, no home and no login
// shell, member of the given extra groups, and removes it at cleanup.
func addUser(t *testing.T, groups ...string) (name string, uid, gid int) {
	t.Helper()
	name = testName(t)
	args := []string{"--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group"}
	if len(groups) > 0 {
		args = append(args, "--groups", strings.Join(groups, ","))
	}
	run(t, "useradd", append(args, name)...)
	// userdel removes the user's own group too (USERGROUPS_ENAB).
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		t.Fatal(err)
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		t.Fatal(err)
	}
	return name, uid, gid
}
