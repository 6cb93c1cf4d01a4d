package listen

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// HandshakeTimeout bounds an implicit-TLS handshake (imaps, RFC 8314 §3.3;
// pop3s), so that a client that connects and says nothing holds its
// socket no longer than this.
const HandshakeTimeout = 30 * time.Second

// TLSListener wraps l for implicit TLS: Accept returns a *tls.Conn at once,
// without waiting for the handshake, so that a stalled client never delays
// other clients' Accepts. The handshake runs in the background under
// HandshakeTimeout; the server's first Read or Write waits for it and
// returns its error if it failed (the connection is then closed). The
// result is a plain *tls.Conn, so type assertions for ConnectionState work;
// like Read and Write, ConnectionState waits for the handshake to end.
func TLSListener(l net.Listener, cfg *tls.Config) net.Listener {
	return &tlsListener{Listener: l, cfg: cfg, timeout: HandshakeTimeout}
}

type tlsListener struct {
	net.Listener
	cfg     *tls.Config
	timeout time.Duration
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := tls.Server(c, l.cfg)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		defer cancel()
		// On timeout HandshakeContext closes the connection; the
		// error is kept in tc and returned by its first Read or Write.
		_ = tc.HandshakeContext(ctx)
	}()
	return tc, nil
}
