package virtual

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
)

type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passwd")
	bc := bcryptHash(t, "bpass")
	writeFile(t, path, strings.Join([]string{
		"# test users",
		"alice:{PLAIN}apass:1001:1001::/home/alice::mail=maildir:~/Mail",
		"bob:{BCRYPT}" + bc + "::::/home/bob",
		"carol@ex.org:{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
		"dave:{PLAIN}dpass:::::: nologin",
		"root2:{PLAIN}rpass:0:0",
		"eve:{ARGON2ID}$argon2id$xyz",
		"",
	}, "\n"))
	var logs bytes.Buffer
	f, err := Open(path, Options{
		Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
		MailRootTemplate: "/var/vmail/%d/%n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 6 {
		t.Errorf("Len = %d, want 6", f.Len())
	}
	for _, want := range []string{
		"plaintext password; use only for demos and tests\" file=" + path + " line=2 user=alice",
		"unusable password hash\" file=" + path + " line=7 user=eve",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("load log lacks %q; log:\n%s", want, logs.String())
		}
	}

	tests := []struct {
		user, pass string
		want       string // fmt of the User, or the error
	}{
		{"alice", "apass", "alice 1001 1001 /home/alice /home/alice/Mail map[mail:maildir:~/Mail]"},
		{"bob", "bpass", "bob -1 -1 /home/bob /home/bob/Maildir map[]"},
		{"carol@ex.org", "Hello world!", "carol@ex.org -1 -1  /var/vmail/ex.org/carol map[]"},
		{"alice", "wrong", auth.ErrInvalidCredentials.Error()},
		{"Alice", "apass", auth.ErrInvalidCredentials.Error()},
		{"alice", "", auth.ErrInvalidCredentials.Error()},
		{"nobody", "apass", auth.ErrInvalidCredentials.Error()},
		{"../alice", "apass", auth.ErrInvalidCredentials.Error()},
		{"dave", "dpass", auth.ErrDisabled.Error()},
		{"dave", "wrong", auth.ErrInvalidCredentials.Error()},
		{"root2", "rpass", auth.ErrDisabled.Error()},
		{"eve", "x", auth.ErrInvalidCredentials.Error()},
	}
	for _, tt := range tests {
		u, err := f.Authenticate(context.Background(), tt.user, tt.pass)
		var got string
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprint(u.Name, " ", u.UID, " ", u.GID, " ", u.Home, " ", u.MailRoot, " ", u.Extra)
		}
		if got != tt.want {
			t.Errorf("Authenticate(%q, %q) = %q, want %q", tt.user, tt.pass, got, tt.want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Authenticate(ctx, "alice", "apass"); !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if _, err := Open(missing, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing) = %v, want an error naming %s", err, missing)
	}
	path := filepath.Join(dir, "passwd")
	writeFile(t, path, "a:{PLAIN}b\n")
	for _, tmpl := range []string{"var/vmail/%u", "/var/%q"} {
		if _, err := Open(path, Options{MailRootTemplate: tmpl}); err == nil {
			t.Errorf("Open(template %q) = nil error, want one", tmpl)
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passwd")
	writeFile(t, path, "alice:{PLAIN}one\n")
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(step, pass string, want error) {
		t.Helper()
		if _, err := f.Authenticate(ctx, "alice", pass); !errors.Is(err, want) {
			t.Errorf("%s: Authenticate(alice, %q) = %v, want %v", step, pass, err, want)
		}
	}

	// Same size, different content and mtime: caught by the mtime.
	writeFile(t, path, "alice:{PLAIN}two\n")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(path, old, old)
	clk.t = clk.t.Add(500 * time.Millisecond)
	check("within the interval", "one", nil)
	clk.t = clk.t.Add(500 * time.Millisecond)
	check("after the interval", "two", nil)
	check("after the interval", "one", auth.ErrInvalidCredentials)

	// Replaced by rename with the same size and mtime: caught by identity.
	tmp := path + ".new"
	writeFile(t, tmp, "alice:{PLAIN}333\n")
	os.Chtimes(tmp, old, old)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Second)
	check("after rename", "333", nil)

	// A vanished file keeps the users loaded.
	os.Remove(path)
	clk.t = clk.t.Add(time.Second)
	check("after remove", "333", nil)
}

func TestWriteUser(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passwd")

	hash, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "{BCRYPT}$2y$10$") {
		t.Errorf("HashPassword = %q, want prefix {BCRYPT}$2y$10$", hash)
	}
	if err := WriteUser(path, "alice", hash, "/home/alice"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("new file mode = %v, want 0600", info.Mode().Perm())
	}

	// Keep comments, other users and the user's other fields.
	writeFile(t, path, "# keep me\nbob:{PLAIN}b\nalice:{PLAIN}old:1001:1002:Alice:/old:/bin/sh:quota=1G\ncarol:{PLAIN}c")
	os.Chmod(path, 0o640)
	h4, err := HashPasswordCost("new", 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteUser(path, "alice", h4, "/home/alice"); err != nil {
		t.Fatal(err)
	}
	if err := WriteUser(path, "dave", "{PLAIN}d", ""); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := "# keep me\nbob:{PLAIN}b\nalice:" + h4 + ":1001:1002:Alice:/home/alice:/bin/sh:quota=1G\ncarol:{PLAIN}c\ndave:{PLAIN}d::::::\n"
	if string(data) != want {
		t.Errorf("file after WriteUser = %q, want %q", data, want)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("rewritten file mode = %v, want 0640 kept", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (no temporary files left)", len(entries))
	}

	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.Authenticate(context.Background(), "alice", "new"); err != nil || u.UID != 1001 {
		t.Errorf("Authenticate(alice, new) after WriteUser = %+v, %v, want uid 1001", u, err)
	}

	for _, tt := range []struct{ user, hash, home string }{
		{"a/b", "{PLAIN}x", ""},
		{"a", "", ""},
		{"a", "{PLAIN}x:y", ""},
		{"a", "{PLAIN}x\n", ""},
		{"a", "{PLAIN}x", "/h:1"},
	} {
		if err := WriteUser(path, tt.user, tt.hash, tt.home); err == nil {
			t.Errorf("WriteUser(%q, %q, %q) = nil, want an error", tt.user, tt.hash, tt.home)
		}
	}
	if _, err := HashPassword(""); err == nil {
		t.Errorf("HashPassword(\"\") = nil error, want one")
	}
	if _, err := HashPasswordCost("x", 3); err == nil {
		t.Errorf("HashPasswordCost(x, 3) = nil error, want one")
	}
}
