package imapserver

import (
	"crypto/tls"

	"github.com/postern/postern/internal/imap"
)

// handleStartTLS is STARTTLS (RFC 3501 §6.2.1, RFC 2595 §3.1).
//
// Anything the client sent after the STARTTLS line and before the
// handshake is discarded, never read as a command after it: otherwise a
// man in the middle could prepend plaintext commands that run inside the
// encrypted session (CVE-2011-0411 and its many siblings). So the TLS
// connection is layered on the raw net.Conn, not on the buffered reader,
// and the reader is reset.
func handleStartTLS(c *conn, cmd *command) error {
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if c.info.TLS {
		return imap.BAD("", "TLS is already active")
	}
	if c.srv.opts.TLSConfig == nil {
		return imap.BAD("", "STARTTLS is not available")
	}
	c.w.status(cmd.tag, imap.StatusOK, "", "", "Begin TLS negotiation now")
	cmd.responded = true
	if err := c.w.Flush(); err != nil {
		return &ioError{err}
	}
	if n := c.br.Buffered(); n > 0 {
		c.log.Warn("imapserver: discarding data pipelined after STARTTLS", "octets", n)
	}
	tc := tls.Server(c.raw, c.srv.opts.TLSConfig)
	c.raw.SetDeadline(c.literalDeadline())
	c.forgetWriteDeadline()
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Info("imapserver: STARTTLS handshake failed", "err", err)
		return &ioError{err}
	}
	c.nc = tc
	c.br.Reset(tc)
	c.dec = c.newDecoder()
	c.info.TLS = true
	return nil
}
