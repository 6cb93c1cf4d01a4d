package system

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/auth"
)

func TestHashCostKey(t *testing.T) {
	tests := []struct{ hash, want string }{
		{"$y$j9T$salt$hash", "$y$j9T"},
		{"$y$jDT$salt$hash", "$y$jDT"},
		{"$6$salt$hash", "$6"},
		{"$6$rounds=10000$salt$hash", "$6$rounds=10000"},
		{"$5$salt$hash", "$5"},
		{"$2b$12$saltandhash", "$2$12"},
		{"$2y$12$saltandhash", "$2$12"},
		{"$1$salt$hash", "$1"},
		{"abJnggxhB/yW", "abJnggxhB/yW"},
	}
	for _, tt := range tests {
		if got := hashCostKey(tt.hash); got != tt.want {
			t.Errorf("hashCostKey(%q) = %q, want %q", tt.hash, got, tt.want)
		}
	}
}

// sha512Hello is SHA-512-crypt of "Hello world!" (Drepper's test vector).
const sha512Hello = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"

// TestUnknownUserDummy: on a system whose accounts hold SHA-512-crypt
// hashes, an unknown user's password is checked against one of them, not
// against the built-in yescrypt dummy (far slower: the name would stand
// out); the answer is the same as for a wrong password.
func TestUnknownUserDummy(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "shadow")
	writeFile(t, shadow, strings.Join([]string{
		"root:*:20000:0:99999:7:::",
		"locked:!" + dummyHash + ":20000:0:99999:7:::", // locked: not counted
		"old:$y$j9T$ahWpifAZNZrAgR8dPakNw1$L6H0SGequpW8asRxxWlLd0y5APFEBrT4MQD.UGvIUV8:20000:0:99999:7:::",
		"ann:" + sha512Hello + ":20000:0:99999:7:::",
		"ben:" + sha512Hello + ":20000:0:99999:7:::",
		"",
	}, "\n"))
	passwd := filepath.Join(dir, "passwd")
	writeFile(t, passwd, "ann:x:1000:1000::/home/ann:/bin/sh\nben:x:1001:1001::/home/ben:/bin/sh\n")
	a, _ := newTestAuth(t, Options{PasswdFile: passwd, ShadowFile: shadow})
	ctx := context.Background()
	_, errWrong := a.Authenticate(ctx, "ann", "wrong")
	if a.hash.dummyHash != dummyHash {
		t.Errorf("a wrong password replaced the dummy: %q", a.hash.dummyHash)
	}
	_, errUnknown := a.Authenticate(ctx, "nobody", "wrong")
	if a.hash.dummyHash != sha512Hello {
		t.Errorf("dummy after an unknown user = %q, want the system's SHA-512-crypt hash", a.hash.dummyHash)
	}
	if !errors.Is(errWrong, auth.ErrInvalidCredentials) || !errors.Is(errUnknown, auth.ErrInvalidCredentials) {
		t.Errorf("wrong password: %v; unknown user: %v; want both %v", errWrong, errUnknown, auth.ErrInvalidCredentials)
	}
	if n := a.hash.computed.Load(); n != 2 {
		t.Errorf("two logins computed %d hashes, want 2", n)
	}
	// The dummy's own password does not log an unknown user in.
	if _, err := a.Authenticate(ctx, "nobody", "Hello world!"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("unknown user with the dummy's password: %v", err)
	}
	if got := shadowDummy(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("shadowDummy(missing file) = %q, want \"\"", got)
	}
}
