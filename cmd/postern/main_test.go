package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/demo"
)

func TestUserAddAndCheck(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	var out bytes.Buffer
	err := run([]string{"user", "add", "-f", passwd, "--home", filepath.Join(dir, "alice"), "alice"}, strings.NewReader("s3cret\n"), &out, &out)
	if err != nil {
		t.Fatalf("user add: %v", err)
	}
	if got, want := out.String(), passwd+": user alice written\n"; got != want {
		t.Errorf("user add printed %q, want %q", got, want)
	}
	users, err := virtual.Open(passwd, virtual.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Authenticate(context.Background(), "alice", "s3cret")
	if err != nil {
		t.Fatalf("Authenticate(alice) after user add: %v", err)
	}
	if want := filepath.Join(dir, "alice", "Maildir"); u.MailRoot != want {
		t.Errorf("MailRoot = %q, want %q", u.MailRoot, want)
	}

	// check accepts the demo's saved configuration.
	demoDir := filepath.Join(dir, "demo")
	if _, err := demo.Setup(context.Background(), demoDir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	conf := filepath.Join(demoDir, demo.ConfigName)
	if err := run([]string{"check", "-c", conf}, nil, &out, &out); err != nil {
		t.Fatalf("check: %v", err)
	}
	// The full report is asserted in check_test.go; here only its verdict.
	if got, want := out.String(), "\n"+conf+": OK (8 listeners)\n"; !strings.HasSuffix(got, want) {
		t.Errorf("check printed %q, want it to end with %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("listen = imaps [::]:993\n"), 0o600)
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{nil, "", "usage:"},
		{[]string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{[]string{"check", "-c", filepath.Join(dir, "missing.conf")}, "", "no such file"},
		{[]string{"check", "-c", bad}, "", "imaps listener [::]:993 needs a certificate (tls_cert)"},
		{[]string{"user", "hash"}, "", "no password on standard input"},
		{[]string{"user", "add", "-f", filepath.Join(dir, "p"), "../evil"}, "pw\n", "user"},
		{[]string{"user", "add", "-f", filepath.Join(dir, "p")}, "pw\n", "exactly one user name"},
		{[]string{"serve", "--listen", "smtp=[::]:25"}, "", "want SERVICE=ADDR with SERVICE imap, imaps, pop3 or pop3s"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(tt.args, strings.NewReader(tt.stdin), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestUserHash(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"user", "hash"}, strings.NewReader("pw\n"), &out, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "{BCRYPT}$2") {
		t.Errorf("user hash printed %q, want a {BCRYPT} hash", got)
	}
}

// TestServeMissingConfig checks that serve without a configuration says
// what to do.
func TestServeMissingConfig(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"serve", "-c", filepath.Join(t.TempDir(), "none.conf")}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "postern serve --demo") {
		t.Errorf("serve with a missing config = %v, want a hint at --demo", err)
	}
}
