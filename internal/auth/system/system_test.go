package system

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
)

// testToday is the day the fake clock shows: 20000 days after the epoch
// (2024-10-04), at noon UTC.
var testToday = time.Unix(20000*secondsPerDay+12*60*60, 0).UTC()

const testPassword = "correct horse"

// syncBuffer is a log sink safe for parallel subtests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestAuth(t *testing.T, opts Options) (*Authenticator, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.PasswdFile == "" {
		opts.PasswdFile = "testdata/passwd"
	}
	if opts.ShadowFile == "" {
		opts.ShadowFile = "testdata/shadow"
	}
	if opts.ShellsFile == "" {
		opts.ShellsFile = "testdata/shells"
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Now = func() time.Time { return testToday }
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, logs
}

func TestAuthenticate(t *testing.T) {
	type want struct {
		name     string // "" means refused
		uid, gid int
		home     string
		reason   string // a refusal reason that must be logged, or ""
	}
	ok := func(name string, id int, home string) want { return want{name: name, uid: id, gid: id, home: home} }
	refused := func(reason string) want { return want{reason: reason} }
	tests := []struct {
		user, password string
		want           want
	}{
		{"alice", testPassword, ok("alice", 1000, "/home/alice")},
		{"alice", "wrong", refused("")},
		{"alice", "", refused("")},
		{"alice", testPassword + " ", refused("")},
		{"Alice", testPassword, ok("alice", 1000, "/home/alice")}, // UW's lower-case retry
		{"ALICE", testPassword, ok("alice", 1000, "/home/alice")},
		{"bob", testPassword, ok("bob", 1001, "/home/bob")}, // $6$, nologin shell not checked
		{"carol", testPassword, ok("carol", 1002, "/home/carol")},
		{"dave", testPassword, ok("dave", 1003, "/home/dave")},
		{"erin", testPassword, ok("erin", 1004, "/home/erin")},
		{"oldstyle", testPassword, ok("oldstyle", 1019, "/home/oldstyle")},                 // hash in passwd itself
		{"dup", testPassword, want{name: "dup", uid: 1020, gid: 1020, home: "/home/dup1"}}, // first entry wins
		{"expirefuture", testPassword, ok("expirefuture", 1011, "/home/expirefuture")},
		{"pwgrace", testPassword, ok("pwgrace", 1014, "/home/pwgrace")},
		{"pwedge", testPassword, ok("pwedge", 1016, "/home/pwedge")},
		{"noaging", testPassword, ok("noaging", 1027, "/home/noaging")},

		{"root", testPassword, refused(reasonUID0)},
		{"root", "wrong", refused(reasonUID0)},
		{"toor", testPassword, refused(reasonUID0)},
		{"locked", testPassword, refused(reasonLocked)},
		{"lockedtwice", testPassword, refused(reasonLocked)},
		{"star", testPassword, refused(reasonNoPassword)},
		{"starhash", testPassword, refused(reasonNoPassword)},
		{"oldstar", testPassword, refused(reasonNoPassword)},
		{"bang", testPassword, refused(reasonNoPassword)},
		{"empty", "", refused(reasonEmptyPassword)},
		{"empty", testPassword, refused(reasonEmptyPassword)},
		{"expired", testPassword, refused(reasonAccountExp)},
		{"expiretoday", testPassword, refused(reasonAccountExp)},
		{"mustchange", testPassword, refused(reasonMustChange)},
		{"pwexp", testPassword, refused(reasonPasswordExp)},
		{"pwinactive", testPassword, refused(reasonPasswordExp)},
		{"noshadow", testPassword, refused(reasonNoShadow)},
		{"badshadow", testPassword, refused(reasonBadShadow)},
		{"des", testPassword, refused(reasonBadHash)},

		{"nosuchuser", testPassword, refused("")},
		{"daemon", testPassword, refused(reasonNoPassword)},
		{"badpasswd", testPassword, refused("")},
		{"+bob", testPassword, refused("")}, // NIS compat lines are not accounts
		{"", testPassword, refused("")},
		{"alice:x", testPassword, refused("")},
		{"alice\n", testPassword, refused("")},
		{"alice\x00", testPassword, refused("")},
		{"#alice", testPassword, refused("")},
		{"alice", strings.Repeat("x", MaxPasswordLen+1), refused("")},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			t.Parallel()
			a, logs := newTestAuth(t, Options{})
			u, err := a.Authenticate(context.Background(), tt.user, tt.password)
			// Every outcome costs one hash computation, so that timing
			// does not tell unknown, locked and valid users apart.
			if n := a.hash.computed.Load(); n != 1 {
				t.Errorf("Authenticate(%q, %q) computed %d hashes, want 1", tt.user, tt.password, n)
			}
			if tt.want.name == "" {
				if !errors.Is(err, auth.ErrInvalidCredentials) {
					t.Errorf("Authenticate(%q, %q) = %+v, %v; want ErrInvalidCredentials", tt.user, tt.password, u, err)
				}
				if u != nil {
					t.Errorf("Authenticate(%q, %q) returned user %+v with an error", tt.user, tt.password, u)
				}
				if tt.want.reason != "" && !strings.Contains(logs.String(), `reason="`+tt.want.reason+`"`) {
					t.Errorf("Authenticate(%q, %q) logged %q, want reason %q", tt.user, tt.password, logs.String(), tt.want.reason)
				}
				return
			}
			want := &auth.User{Name: tt.want.name, UID: tt.want.uid, GID: tt.want.gid, Home: tt.want.home}
			if err != nil || u == nil || u.Name != want.Name || u.UID != want.UID || u.GID != want.GID || u.Home != want.Home || u.MailRoot != "" || u.Extra != nil {
				t.Errorf("Authenticate(%q, %q) = %+v, %v; want %+v, nil", tt.user, tt.password, u, err, want)
			}
			if strings.Contains(logs.String(), "login refused") {
				t.Errorf("Authenticate(%q) succeeded but logged a refusal: %s", tt.user, logs.String())
			}
		})
	}
}

