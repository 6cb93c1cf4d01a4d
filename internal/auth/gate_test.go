package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mapAuth accepts the users of its map; "temp" fails temporarily and
// "broken" with an unknown error.
type mapAuth map[string]string

func (m mapAuth) Authenticate(ctx context.Context, user, pass string) (*User, error) {
	switch {
	case user == "temp":
		return nil, ErrTemporary
	case user == "broken":
		return nil, errors.New("database on fire")
	case m[user] == "" || m[user] != pass:
		return nil, ErrInvalidCredentials
	}
	return &User{Name: user, UID: 1000, GID: 1000}, nil
}

func TestGate(t *testing.T) {
	peer := netip.MustParseAddrPort("[::ffff:192.0.2.9]:40000")
	nologin := filepath.Join(t.TempDir(), "nologin")
	tests := []struct {
		name       string
		user, pass string
		nologin    bool
		hookErr    error
		wantKind   string // "" with wantErr "": success
		wantErr    string
		wantLog    string
		wantSleeps int
		wantHook   bool
	}{
		{name: "success", user: "alice", pass: "pw", wantHook: true},
		{name: "wrong password", user: "alice", pass: "nope", wantKind: RefusedCredentials, wantLog: `msg="Login failed user=alice auth=alice host=192.0.2.9 [192.0.2.9]"`, wantSleeps: 1},
		{name: "unknown user", user: "mallory", pass: "x", wantKind: RefusedCredentials, wantLog: "Login failed user=mallory", wantSleeps: 1},
		{name: "temporary", user: "temp", pass: "x", wantKind: RefusedTemporary, wantLog: "Login failed user=temp"},
		{name: "nologin", user: "alice", pass: "pw", nologin: true, wantKind: RefusedNoLogin, wantLog: `msg="Login disabled user=alice auth=alice host=192.0.2.9 [192.0.2.9]"`},
		{name: "broken database", user: "broken", pass: "x", wantErr: "database on fire"},
		{name: "hook refuses", user: "alice", pass: "pw", hookErr: errors.New("setuid failed"), wantErr: "setuid failed", wantHook: true},
	}
	for _, tt := range tests {
		os.Remove(nologin)
		if tt.nologin {
			os.WriteFile(nologin, []byte("maintenance\n"), 0o644)
		}
		var log strings.Builder
		sleeps := 0
		hooked := false
		g := &Gate{
			Auth:        mapAuth{"alice": "pw"},
			Throttle:    NewThrottle(ThrottleOptions{Sleep: func(context.Context, time.Duration) error { sleeps++; return nil }}),
			NoLoginFile: nologin,
			BeforeOpen:  func(*User) error { hooked = true; return tt.hookErr },
			Logger:      slog.New(slog.NewTextHandler(&log, nil)),
		}
		u, err := g.Login(context.Background(), tt.user, tt.pass, peer)
		var r *Refused
		switch {
		case tt.wantKind != "":
			if !errors.As(err, &r) || r.Kind != tt.wantKind {
				t.Errorf("%s: Login = %v, want refused (%s)", tt.name, err, tt.wantKind)
			}
		case tt.wantErr != "":
			if err == nil || errors.As(err, &r) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Login = %v, want an error containing %q (not a refusal)", tt.name, err, tt.wantErr)
			}
		default:
			if err != nil || u == nil || u.Name != tt.user {
				t.Errorf("%s: Login = %v, %v; want user %s", tt.name, u, err, tt.user)
			}
		}
		if !strings.Contains(log.String(), tt.wantLog) || sleeps != tt.wantSleeps || hooked != tt.wantHook {
			t.Errorf("%s: log %q, %d delays, hook run %v; want log containing %q, %d delays, hook %v", tt.name, log.String(), sleeps, hooked, tt.wantLog, tt.wantSleeps, tt.wantHook)
		}
		if f := g.Throttle.Failures(peer.Addr()); f != tt.wantSleeps {
			t.Errorf("%s: throttle failures %d, want %d", tt.name, f, tt.wantSleeps)
		}
	}
}
