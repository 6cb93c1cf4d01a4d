package systemd

import (
	"strings"
	"testing"
)

// FuzzParseEnv checks that any activation environment either fails with a
// systemd: error or yields exactly one non-empty, colon-free name per
// descriptor, within the bound.
func FuzzParseEnv(f *testing.F) {
	f.Add("100", "2", "imap:imaps")
	f.Add("100", "1", "")
	f.Add("100", "3", "imap")
	f.Add("100", "1", "a:b")
	f.Add("7", "2", "imap:imaps")
	f.Add("100", "-1", "")
	f.Add("100", "4096", "")
	f.Add("100", "", "x")
	f.Add("+100", "0x2", "::")
	f.Fuzz(func(t *testing.T, pid, fds, names string) {
		n, got, err := parseEnv(100, pid, fds, names)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "systemd: ") {
				t.Fatalf("parseEnv(100, %q, %q, %q) error %q lacks the package prefix", pid, fds, names, err)
			}
			return
		}
		if n < 0 || n > maxFDs || len(got) != n {
			t.Fatalf("parseEnv(100, %q, %q, %q) = %d, %d names, want 0..%d with one name each", pid, fds, names, n, len(got), maxFDs)
		}
		for _, name := range got {
			if name == "" || strings.Contains(name, ":") {
				t.Fatalf("parseEnv(100, %q, %q, %q) name %q, want non-empty and colon-free", pid, fds, names, name)
			}
		}
	})
}
