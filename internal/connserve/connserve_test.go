package connserve

import (
	"net"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, true},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1")}, false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1")}, false},
		{&net.UnixAddr{Name: "@", Net: "unix"}, true},
		{nil, true},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("IsLoopback(%v) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestAddrPort(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
		ok   bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 143}, "192.0.2.1:143", true},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 993, Zone: "eth0"}, "[fe80::1%eth0]:993", true},
		{&net.UDPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7:1", true},
		{&net.UnixAddr{Name: "/run/x", Net: "unix"}, "invalid AddrPort", false},
		{nil, "invalid AddrPort", false},
	}
	for _, tt := range tests {
		got, ok := AddrPort(tt.addr)
		if got.String() != tt.want || ok != tt.ok {
			t.Errorf("AddrPort(%v) = %v, %v; want %s, %v", tt.addr, got, ok, tt.want, tt.ok)
		}
	}
}
