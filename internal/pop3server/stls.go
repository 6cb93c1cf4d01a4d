package pop3server

import "crypto/tls"

// handleSTLS is STLS (RFC 2595 §4).
//
// Anything the client sent after the STLS line and before the handshake
// is discarded, never read as a command after it: otherwise a man in the
// middle could prepend plaintext commands that run inside the encrypted
// session (CVE-2011-0411 and its many siblings). So the TLS connection is
// layered on the raw net.Conn, not on the buffered reader, and the reader
// is reset.
func handleSTLS(c *conn, r request) error {
	if err := wantArgs(r, 0, 0); err != nil {
		return err
	}
	if c.info.TLS {
		return &Error{Text: "Command not permitted when TLS active"} // RFC 2595 §4 example
	}
	if c.srv.opts.TLSConfig == nil {
		return &Error{Text: "STLS is not available"}
	}
	c.writeOK("Begin TLS negotiation now")
	if err := c.flush(); err != nil {
		return &ioError{err}
	}
	if n := c.br.Buffered(); n > 0 {
		c.log.Warn("pop3server: discarding data pipelined after STLS", "octets", n)
	}
	tc := tls.Server(c.raw, c.srv.opts.TLSConfig)
	c.raw.SetDeadline(c.loginDeadline)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Info("pop3server: STLS handshake failed", "err", err)
		return &ioError{err}
	}
	c.nc = tc
	c.br.Reset(tc)
	c.info.TLS = true
	return nil
}
