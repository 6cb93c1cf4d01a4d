package imapbackend

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
)

// homeAuth is fakeAuth whose users have a home directory.
type homeAuth struct{ home string }

func (a homeAuth) Authenticate(ctx context.Context, user, pass string) (*auth.User, error) {
	if user != "alice" || pass != "secret" {
		return nil, auth.ErrInvalidCredentials
	}
	return &auth.User{Name: user, UID: 1000, GID: 1000, Home: a.home}, nil
}

func writeAt(t *testing.T, path, text string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestAlerts(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "imapd.alert")
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	writeAt(t, sys, "Maintenance tonight\r\n\x00at 22:00\n\n", testTime.Add(-time.Hour))
	writeAt(t, filepath.Join(home, ".imapalert"), "Your quota is nearly full\n", testTime.Add(-time.Hour))

	now := testTime
	b := newBackend(memstore.New(fixedClock), Options{
		Auth:            homeAuth{home},
		SystemAlertFile: sys,
		UserAlertFile:   ".imapalert",
	})
	b.opts.Clock = func() time.Time { return now }
	ss, err := b.NewSession(context.Background(), testConn)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	s := ss.(*session)
	ctx := context.Background()
	steps := []struct {
		name  string
		do    func()
		login bool
		want  []string
	}{
		{"first command before login: the system alert", nil, false, []string{"Maintenance tonight", "at 22:00"}},
		{"again at once: nothing", nil, false, nil},
		{"after login: the user's alert at once", nil, true, []string{"Your quota is nearly full"}},
		{"a minute later, unchanged: nothing", func() { now = now.Add(time.Minute) }, false, nil},
		{"changed, but within the interval: nothing", func() {
			writeAt(t, sys, "Maintenance moved to 23:00\n", testTime.Add(time.Hour))
			now = now.Add(30 * time.Second)
		}, false, nil},
		{"changed and a minute on: shown again", func() { now = now.Add(30 * time.Second) }, false, []string{"Maintenance moved to 23:00"}},
		{"removed: nothing", func() {
			os.Remove(sys)
			now = now.Add(time.Minute)
		}, false, nil},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if st.login {
			if err := s.Login(ctx, "alice", "secret"); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.Alerts(ctx); !slices.Equal(got, st.want) {
			t.Errorf("%s: Alerts() = %q, want %q", st.name, got, st.want)
		}
	}
}

func TestNoLogin(t *testing.T) {
	nologin := filepath.Join(t.TempDir(), "nologin")
	opened := false
	b := newBackend(memstore.New(fixedClock), Options{NoLoginFile: nologin})
	open := b.opts.OpenStore
	b.opts.OpenStore = func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
		opened = true
		return open(ctx, u)
	}
	tests := []struct {
		content *string
		want    string
	}{
		{strPtr("System maintenance until 17:00\nsecond line\n"), "NO [UNAVAILABLE] Logins are disabled: System maintenance until 17:00"},
		{strPtr(""), "NO [UNAVAILABLE] Logins are disabled"},
		{nil, ""},
	}
	for _, tt := range tests {
		os.Remove(nologin)
		if tt.content != nil {
			if err := os.WriteFile(nologin, []byte(*tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		opened = false
		ss, _ := b.NewSession(context.Background(), testConn)
		err := ss.Login(context.Background(), "alice", "secret")
		ss.Close()
		got := ""
		if e, ok := imap.AsError(err); ok {
			got = string(e.Type) + " [" + string(e.Code) + "] " + e.Text
		} else if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if got != tt.want || opened != (tt.want == "") {
			t.Errorf("nologin %v: Login = %q (store opened %v), want %q", tt.content != nil, got, opened, tt.want)
		}
	}
}

func strPtr(s string) *string { return &s }

func TestBeforeOpen(t *testing.T) {
	var calls []string
	fail := false
	b := newBackend(memstore.New(fixedClock), Options{BeforeOpen: func(u *auth.User) error {
		calls = append(calls, u.Name)
		if fail {
			return errors.New("setuid refused")
		}
		return nil
	}})
	ctx := context.Background()
	ss, _ := b.NewSession(ctx, testConn)
	if err := ss.Login(ctx, "alice", "wrong"); err == nil || len(calls) != 0 {
		t.Fatalf("a failed login ran BeforeOpen (%v) or succeeded (%v)", calls, err)
	}
	if err := ss.Login(ctx, "alice", "secret"); err != nil || !slices.Equal(calls, []string{"alice"}) {
		t.Fatalf("Login = %v, BeforeOpen calls %v; want success and one call for alice", err, calls)
	}
	ss.Close()
	fail = true
	ss, _ = b.NewSession(ctx, testConn)
	defer ss.Close()
	err := ss.Login(ctx, "alice", "secret")
	if err == nil || !strings.Contains(err.Error(), "setuid refused") || ss.(*session).store != nil {
		t.Errorf("Login with a failing BeforeOpen = %v (store %v), want the error and no store", err, ss.(*session).store)
	}
}

func TestEndReasonLogged(t *testing.T) {
	for _, tt := range []struct{ reason, want string }{
		{"", "Logout user=alice host=192.0.2.7 [192.0.2.7]"},
		{"Autologout", "Autologout user=alice host=192.0.2.7 [192.0.2.7]"},
	} {
		var buf strings.Builder
		b := newBackend(memstore.New(fixedClock), Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		ss, _ := b.NewSession(context.Background(), testConn)
		if err := ss.Login(context.Background(), "alice", "secret"); err != nil {
			t.Fatal(err)
		}
		if tt.reason != "" {
			ss.(*session).SetEndReason(tt.reason)
		}
		ss.Close()
		if !strings.Contains(buf.String(), `msg="`+tt.want+`"`) {
			t.Errorf("end reason %q: log %q, want %q", tt.reason, buf.String(), tt.want)
		}
	}
}
