package netns

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestX", "^TestX$"},
		{"TestX/bindv6only=1", "^TestX$/^bindv6only=1$"},
		{"TestX/a.b/[::]:0", `^TestX$/^a\.b$/^\[::\]:0$`},
	}
	for _, tt := range tests {
		if got := Pattern(tt.in); got != tt.want {
			t.Errorf("Pattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, part := range strings.Split(tt.in, "/") {
			if !regexp.MustCompile(Pattern(part)).MatchString(part) {
				t.Errorf("Pattern(%q) does not match %q", part, part)
			}
		}
	}
}

// TestInside checks everything a child gets: only lo, up, with 127.0.0.1
// and ::1; a private sysctl; a bind-mounted /etc/services. The parent then
// checks the host was left alone.
func TestInside(t *testing.T) {
	if !Inside() {
		hostBefore, err := Sysctl("net/ipv6/bindv6only")
		if err != nil {
			t.Fatal(err)
		}
		services := filepath.Join(t.TempDir(), "services")
		if err := os.WriteFile(services, []byte("imaps\t10993/tcp\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		Run(t, t.Name(), map[string]string{"/etc/services": services})
		if got, _ := Sysctl("net/ipv6/bindv6only"); got != hostBefore {
			t.Errorf("host net.ipv6.bindv6only = %s after the child, want %s unchanged", got, hostBefore)
		}
		if b, _ := os.ReadFile("/etc/services"); strings.HasPrefix(string(b), "imaps\t10993") {
			t.Errorf("host /etc/services was replaced")
		}
		return
	}

	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Flags&net.FlagUp == 0 {
		t.Errorf("interfaces inside = %v, want only lo, up", ifs)
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("Listen(%s) inside = %v", addr, err)
		}
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Errorf("Dial(%s) inside = %v", l.Addr(), err)
		} else {
			c.Close()
		}
		l.Close()
	}

	SetSysctl(t, "net/ipv6/bindv6only", "1")
	if got, _ := Sysctl("net/ipv6/bindv6only"); got != "1" {
		t.Errorf("Sysctl(net/ipv6/bindv6only) after SetSysctl = %q, want 1", got)
	}

	b, err := os.ReadFile("/etc/services")
	if err != nil || string(b) != "imaps\t10993/tcp\n" {
		t.Errorf("/etc/services inside = %q, %v; want the mounted file", b, err)
	}
	if p, err := net.LookupPort("tcp", "imaps"); p != 10993 {
		t.Errorf("LookupPort(tcp, imaps) inside = %d, %v; want 10993", p, err)
	}
}

// TestHelperChild is run only as a child by TestRunResults; it ends as
// NETNS_SELFTEST says. Run normally it does nothing.
func TestHelperChild(t *testing.T) {
	switch os.Getenv("NETNS_SELFTEST") {
	case "fail":
		t.Error("failing on purpose")
	case "skip":
		t.Skip("skipping on purpose")
	}
}

func TestRunResults(t *testing.T) {
	if Inside() {
		return
	}
	if err := usable(); err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name, mode string
		want       result
		wantErr    string
	}{
		{"TestHelperChild", "pass", resultPass, ""},
		{"TestHelperChild", "skip", resultSkip, ""},
		{"TestHelperChild", "fail", 0, "failed inside the namespace"},
		{"TestNoSuchTest", "pass", 0, "ran no test"},
	}
	for _, tt := range tests {
		c, err := command(t.Context(), tt.name, nil, []string{"NETNS_SELFTEST=" + tt.mode})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		got, err := runChild(c, tt.name, func(l string) { fmt.Fprintln(&out, l) })
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("runChild(%s, %s) = %v, %v; want error containing %q\n%s", tt.name, tt.mode, got, err, tt.wantErr, out.String())
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("runChild(%s, %s) = %v, %v; want %v\n%s", tt.name, tt.mode, got, err, tt.want, out.String())
		}
	}
}

// TestRefuseHostNamespace checks that POSTERN_IN_NETNS=1 set by hand in
// the host's namespaces makes the child exit before any test can change
// the host.
func TestRefuseHostNamespace(t *testing.T) {
	if Inside() {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := namespaceIDs()
	if err != nil {
		t.Skip(err)
	}
	pj, _ := json.Marshal(ids)
	for _, env := range [][]string{
		{EnvInside + "=1"},
		{EnvInside + "=1", envParent + "=" + string(pj)},
	} {
		c := exec.Command(exe, "-test.run", "^TestHelperChild$", "-test.v")
		c.Env = append(os.Environ(), env...)
		out, err := c.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "netns: ") || strings.Contains(string(out), "=== RUN") {
			t.Errorf("child with %q = %v, output %q; want exit before any test, with a netns: message", env, err, out)
		}
	}
}

func TestSetSysctlOutside(t *testing.T) {
	if Inside() {
		return
	}
	ft := &fatalT{TB: t}
	func() {
		defer func() { recover() }()
		SetSysctl(ft, "net/ipv6/bindv6only", "1")
	}()
	if !strings.Contains(ft.msg, "would change the host") {
		t.Errorf("SetSysctl outside = %q, want a refusal", ft.msg)
	}
}

// fatalT records Fatalf instead of ending the test.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}