// TestRefusalLogsPasswordCheck pins that a refused account's log line says
// whether the password was right, so an administrator can tell a user who
// knows the password from a guesser.
func TestRefusalLogsPasswordCheck(t *testing.T) {
	for _, tt := range []struct {
		password string
		want     string
	}{
		{testPassword, "password_ok=true"},
		{"wrong", "password_ok=false"},
	} {
		a, logs := newTestAuth(t, Options{})
		if _, err := a.Authenticate(context.Background(), "locked", tt.password); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("Authenticate(locked, %q) = %v, want ErrInvalidCredentials", tt.password, err)
		}
		if !strings.Contains(logs.String(), tt.want) {
			t.Errorf("Authenticate(locked, %q) logged %q, want %q", tt.password, logs.String(), tt.want)
		}
	}
}

func TestGraceIsLogged(t *testing.T) {
	a, logs := newTestAuth(t, Options{})
	if _, err := a.Authenticate(context.Background(), "pwgrace", testPassword); err != nil {
		t.Fatalf("Authenticate(pwgrace) = %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "password expired") {
		t.Errorf("Authenticate(pwgrace) logged %q, want a password expired warning", logs.String())
	}
}

func TestRequireValidShell(t *testing.T) {
	tests := []struct {
		user   string
		shells string
		wantOK bool
	}{
		{"alice", "testdata/shells", true},       // /bin/bash listed
		{"carol", "testdata/shells", true},       // empty shell is /bin/sh
		{"bob", "testdata/shells", false},        // /usr/sbin/nologin not listed
		{"alice", "testdata/nonexistent", false}, // unreadable shells file fails closed
	}
	for _, tt := range tests {
		a, logs := newTestAuth(t, Options{RequireValidShell: true, ShellsFile: tt.shells})
		u, err := a.Authenticate(context.Background(), tt.user, testPassword)
		if gotOK := err == nil; gotOK != tt.wantOK {
			t.Errorf("RequireValidShell, shells %s: Authenticate(%q) = %+v, %v; want ok %v", tt.shells, tt.user, u, err, tt.wantOK)
		}
		if !tt.wantOK && !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("RequireValidShell: Authenticate(%q) = %v, want ErrInvalidCredentials", tt.user, err)
		}
		if !tt.wantOK && !strings.Contains(logs.String(), reasonShell) {
			t.Errorf("RequireValidShell: Authenticate(%q) logged %q, want %q", tt.user, logs.String(), reasonShell)
		}
	}
}

func TestFileErrors(t *testing.T) {
	a, _ := newTestAuth(t, Options{PasswdFile: "testdata/nonexistent"})
	_, err := a.Authenticate(context.Background(), "alice", testPassword)
	if err == nil || errors.Is(err, auth.ErrInvalidCredentials) || errors.Is(err, auth.ErrTemporary) {
		t.Errorf("Authenticate with a missing passwd file = %v, want a configuration error", err)
	}
	a, _ = newTestAuth(t, Options{ShadowFile: "testdata/nonexistent"})
	_, err = a.Authenticate(context.Background(), "alice", testPassword)
	if err == nil || errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Authenticate with a missing shadow file = %v, want a configuration error", err)
	}
	// A directory reads with an I/O error (EISDIR): reported as temporary.
	a, _ = newTestAuth(t, Options{ShadowFile: "testdata"})
	_, err = a.Authenticate(context.Background(), "alice", testPassword)
	if !errors.Is(err, auth.ErrTemporary) {
		t.Errorf("Authenticate with a directory as shadow file = %v, want ErrTemporary", err)
	}
}

func TestContextCancelled(t *testing.T) {
	a, _ := newTestAuth(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Authenticate(ctx, "alice", testPassword); !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate(cancelled) = %v, want context.Canceled", err)
	}
}

// TestReadsEachLogin pins that a password change applies to the next
// login, without reopening the Authenticator.
func TestReadsEachLogin(t *testing.T) {
	dir := t.TempDir()
	passwd, shadow := dir+"/passwd", dir+"/shadow"
	writeFile(t, passwd, "frank:x:1100:1100::/home/frank:/bin/sh\n")
	writeFile(t, shadow, "frank:$1$YVwNPs7R$N/aLGEQ8XRepcaENsK71S0:19000:0:99999:7:::\n")
	a, _ := newTestAuth(t, Options{PasswdFile: passwd, ShadowFile: shadow})
	if _, err := a.Authenticate(context.Background(), "frank", testPassword); err != nil {
		t.Fatalf("Authenticate(frank) = %v, want nil", err)
	}
	writeFile(t, shadow, "frank:!$1$YVwNPs7R$N/aLGEQ8XRepcaENsK71S0:19000:0:99999:7:::\n")
	if _, err := a.Authenticate(context.Background(), "frank", testPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Authenticate(frank) after locking = %v, want ErrInvalidCredentials", err)
	}
}
