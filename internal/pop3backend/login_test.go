package pop3backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
	"github.com/postern/postern/internal/pop3server"
)

// TestLoginRefused checks every way a login is refused: the answer's
// response code, the log line, and that no store was opened.
func TestLoginRefused(t *testing.T) {
	dir := t.TempDir()
	nologin := filepath.Join(dir, "nologin")
	if err := os.WriteFile(nologin, []byte("Back at 14:00\nsecond line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		user, pass string
		opts       Options
		openErr    error
		wantCode   pop3server.Code
		wantText   string // substring of the -ERR text, "" for any
		wantLog    string
		wantOpened bool
	}{
		{name: "wrong password", user: "alice", pass: "wrong", wantCode: pop3server.CodeAuth,
			wantLog: "Login failed user=alice auth=alice host=" + testHost},
		{name: "no such user", user: "bob", pass: "secret", wantCode: pop3server.CodeAuth,
			wantLog: "Login failed user=bob auth=bob host=" + testHost},
		{name: "temporary", user: "temp", pass: "x", wantCode: pop3server.CodeSysTemp, wantText: "Temporary",
			wantLog: "Login failed user=temp auth=temp host=" + testHost},
		{name: "nologin", user: "alice", pass: "secret", opts: Options{NoLoginFile: nologin},
			wantCode: pop3server.CodeSysTemp, wantText: "Logins are disabled: Back at 14:00",
			wantLog: "Login disabled user=alice auth=alice host=" + testHost},
		{name: "store fails", user: "alice", pass: "secret", openErr: errBoom,
			wantCode: pop3server.CodeSysTemp, wantText: "Mail store unavailable", wantLog: "pop3backend: open store"},
		{name: "locked", user: "alice", pass: "secret", openErr: mailstore.ErrLocked,
			wantCode: pop3server.CodeInUse, wantLog: "pop3backend: open store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := &logRec{}
			tt.opts.Auth = fakeAuth{"alice": "secret", "temp": ""}
			b := newBackend(memstore.New(fixedClock), lr, tt.opts)
			opened := false
			b.opts.OpenStore = func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
				opened = true
				if tt.openErr != nil {
					return nil, tt.openErr
				}
				return memstore.New(fixedClock), nil
			}
			ss, _ := b.NewSession(context.Background(), testConn)
			err := ss.Login(context.Background(), tt.user, tt.pass)
			pe, ok := pop3server.AsError(err)
			if !ok || pe.Code != tt.wantCode || !strings.Contains(pe.Text, tt.wantText) {
				t.Errorf("Login(%q, %q) = %v, want -ERR [%s] ...%s...", tt.user, tt.pass, err, tt.wantCode, tt.wantText)
			}
			if got := lr.take(); len(got) != 1 || got[0] != tt.wantLog {
				t.Errorf("log = %q, want [%q]", got, tt.wantLog)
			}
			if opened != (tt.openErr != nil) {
				t.Errorf("store opened = %v, want %v", opened, tt.openErr != nil)
			}
			if err := ss.Close(); err != nil {
				t.Errorf("Close after a refused login = %v", err)
			}
			if got := lr.take(); len(got) != 0 {
				t.Errorf("Close after a refused login logged %q, want nothing", got)
			}
		})
	}
}

// TestLoginThrottle checks that a failed login waits the throttle's delay
// and a good one clears it.
func TestLoginThrottle(t *testing.T) {
	var slept []time.Duration
	th := auth.NewThrottle(auth.ThrottleOptions{
		Min: 2 * time.Second, Max: 15 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	})
	b := newBackend(memstore.New(fixedClock), nil, Options{Throttle: th})
	for range 2 {
		ss, _ := b.NewSession(context.Background(), testConn)
		if err := ss.Login(context.Background(), "alice", "bad"); err != pop3server.ErrAuth {
			t.Fatalf("Login with a bad password = %v, want ErrAuth", err)
		}
	}
	if want := []time.Duration{2 * time.Second, 4 * time.Second}; !slices.Equal(slept, want) {
		t.Errorf("delays = %v, want %v", slept, want)
	}
	ss, _ := b.NewSession(context.Background(), testConn)
	if err := ss.Login(context.Background(), "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	if n := th.Failures(testConn.RemoteAddr.Addr()); n != 0 {
		t.Errorf("failures after a good login = %d, want 0", n)
	}
}

// TestBeforeOpen checks that the hook runs before the store is opened and
// that its error refuses the login.
func TestBeforeOpen(t *testing.T) {
	for _, fail := range []bool{false, true} {
		var order []string
		b := newBackend(memstore.New(fixedClock), nil, Options{BeforeOpen: func(u *auth.User) error {
			order = append(order, "before "+u.Name)
			if fail {
				return errors.New("setuid failed")
			}
			return nil
		}})
		st := b.opts.OpenStore
		b.opts.OpenStore = func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
			order = append(order, "open")
			return st(ctx, u)
		}
		ss, _ := b.NewSession(context.Background(), testConn)
		err := ss.Login(context.Background(), "alice", "secret")
		want := []string{"before alice", "open"}
		if fail {
			want = want[:1]
			if err == nil || !strings.Contains(err.Error(), "setuid failed") {
				t.Errorf("Login with a failing BeforeOpen = %v, want its error", err)
			}
		} else if err != nil {
			t.Errorf("Login = %v", err)
		}
		if !slices.Equal(order, want) {
			t.Errorf("fail=%v: calls = %q, want %q", fail, order, want)
		}
		ss.Close()
	}
}

// TestLogLines checks UW ipop3d's lines for a session that ends with QUIT.
func TestLogLines(t *testing.T) {
	st := memstore.New(fixedClock)
	appendMsg(t, st, simpleMsg(1))
	appendMsg(t, st, simpleMsg(2))
	lr := &logRec{}
	s := loginLog(t, st, lr)
	if err := s.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	want := []string{
		"Login user=alice host=" + testHost + " nmsgs=2/2",
		"Update user=alice host=" + testHost + " nmsgs=2 ndele=0 nseen=0",
		"Logout user=alice host=" + testHost,
	}
	if got := lr.take(); !slices.Equal(got, want) {
		t.Errorf("log =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPreauth(t *testing.T) {
	st := memstore.New(fixedClock)
	appendMsg(t, st, simpleMsg(1))
	lr := &logRec{}
	b := newBackend(st, lr, Options{})
	ss, err := b.NewPreauthSession(context.Background(), &pop3server.ConnInfo{Loopback: true}, &auth.User{Name: "alice", UID: -1, GID: -1})
	if err != nil {
		t.Fatal(err)
	}
	if n, size, err := ss.Stat(context.Background()); n != 1 || size != int64(len(simpleMsg(1))) || err != nil {
		t.Errorf("Stat = %d, %d, %v, want 1, %d, nil", n, size, err, len(simpleMsg(1)))
	}
	ss.Close()
	want := []string{"Preauthenticated user=alice host=UNKNOWN nmsgs=1/1", "Logout user=alice host=UNKNOWN"}
	if got := lr.take(); !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
}

// TestEndReason checks that a connection that ended otherwise than by QUIT
// logs the server's reason instead of "Logout", as UW did.
func TestEndReason(t *testing.T) {
	st := memstore.New(fixedClock)
	lr := &logRec{}
	s := loginLog(t, st, lr)
	s.SetEndReason("Autologout")
	s.Close()
	want := []string{"Login user=alice host=" + testHost + " nmsgs=0/0", "Autologout user=alice host=" + testHost}
	if got := lr.take(); !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
}
