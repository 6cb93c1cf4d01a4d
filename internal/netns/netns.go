// Package netns runs a test inside a private Linux network namespace (and
// mount namespace), so that it can bind wildcard addresses, change
// per-namespace sysctls such as net.ipv6.bindv6only, and replace files such
// as /etc/services without touching the host. It is for tests only.
//
// A test re-executes itself: in the parent process Run starts the current
// test binary again under `unshare --net --mount --fork`, limited to that one
// test, streams the child's output into the test's log and fails the test
// when the child fails. In the child, Inside reports true and the test does
// its work:
//
//	func TestDualStack(t *testing.T) {
//		if !netns.Inside() {
//			netns.Run(t, t.Name(), map[string]string{"/etc/services": "testdata/services"})
//			return
//		}
//		netns.SetSysctl(t, "net/ipv6/bindv6only", "1")
//		// ... bind [::]:143, dial 127.0.0.1 and ::1 ...
//	}
//
// Subtests work the same way (t.Name() is "TestX/sub"; only that subtest
// runs in the child).
//
// Before any test runs, the child (this package's init, when the
// environment says it is a netns child) checks that its network and mount
// namespaces really differ from the parent's, bind-mounts each requested
// file and brings the loopback interface up, with 127.0.0.1 and ::1 on it.
// Nothing else is reachable from inside: no other interface exists.
//
// Run needs root and util-linux's unshare(1). Without them the test fails
// with a message saying so, or is skipped when POSTERN_SKIP_PROGRAMS=1 (the
// switch the integration tests use for missing programs).
package netns

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// Environment variables passed from the parent to the child.
const (
	// EnvInside is set to "1" in the child. Inside also checks that the
	// namespaces really are private, so setting it by hand grants nothing.
	EnvInside = "POSTERN_IN_NETNS"

	envMounts = "POSTERN_NETNS_MOUNTS" // JSON: target -> absolute source
	envParent = "POSTERN_NETNS_PARENT" // JSON: the parent's namespace ids
	envSkip   = "POSTERN_SKIP_PROGRAMS"
)

// Inside reports whether this process is a child started by Run, running in
// its own network and mount namespaces, with the setup done. It is false in
// an ordinary test process, and false if POSTERN_IN_NETNS is set but the
// namespaces are the host's (the child then exits with an error first).
func Inside() bool {
	return inside
}

// inside is set once by init in a verified child; read-only afterwards.
var inside bool

// Run runs the test called name (t.Name() normally; "TestX/sub" for a
// subtest) in a new process in private network and mount namespaces, and
// waits for it. Each line the child prints goes to t's log. Run fails t if
// the child fails or runs no test of that name, and skips t if the child
// skipped it.
//
// mounts maps a target path (a file that exists, such as /etc/services) to
// the source file bind-mounted over it inside the child; a relative source
// is taken from the current directory (the package directory under go
// test). The host's files are never changed. mounts may be nil.
//
// Calling Run from inside the namespace fails t: guard it with Inside.
func Run(t testing.TB, name string, mounts map[string]string) {
	t.Helper()
	if Inside() {
		t.Fatalf("netns: Run(%q) called inside the namespace; guard it with netns.Inside()", name)
	}
	if err := usable(); err != nil {
		if os.Getenv(envSkip) == "1" {
			t.Skipf("%v (skipped: %s=1)", err, envSkip)
		}
		t.Fatalf("%v (or set %s=1 to skip)", err, envSkip)
	}
	c, err := command(t.Context(), name, mounts, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runChild(c, name, func(line string) { t.Logf("child: %s", line) })
	if err != nil {
		t.Fatal(err)
	}
	if res == resultSkip {
		t.Skipf("netns: %s skipped inside the namespace (see log)", name)
	}
}

// usable says why Run cannot work here, or nil.
func usable() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("netns: network namespaces need Linux, not %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("netns: a private network namespace needs root (uid %d here)", os.Geteuid())
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return fmt.Errorf("netns: unshare(1) from util-linux is needed: %w", err)
	}
	return nil
}

