package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/listen"
	"github.com/postern/postern/internal/pop3server"
)

// InetdOptions say how a connection handed over on fd 0 is served.
type InetdOptions struct {
	// Program is the name the binary was started as; a name starting with
	// "s" (simapd) means implicit TLS, as UW decided.
	Program string
	// TLS forces implicit TLS on (true) or off (false); nil decides by
	// the local port and the program name.
	TLS *bool
	// Service is the protocol: config.ServiceIMAP (the zero value means
	// it too) or config.ServicePOP3. Its implicit-TLS sibling (imaps,
	// pop3s) names the /etc/services port that means implicit TLS.
	Service config.Service
}

// implicitService is the implicit-TLS sibling of a plain service.
func implicitService(s config.Service) config.Service {
	if s.POP3() {
		return config.ServicePOP3S
	}
	return config.ServiceIMAPS
}

// ServeInetd serves the one connection handed over at start (DESIGN.md §2):
// a socket systemd passed with Accept=yes, else standard input, which
// inetd or xinetd made a TCP socket (run mode 1) or which is a pipe (run
// mode 2: `ssh host imapd`, mutt's tunnel). It returns when the client is
// done.
func (d *Daemon) ServeInetd(ctx context.Context, opts InetdOptions) error {
	c, ok, err := activatedConn()
	if err != nil {
		return err
	}
	if !ok {
		if c, ok = stdinSocket(); !ok {
			c = &stdioConn{in: os.Stdin, out: os.Stdout}
		}
	}
	implicit := ok && implicitTLS(c, opts)
	if ok {
		peer := listen.PeerAddr(c).Addr()
		// UW's wording, so log watchers keep working.
		d.log.Info(fmt.Sprintf("port %d service init from %s", listen.LocalAddr(c).Port(), peer))
		if !allowed(d.cfg.AllowFrom, peer) {
			d.log.Warn("connection refused: address not in allow_from", "remote", peer.String())
			refuse(c, opts.Service, "Connections from "+peer.String()+" are not allowed")
			return nil
		}
	}
	if implicit {
		if d.tls == nil {
			c.Close()
			return errors.New("daemon: implicit TLS wanted but no certificate configured (tls_cert, or /etc/ssl/certs/imapd.pem)")
		}
		c = tls.Server(c, d.tls.Config())
	}
	// SIGTERM (the daemon stopping, or a system shutdown) ends the
	// session gracefully: BYE if the client is waiting, after the command
	// in progress otherwise.
	srv, err := d.serverFor(opts.Service)
	if err != nil {
		c.Close()
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sig:
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			srv.Shutdown(sctx)
		case <-done:
		}
	}()
	srv.ServeConn(ctx, c, implicit)
	return nil
}

// implicitTLS decides as UW did: the connection arrived on the port
// /etc/services gives the implicit-TLS service (993 when it has none), or
// the program's name starts with "s" (simapd); opts.TLS overrides both.
func implicitTLS(c net.Conn, opts InetdOptions) bool {
	if opts.TLS != nil {
		return *opts.TLS
	}
	if strings.HasPrefix(filepath.Base(opts.Program), "s") {
		return true
	}
	return int(listen.LocalAddr(c).Port()) == ServicePort(string(implicitService(opts.Service)))
}

// wellKnownPorts are the IANA ports of the implicit-TLS services (RFC 8314
// §7), used when /etc/services does not list them.
var wellKnownPorts = map[string]int{"imaps": 993, "pop3s": 995, "imap": 143, "pop3": 110}

// ServicePort returns the TCP port /etc/services gives name, or its IANA
// port when the file does not list it (0 for an unknown name).
func ServicePort(name string) int {
	if p, err := net.LookupPort("tcp", name); err == nil {
		return p
	}
	return wellKnownPorts[name]
}

// stdinSocket returns standard input as a connection when it is an IP
// socket (inetd mode). A pipe, a terminal or a Unix socketpair (ssh,
// mutt's tunnel) gives false: that is pipe mode.
func stdinSocket() (net.Conn, bool) {
	c, err := net.FileConn(os.Stdin)
	if err != nil {
		return nil, false
	}
	if _, ok := c.RemoteAddr().(*net.TCPAddr); !ok {
		c.Close()
		return nil, false
	}
	return c, true
}

// StdinIsPipe reports whether imapd was started in pipe mode: standard
// input is not an IP socket and systemd passed no connection.
func StdinIsPipe() bool {
	if os.Getenv("LISTEN_FDS") != "" {
		return false
	}
	c, ok := stdinSocket()
	if ok {
		c.Close()
	}
	return !ok
}

// NewPreauth builds a daemon that serves the pipe on standard input to the
// user who started it, greeted with PREAUTH (DESIGN.md §2 run mode 2; RFC
// 3501 §7.1.4), as UW imapd did when not started as root. The user's mail
// is found as for any system account (mail_store: mbox_inbox and mbox_dir,
// or system_mail_root). No password database is opened.
func NewPreauth(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	uid := os.Getuid()
	if uid == 0 {
		return nil, errors.New("daemon: pre-authenticated pipe mode refused for root")
	}
	pw, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return nil, fmt.Errorf("daemon: looking up the user running imapd (uid %d): %w", uid, err)
	}
	gid, _ := strconv.Atoi(pw.Gid)
	u := &auth.User{Name: pw.Username, UID: uid, GID: gid, Home: pw.HomeDir}
	if u.Home == "" || u.Home == "/nonexistent" {
		log.Warn("the user running imapd has no home directory; mail paths using %h will not resolve", "user", u.Name)
	}
	// The pipe's user is a system account whatever auth says: the store
	// is chosen as for system accounts (mbox by default).
	pcfg := *cfg
	pcfg.Auth = config.AuthSystem
	d, err := newDaemon(&pcfg, log, nil, nil)
	if err != nil {
		return nil, err
	}
	d.server = imapserver.New(d.serverOptions(nil, func(ctx context.Context, info *imapserver.ConnInfo) (imapserver.Session, error) {
		return d.backend.NewPreauthSession(ctx, info, u)
	}))
	d.pop3 = pop3server.New(d.pop3Options(nil, func(ctx context.Context, info *pop3server.ConnInfo) (pop3server.Session, error) {
		return d.pop3backend.NewPreauthSession(ctx, info, u)
	}))
	return d, nil
}

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
