package listen

import (
	"context"
	"strings"
	"testing"
)

func TestFamilies(t *testing.T) {
	tests := []struct {
		in   Socket
		want string
	}{
		{Socket{"tcp4", "0.0.0.0:143", false}, "IPv4 only"},
		{Socket{"tcp4", "127.0.0.1:143", false}, "IPv4 only"},
		{Socket{"tcp6", "[::]:143", false}, "IPv4 and IPv6"},
		{Socket{"tcp6", "[::]:143", true}, "IPv6 only"},
		{Socket{"tcp6", "[::1]:143", true}, "IPv6 only"},
		{Socket{"tcp6", "[::1]:143", false}, "IPv6 only"}, // not a wildcard: no IPv4 can reach it
	}
	for _, tt := range tests {
		if got := tt.in.Families().String(); got != tt.want {
			t.Errorf("%v.Families() = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := Reach(nil).String(); got != "no address family" {
		t.Errorf("Reach(nil) = %s, want no address family", got)
	}
	if got := Reach([]Socket{tests[1].in, tests[4].in}).String(); got != "IPv4 and IPv6" {
		t.Errorf("Reach(127.0.0.1, ::1) = %s, want IPv4 and IPv6", got)
	}
}

func TestPlanErrors(t *testing.T) {
	for _, addrs := range [][]string{
		{"127.0.0.1"},
		{"127.0.0.1:notaport"},
		{"[::1]:70000"},
		{"name.invalid:143"}, // RFC 6761 §6.4: never resolves
	} {
		socks, err := Plan(context.Background(), addrs)
		if err == nil || !strings.HasPrefix(err.Error(), "listen: ") || socks != nil {
			t.Errorf("Plan(%q) = %v, %v; want nil and a listen: error", addrs, socks, err)
		}
	}
}
