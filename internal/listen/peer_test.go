package listen

import (
	"net"
	"testing"
)

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

type fakeConn struct {
	net.Conn
	remote net.Addr
}

func (c fakeConn) RemoteAddr() net.Addr { return c.remote }
func (c fakeConn) LocalAddr() net.Addr  { return c.remote }

func TestPeerAddr(t *testing.T) {
	tests := []struct {
		addr     net.Addr
		want     string
		loopback bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 143}, "192.0.2.1:143", false},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1").To4(), Port: 143}, "192.0.2.1:143", false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.2"), Port: 1}, "127.0.0.2:1", true},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 993}, "[2001:db8::1]:993", false},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 993, Zone: "eth0"}, "[fe80::1%eth0]:993", false},
		{&net.UDPAddr{IP: net.ParseIP("::1"), Port: 5}, "[::1]:5", true},
		{fakeAddr("[::ffff:10.0.0.1]:5"), "10.0.0.1:5", false},
		{&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, "invalid AddrPort", false},
		{fakeAddr("pipe"), "invalid AddrPort", false},
		{nil, "invalid AddrPort", false},
		{(*net.TCPAddr)(nil), "invalid AddrPort", false},
	}
	for _, tt := range tests {
		c := fakeConn{remote: tt.addr}
		if got := PeerAddr(c).String(); got != tt.want {
			t.Errorf("PeerAddr(%v) = %s, want %s", tt.addr, got, tt.want)
		}
		if got := LocalAddr(c).String(); got != tt.want {
			t.Errorf("LocalAddr(%v) = %s, want %s", tt.addr, got, tt.want)
		}
		if got := IsLoopback(c); got != tt.loopback {
			t.Errorf("IsLoopback(%v) = %v, want %v", tt.addr, got, tt.loopback)
		}
	}
	if got := PeerAddr(nil); got.IsValid() {
		t.Errorf("PeerAddr(nil) = %v, want the zero AddrPort", got)
	}
}
