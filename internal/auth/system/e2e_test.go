package system

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/auth"
)

// requireRoot fails the test with a clear message unless it runs as root,
// or skips it when POSTERN_SKIP_PROGRAMS=1: the end-to-end tests create
// real accounts with useradd and read the real /etc/shadow.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
			t.Skip("not root and POSTERN_SKIP_PROGRAMS=1: skipping the real-account test")
		}
		t.Fatal("this test must run as root (it creates users with useradd and reads /etc/shadow); set POSTERN_SKIP_PROGRAMS=1 to skip it")
	}
	for _, prog := range []string{"useradd", "userdel", "usermod", "chpasswd", "chage"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s not found (package passwd): %v", prog, err)
		}
	}
}

func run(t *testing.T, stdin, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// addRealUser creates a system user (no home, nologin shell, own group)
// named postern-t-..., sets its password with chpasswd as an administrator
// would, and removes it at cleanup.
func addRealUser(t *testing.T, password string) (name string, uid, gid int) {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name = "postern-t-" + hex.EncodeToString(b)
	run(t, "", "useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group", name)
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	run(t, name+":"+password+"\n", "chpasswd")
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return name, uid, gid
}

// TestRealAccount logs in a real account made by useradd and chpasswd
// against the real /etc/passwd and /etc/shadow, then locks and expires it
// with the usual tools.
func TestRealAccount(t *testing.T) {
	requireRoot(t)
	const password = "Tr0ub4dor&3 real"
	name, uid, gid := addRealUser(t, password)

	line, found, err := findLine(DefaultShadowFile, name)
	if err != nil || !found {
		t.Fatalf("shadow entry of %s: %q, %v, %v", name, line, found, err)
	}
	// Debian 12 writes yescrypt (ENCRYPT_METHOD YESCRYPT in login.defs).
	if sp, err := parseShadowLine(line); err != nil || !strings.HasPrefix(sp.password, "$y$") {
		t.Errorf("chpasswd wrote %q (%v), want a $y$ yescrypt hash", line, err)
	}

	logs := &syncBuffer{}
	a, err := New(Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	login := func(pw string) (*auth.User, error) { return a.Authenticate(ctx, name, pw) }

	u, err := login(password)
	if err != nil || u.Name != name || u.UID != uid || u.GID != gid || u.Home != "/nonexistent" {
		t.Fatalf("Authenticate(%s, right password) = %+v, %v; want uid %d gid %d home /nonexistent", name, u, err, uid, gid)
	}
	if _, err := login(password + "!"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Authenticate(%s, wrong password) = %v, want ErrInvalidCredentials", name, err)
	}

	steps := []struct {
		do, undo []string
		reason   string
	}{
		{[]string{"usermod", "-L", name}, []string{"usermod", "-U", name}, reasonLocked},
		{[]string{"chage", "-E", "0", name}, []string{"chage", "-E", "-1", name}, reasonAccountExp},
		{[]string{"chage", "-d", "0", name}, nil, reasonMustChange},
	}
	for _, s := range steps {
		run(t, "", s.do[0], s.do[1:]...)
		if _, err := login(password); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("after %v: Authenticate(right password) = %v, want ErrInvalidCredentials", s.do, err)
		}
		if want := `reason="` + s.reason + `"`; !strings.Contains(logs.String(), want) {
			t.Errorf("after %v: logged %q, want %s", s.do, logs.String(), want)
		}
		if s.undo == nil {
			continue
		}
		run(t, "", s.undo[0], s.undo[1:]...)
		if _, err := login(password); err != nil {
			t.Errorf("after %v: Authenticate(right password) = %v, want nil", s.undo, err)
		}
	}

	// root is in the real files with uid 0: refused whatever the password.
	if _, err := a.Authenticate(ctx, "root", "anything"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Authenticate(root) = %v, want ErrInvalidCredentials", err)
	}
	if !strings.Contains(logs.String(), `reason="`+reasonUID0+`"`) {
		t.Errorf("Authenticate(root) logged %q, want the uid 0 reason", logs.String())
	}
}
