package auth

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestNoLogin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nologin")
	tests := []struct {
		content *string
		reason  string
		off     bool
	}{
		{nil, "", true},
		{ptr(""), "Logins are disabled", false},
		{ptr("Back at 17:00\nsecond line\n"), "Logins are disabled: Back at 17:00", false},
		{ptr("tab\there\r\n"), "Logins are disabled: tabhere", false},
	}
	for _, tt := range tests {
		os.Remove(file)
		if tt.content != nil {
			if err := os.WriteFile(file, []byte(*tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		reason, disabled := NoLogin(file)
		if reason != tt.reason || disabled == tt.off {
			t.Errorf("NoLogin with %v = %q, %v; want %q, %v", tt.content != nil, reason, disabled, tt.reason, !tt.off)
		}
	}
	if _, disabled := NoLogin(""); disabled {
		t.Error(`NoLogin("") disabled logins`)
	}
}

func ptr(s string) *string { return &s }

func TestLogHost(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:143":        "192.0.2.1 [192.0.2.1]",
		"[::ffff:192.0.2.1]:1": "192.0.2.1 [192.0.2.1]",
		"[2001:db8::1]:993":    "2001:db8::1 [2001:db8::1]",
	} {
		if got := LogHost(netip.MustParseAddrPort(in)); got != want {
			t.Errorf("LogHost(%s) = %q, want %q", in, got, want)
		}
	}
	if got := LogHost(netip.AddrPort{}); got != "UNKNOWN" {
		t.Errorf("LogHost(zero) = %q, want UNKNOWN", got)
	}
}
