package daemon

import (
	"net"
	"testing"

	"github.com/postern/postern/internal/auth"
)

// addrConn is a net.Conn with fixed addresses, for the decisions that
// depend only on them.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }

func TestImplicitTLS(t *testing.T) {
	on, off := true, false
	tcp := func(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
	imaps := ServicePort("imaps")
	tests := []struct {
		name    string
		program string
		local   net.Addr
		force   *bool
		want    bool
	}{
		{"imap port", "/usr/local/sbin/imapd", tcp("127.0.0.1", 143), nil, false},
		{"imaps port", "/usr/local/sbin/imapd", tcp("127.0.0.1", imaps), nil, true},
		{"imaps port, IPv6", "imapd", tcp("::1", imaps), nil, true},
		{"imaps port, mapped IPv4", "imapd", tcp("::ffff:127.0.0.1", imaps), nil, true},
		{"simapd on imap port", "simapd", tcp("127.0.0.1", 143), nil, true},
		{"simapd by path", "/usr/sbin/simapd", tcp("127.0.0.1", 10143), nil, true},
		{"s only in the directory", "/srv/imapd", tcp("127.0.0.1", 143), nil, false},
		{"-notls on imaps port", "imapd", tcp("127.0.0.1", imaps), &off, false},
		{"-tls on imap port", "imapd", tcp("127.0.0.1", 143), &on, true},
	}
	for _, tt := range tests {
		c := addrConn{local: tt.local, remote: tcp("127.0.0.1", 40000)}
		if got := implicitTLS(c, InetdOptions{Program: tt.program, TLS: tt.force}); got != tt.want {
			t.Errorf("%s: implicitTLS(%s, %s) = %v, want %v", tt.name, tt.program, tt.local, got, tt.want)
		}
	}
}

func TestServicePort(t *testing.T) {
	// /etc/services may or may not list these; either way the answer is
	// the IANA port on any sane system.
	for name, want := range map[string]int{"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110, "no-such-service-x": 0} {
		if got := ServicePort(name); got != want {
			t.Errorf("ServicePort(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestExpandMailRoot(t *testing.T) {
	u := &auth.User{Name: "alice", Home: "/home/alice"}
	tests := map[string]string{
		"%h/Maildir":          "/home/alice/Maildir",
		"/var/vmail/%u":       "/var/vmail/alice",
		"/srv/%u/%h":          "/srv/alice//home/alice",
		"/srv/100%%/%u":       "/srv/100%/alice",
		"/var/mail/%u/mdir%%": "/var/mail/alice/mdir%",
	}
	for in, want := range tests {
		if got := expandMailRoot(in, u); got != want {
			t.Errorf("expandMailRoot(%q) = %q, want %q", in, got, want)
		}
	}
}
