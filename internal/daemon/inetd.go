package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InetdOptions say how a connection handed over on fd 0 is served.
type InetdOptions struct {
	// Program is the name the binary was started as; a name starting with
	// "s" (simapd) means implicit TLS, as UW decided.
	Program string
	// TLS forces implicit TLS on (true) or off (false); nil decides by
	// the local port (993, the imaps port) and the program name.
	TLS *bool
}

// ServeInetd serves the one connection on standard input, as started by
// inetd or xinetd (DESIGN.md §2 run mode 1), or a pipe (mode 2). It returns
// when the client is done.
func (d *Daemon) ServeInetd(ctx context.Context, opts InetdOptions) error {
	c, err := net.FileConn(os.Stdin)
	isSocket := err == nil
	if !isSocket {
		c = &stdioConn{in: os.Stdin, out: os.Stdout}
	}
	implicit := strings.HasPrefix(filepath.Base(opts.Program), "s")
	if isSocket {
		if ta, ok := c.LocalAddr().(*net.TCPAddr); ok && ta.Port == imapsPort {
			implicit = true
		}
	}
	if opts.TLS != nil {
		implicit = *opts.TLS
	}
	if implicit {
		if d.tls == nil {
			c.Close()
			return errors.New("daemon: implicit TLS wanted but no certificate configured")
		}
		c = tls.Server(c, d.tls.Config())
	}
	d.server.ServeConn(ctx, c, implicit)
	return nil
}

// imapsPort is the IANA imaps port (RFC 8314 §7.2); UW used the number from
// /etc/services, which the run-mode issue adds.
const imapsPort = 993

// stdioConn is a net.Conn over standard input and output, for pipe mode
// (`ssh host imapd`, mutt's tunnel).
type stdioConn struct {
	in, out *os.File
}

func (c *stdioConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *stdioConn) Close() error {
	err1, err2 := c.in.Close(), c.out.Close()
	return errors.Join(err1, err2)
}
func (c *stdioConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *stdioConn) RemoteAddr() net.Addr { return pipeAddr{} }

// Deadlines are best effort: pipes support them only when non-blocking.
func (c *stdioConn) SetDeadline(t time.Time) error {
	return errors.Join(c.in.SetReadDeadline(t), c.out.SetWriteDeadline(t))
}
func (c *stdioConn) SetReadDeadline(t time.Time) error  { return c.in.SetReadDeadline(t) }
func (c *stdioConn) SetWriteDeadline(t time.Time) error { return c.out.SetWriteDeadline(t) }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