// Pattern returns the -test.run pattern that selects exactly the test (or
// subtest) called name: each level anchored and quoted.
func Pattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// command builds the unshare command line that re-runs test name; extraEnv
// is appended to the environment (used by this package's own tests).
func command(ctx context.Context, name string, mounts map[string]string, extraEnv []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("netns: finding the test binary: %w", err)
	}
	abs := make(map[string]string, len(mounts))
	for target, src := range mounts {
		if !filepath.IsAbs(target) {
			return nil, fmt.Errorf("netns: mount target %q is not an absolute path", target)
		}
		a, err := filepath.Abs(src)
		if err != nil {
			return nil, fmt.Errorf("netns: mount source %q: %w", src, err)
		}
		if _, err := os.Stat(a); err != nil {
			return nil, fmt.Errorf("netns: mount source: %w", err)
		}
		abs[target] = a
	}
	mj, err := json.Marshal(abs)
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	ids, err := namespaceIDs()
	if err != nil {
		return nil, err
	}
	pj, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	args := []string{"--net", "--mount", "--propagation", "private", "--fork", "--",
		exe, "-test.run", Pattern(name), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	c := exec.CommandContext(ctx, "unshare", args...)
	c.Env = append(os.Environ(), EnvInside+"=1", envMounts+"="+string(mj), envParent+"="+string(pj))
	c.Env = append(c.Env, extraEnv...)
	return c, nil
}

// result is how the child's run of the test ended.
type result int

const (
	resultPass result = iota
	resultSkip
)

// runChild starts c, hands each output line (stdout and stderr together)
// to logf, and waits. It returns an error when the child exits non-zero
// or never ran test name.
func runChild(c *exec.Cmd, name string, logf func(string)) (result, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("netns: %w", err)
	}
	c.Stdout, c.Stderr = pw, pw
	if err := c.Start(); err != nil {
		pr.Close()
		pw.Close()
		return 0, fmt.Errorf("netns: starting %s: %w", c.Path, err)
	}
	pw.Close() // the child holds its own copy; EOF comes when it exits

	ran, skipped := false, false
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		logf(line)
		switch {
		case strings.TrimSpace(line) == "=== RUN   "+name:
			ran = true
		case strings.HasPrefix(strings.TrimSpace(line), "--- SKIP: "+name+" "):
			skipped = true
		}
	}
	// Drain in case the scanner stopped on an over-long line.
	io.Copy(io.Discard, pr)
	pr.Close()
	if err := c.Wait(); err != nil {
		return 0, fmt.Errorf("netns: %s failed inside the namespace: %w", name, err)
	}
	if !ran {
		return 0, fmt.Errorf("netns: the child ran no test named %q (pattern %s)", name, Pattern(name))
	}
	if skipped {
		return resultSkip, nil
	}
	return resultPass, nil
}

// SetSysctl writes value to /proc/sys/NAME (name as "net/ipv6/bindv6only")
// inside the namespace and restores the old value when t ends. It fails t
// outside the namespace, and for names outside net/, since only network
// sysctls are private to a network namespace and the host's must never
// change under a test.
func SetSysctl(t testing.TB, name, value string) {
	t.Helper()
	if !Inside() {
		t.Fatalf("netns: SetSysctl(%q) outside a private network namespace would change the host", name)
	}
	if !strings.HasPrefix(name, "net/") || strings.Contains(name, "..") {
		t.Fatalf("netns: SetSysctl(%q): only net/... sysctls are private to the namespace", name)
	}
	p := filepath.Join("/proc/sys", name)
	old, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	if err := os.WriteFile(p, []byte(value+"\n"), 0); err != nil {
		t.Fatalf("netns: setting %s=%s: %v", name, value, err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	if strings.TrimSpace(string(got)) != value {
		t.Fatalf("netns: %s = %q after writing %q", name, strings.TrimSpace(string(got)), value)
	}
	t.Cleanup(func() { os.WriteFile(p, old, 0) })
}

// Sysctl reads /proc/sys/NAME ("net/ipv6/bindv6only"), without the newline.
func Sysctl(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", name))
	if err != nil {
		return "", fmt.Errorf("netns: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// namespaceIDs returns this process's network and mount namespace ids
// (the /proc/self/ns links, as "net:[4026531840]").
func namespaceIDs() (map[string]string, error) {
	ids := map[string]string{}
	for _, ns := range []string{"net", "mnt"} {
		id, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			return nil, fmt.Errorf("netns: %w", err)
		}
		ids[ns] = id
	}
	return ids, nil
}
