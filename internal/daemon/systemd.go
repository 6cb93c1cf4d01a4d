package daemon

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/systemd"
)

// This file is run mode 4 of DESIGN.md §2: sockets and readiness from
// systemd. Accept=no units hand the daemon its listening sockets
// (activatedListeners, used by Run for `postern serve` and `imapd -l`);
// Accept=yes units start imapd once per connection with the connection as
// fd 3 (activatedConn, used by ServeInetd). StandardInput=socket needs
// nothing here: fd 0 is then the connection, as under inetd.

// activatedConn returns the connection systemd passed to a socket-activated
// service with Accept=yes (sd_listen_fds(3): LISTEN_FDS=1, the connection
// on fd 3), or false when systemd passed nothing. Listening sockets are an
// error: those belong to `postern serve` or `imapd -l`.
func activatedConn() (net.Conn, bool, error) {
	files, err := systemd.Files()
	if err != nil {
		return nil, false, fmt.Errorf("daemon: %w", err)
	}
	switch len(files) {
	case 0:
		return nil, false, nil
	case 1:
	default:
		closeFiles(files)
		return nil, false, fmt.Errorf("daemon: systemd passed %d sockets; an Accept=yes service gets one connection (for Accept=no sockets run postern serve or imapd -l)", len(files))
	}
	name := files[0].Fd.Name()
	c, err := files[0].Conn()
	if err != nil {
		return nil, false, fmt.Errorf("daemon: %w (for Accept=no sockets run postern serve or imapd -l)", err)
	}
	if _, ok := c.RemoteAddr().(*net.TCPAddr); !ok {
		c.Close()
		return nil, false, fmt.Errorf("daemon: systemd %s: not a TCP connection (%s)", name, c.LocalAddr().Network())
	}
	return c, true, nil
}

// activatedListeners returns the listening sockets systemd passed to an
// Accept=no service, each with its service, or nil when systemd passed
// none. Each is logged as a bound listener is. Anything but a listening
// TCP socket is an error naming its fd; nothing stays open then.
func (d *Daemon) activatedListeners() ([]Bound, error) {
	files, err := systemd.Files()
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	var bound []Bound
	for i, f := range files {
		name := f.Fd.Name()
		l, err := f.Listener()
		var svc config.Service
		if err == nil {
			if ta, ok := l.Addr().(*net.TCPAddr); !ok {
				l.Close()
				err = fmt.Errorf("systemd %s: not a TCP socket (%s)", name, l.Addr().Network())
			} else if svc = activatedService(f.Name, ta.Port); svc.ImplicitTLS() && d.tls == nil {
				l.Close()
				err = fmt.Errorf("systemd %s: %w", name, errNoCertificate)
			}
		}
		if err != nil {
			closeFiles(files[i+1:])
			for _, b := range bound {
				b.Listener.Close()
			}
			return nil, fmt.Errorf("daemon: %w", err)
		}
		d.log.Info("listening", "service", string(svc), "addr", l.Addr().String(), "systemd", name)
		bound = append(bound, Bound{Service: svc, Listener: l})
	}
	if len(bound) > 0 && len(d.cfg.Listeners) > 0 {
		var addrs []string
		for _, l := range d.cfg.Listeners {
			addrs = append(addrs, string(l.Service)+"="+l.Addr)
		}
		d.log.Info("serving the sockets systemd passed; configured listeners ignored", "ignored", strings.Join(addrs, " "))
	}
	return bound, nil
}

// activatedService is the service of a socket systemd passed: its
// FileDescriptorName= when that is a service name, else by its local port
// as UW decided for inetd (the imaps port from /etc/services, or 993, is
// implicit TLS; any other port is imap with STARTTLS).
func activatedService(name string, port int) config.Service {
	if svc, err := config.ParseService(name); err == nil {
		return svc
	}
	switch {
	case port == 993 || port == ServicePort(string(config.ServiceIMAPS)):
		return config.ServiceIMAPS
	case port == 995 || port == ServicePort(string(config.ServicePOP3S)):
		return config.ServicePOP3S
	case port == 110 || port == ServicePort(string(config.ServicePOP3)):
		return config.ServicePOP3
	}
	return config.ServiceIMAP
}

// closeFiles closes sockets systemd passed that will not be served.
func closeFiles(files []systemd.File) {
	for _, f := range files {
		f.Fd.Close()
	}
}

// notify sends state to systemd (a no-op when not started by systemd with
// Type=notify). A failure is logged, never fatal: the service works
// without its manager hearing about it.
func (d *Daemon) notify(state string) {
	if err := systemd.Notify(state); err != nil {
		first, _, _ := strings.Cut(state, "\n")
		d.log.Warn("systemd notification failed", "state", first, "err", err)
	}
}

// readyState is READY=1 with a STATUS= line listing what is served, for
// `systemctl status`.
func readyState(bound []Bound) string {
	parts := make([]string, 0, len(bound))
	for _, b := range bound {
		parts = append(parts, string(b.Service)+" "+b.Listener.Addr().String())
	}
	return systemd.Ready + "\n" + systemd.Status("serving "+strings.Join(parts, ", "))
}

// errNoCertificate is Serve's refusal of an imaps listener when no
// certificate is configured (a socket systemd named imaps, say).
var errNoCertificate = errors.New("imaps listener without a certificate (tls_cert)")
