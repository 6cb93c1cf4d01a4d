//go:build pam

package system

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/auth"
)

// pamServices writes PAM service files into a temporary directory, used
// with PAMOptions.ConfDir so that the tests never touch /etc/pam.d.
func pamServices(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	services := map[string]string{
		"postern-permit":   "auth required pam_permit.so\naccount required pam_permit.so\n",
		"postern-deny":     "auth required pam_deny.so\naccount required pam_permit.so\n",
		"postern-acctdeny": "auth required pam_permit.so\naccount required pam_deny.so\n",
		// pam_succeed_if can test PAM_RHOST: only 192.0.2.1 gets in.
		"postern-rhost": "auth required pam_succeed_if.so rhost = 192.0.2.1\naccount required pam_permit.so\n",
		// nodelay: pam_unix otherwise sleeps about 2 s after a failure.
		"postern-unix": "auth required pam_unix.so nodelay\naccount required pam_unix.so\n",
	}
	for name, content := range services {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newTestPAM(t *testing.T, service, confDir string) (*PAMAuthenticator, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	p, err := NewPAM(service, PAMOptions{ConfDir: confDir, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

// TestPAMPolicy runs the PAM path with pam_permit and pam_deny, which need
// no password database, so it runs unprivileged.
func TestPAMPolicy(t *testing.T) {
	dir := pamServices(t)
	tests := []struct {
		service, user, password string
		wantUID                 int // -1: refused
		wantLog                 string
	}{
		{"postern-permit", "nobody", "x", 65534, ""},
		{"postern-permit", "root", "x", -1, reasonUID0},
		{"postern-permit", "postern-t-no-such-user", "x", -1, "name service does not know"},
		{"postern-permit", "nobody", "", -1, ""}, // empty password never logs in
		{"postern-deny", "nobody", "x", -1, ""},
		{"postern-acctdeny", "nobody", "x", -1, "denied by PAM account management"},
		{"postern-permit", "nobody:x", "x", -1, ""},
	}
	for _, tt := range tests {
		p, logs := newTestPAM(t, tt.service, dir)
		u, err := p.Authenticate(context.Background(), tt.user, tt.password)
		if tt.wantUID < 0 {
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Errorf("%s: Authenticate(%q, %q) = %+v, %v; want ErrInvalidCredentials", tt.service, tt.user, tt.password, u, err)
			}
		} else if err != nil || u.UID != tt.wantUID || u.Name != tt.user {
			t.Errorf("%s: Authenticate(%q, %q) = %+v, %v; want uid %d", tt.service, tt.user, tt.password, u, err, tt.wantUID)
		}
		if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
			t.Errorf("%s: Authenticate(%q) logged %q, want %q", tt.service, tt.user, logs.String(), tt.wantLog)
		}
	}
}

// TestPAMRemoteHost pins that PAMOptions.RemoteHost reaches PAM as
// PAM_RHOST.
func TestPAMRemoteHost(t *testing.T) {
	dir := pamServices(t)
	type hostKey struct{}
	logs := &syncBuffer{}
	p, err := NewPAM("postern-rhost", PAMOptions{
		ConfDir:    dir,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		RemoteHost: func(ctx context.Context) string { s, _ := ctx.Value(hostKey{}).(string); return s },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		host   string
		wantOK bool
	}{
		{"192.0.2.1", true},
		{"192.0.2.2", false},
		{"", false},
	} {
		ctx := context.WithValue(context.Background(), hostKey{}, tt.host)
		u, err := p.Authenticate(ctx, "nobody", "x")
		if gotOK := err == nil; gotOK != tt.wantOK {
			t.Errorf("Authenticate(nobody) from %q = %+v, %v; want ok %v", tt.host, u, err, tt.wantOK)
		}
	}
}

// TestPAMRealAccount checks pam_unix against a real account: it reads
// /etc/shadow itself, so this needs root.
func TestPAMRealAccount(t *testing.T) {
	requireRoot(t)
	const password = "pam Tr0ub4dor&3"
	name, uid, gid := addRealUser(t, password)
	p, logs := newTestPAM(t, "postern-unix", pamServices(t))
	ctx := context.Background()

	u, err := p.Authenticate(ctx, name, password)
	if err != nil || u.Name != name || u.UID != uid || u.GID != gid || u.Home != "/nonexistent" {
		t.Fatalf("PAM Authenticate(%s, right password) = %+v, %v; want uid %d gid %d", name, u, err, uid, gid)
	}
	if _, err := p.Authenticate(ctx, name, password+"!"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("PAM Authenticate(%s, wrong password) = %v, want ErrInvalidCredentials", name, err)
	}
	run(t, "", "chage", "-E", "0", name)
	if _, err := p.Authenticate(ctx, name, password); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("PAM Authenticate(%s) after chage -E 0 = %v, want ErrInvalidCredentials", name, err)
	}
	if !strings.Contains(logs.String(), `reason="`+reasonAccountExp+`"`) {
		t.Errorf("PAM Authenticate after chage -E 0 logged %q, want %q", logs.String(), reasonAccountExp)
	}
}
