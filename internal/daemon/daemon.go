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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/imapbackend"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/listen"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/systemd"
	"github.com/postern/postern/internal/tlsconfig"
)

// Daemon is a configured server ready to bind and serve.
type Daemon struct {
	cfg     *config.Config
	log     *slog.Logger
	tls     *tlsconfig.Store // nil without certificates
	server  *imapserver.Server
	backend *imapbackend.Backend
	limit   *connLimiter
}

// New builds the server from cfg. It opens the password file and the
// certificates, so configuration mistakes are reported before binding.
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	if err := checkListenerTLS(cfg); err != nil {
		return nil, err
	}
	users, err := virtual.Open(cfg.PasswdFile, virtual.Options{
		MailRootTemplate: cfg.MailRoot,
		Logger:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return newDaemon(cfg, log, users)
}

// checkListenerTLS reports an implicit-TLS listener without a certificate
// before anything is opened.
func checkListenerTLS(cfg *config.Config) error {
	for _, l := range cfg.Listeners {
		if l.Service == config.ServiceIMAPS && cfg.TLSCert == "" {
			return fmt.Errorf("daemon: imaps listener %s needs a certificate (tls_cert)", l.Addr)
		}
	}
	return nil
}

// newDaemon builds the server around an authenticator (nil for a daemon
// that only serves a pre-authenticated pipe).
func newDaemon(cfg *config.Config, log *slog.Logger, users auth.Authenticator) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log, limit: newConnLimiter(cfg.MaxConnections, cfg.MaxConnsPerIP, cfg.AllowFrom)}
	d.limit.log = log
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		st, err := tlsconfig.Load(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		for _, p := range cfg.SNICerts {
			if err := st.Add(p.Cert, p.Key); err != nil {
				return nil, fmt.Errorf("daemon: tls_sni_cert: %w", err)
			}
		}
		d.tls = st
		tlsConfig = st.Config()
	}
	d.backend = imapbackend.New(imapbackend.Options{
		Auth:      users,
		OpenStore: openMaildir(cfg, log),
		Logger:    log,
		Throttle:  auth.NewThrottle(auth.ThrottleOptions{}),

		NoLoginFile:     cfg.NoLoginFile,
		SystemAlertFile: cfg.AlertFile,
		UserAlertFile:   cfg.UserAlertFile,
	})
	d.server = imapserver.New(d.serverOptions(tlsConfig, d.backend.NewSession))
	return d, nil
}

// serverOptions maps the configuration onto the protocol engine's options.
func (d *Daemon) serverOptions(tlsConfig *tls.Config, newSession func(context.Context, *imapserver.ConnInfo) (imapserver.Session, error)) imapserver.Options {
	cfg := d.cfg
	return imapserver.Options{
		NewSession:         newSession,
		Logger:             d.log,
		TLSConfig:          tlsConfig,
		InsecureAuth:       cfg.InsecureAuth,
		MaxLineLength:      cfg.MaxLineLength,
		MaxLiteralSize:     cfg.MaxLiteralSize,
		MaxAppendSize:      cfg.MaxAppendSize,
		MaxDepth:           cfg.MaxDepth,
		LoginTimeout:       cfg.LoginTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		IdleCommandTimeout: cfg.IdleCommandLimit,
		LiteralTimeout:     cfg.LiteralTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		MaxLoginFailures:   cfg.MaxLoginFailures,
		MaxLiteralTotal:    cfg.MaxLiteralTotal,
		MaxFetchItems:      cfg.MaxFetchItems,
		MaxSearchKeys:      cfg.MaxSearchKeys,
		MaxFlags:           cfg.MaxFlags,
	}
}

// openMaildir opens a user's Maildir: the account database's mail root,
// else the mail_root template.
func openMaildir(cfg *config.Config, log *slog.Logger) func(context.Context, *auth.User) (mailstore.Store, error) {
	return func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
		root := u.MailRoot
		if root == "" {
			root = expandMailRoot(cfg.MailRoot, u)
		}
		return maildir.Open(root, maildir.Options{Logger: log.With("user", u.Name)})
	}
}

// expandMailRoot fills a mail-root template: %u the user name, %h the home
// directory, %% a percent sign.
func expandMailRoot(tmpl string, u *auth.User) string {
	return strings.NewReplacer("%%", "%", "%u", u.Name, "%h", u.Home).Replace(tmpl)
}

// Bound is a listener the daemon bound, with the service it offers.
type Bound struct {
	Service  config.Service
	Listener net.Listener
}

// Listen binds every configured listener (DESIGN.md §2 dual-stack rules).
// On failure nothing stays bound.
func (d *Daemon) Listen(ctx context.Context) ([]Bound, error) {
	var bound []Bound
	for _, svc := range []config.Service{config.ServiceIMAP, config.ServiceIMAPS} {
		var addrs []string
		for _, l := range d.cfg.Listeners {
			if l.Service == svc {
				addrs = append(addrs, l.Addr)
			}
		}
		if len(addrs) == 0 {
			continue
		}
		ls, err := listen.Listen(ctx, addrs, d.log.With("service", string(svc)))
		if err != nil {
			for _, b := range bound {
				b.Listener.Close()
			}
			return nil, fmt.Errorf("daemon: %s: %w", svc, err)
		}
		for _, l := range ls {
			bound = append(bound, Bound{svc, l})
		}
	}
	return bound, nil
}

// Serve serves the bound listeners until ctx is done, then shuts down
// gracefully (BYE to waiting clients) within shutdownGrace.
func (d *Daemon) Serve(ctx context.Context, bound []Bound) error {
	// Refuse before serving anything, so no goroutine outlives an error.
	for _, b := range bound {
		if b.Service == config.ServiceIMAPS && d.tls == nil {
			return fmt.Errorf("daemon: %w", errNoCertificate)
		}
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(bound))
	for _, b := range bound {
		var l net.Listener = &limitListener{Listener: b.Listener, lim: d.limit}
		if b.Service == config.ServiceIMAPS {
			l = listen.TLSListener(l, d.tls.Config())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.server.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
				errc <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	// Tell systemd before the grace period, so `systemctl status` says
	// "deactivating" while sessions finish (sd_notify(3) STOPPING=1).
	d.notify(systemd.Stopping)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if serr := d.server.Shutdown(sctx); serr != nil && err == nil && !errors.Is(serr, context.DeadlineExceeded) {
		err = serr
	}
	for _, b := range bound {
		b.Listener.Close()
	}
	wg.Wait()
	return err
}

// shutdownGrace is how long in-flight commands get to finish on SIGTERM.
const shutdownGrace = 10 * time.Second

// Run binds, serves and handles signals: SIGTERM and SIGINT stop the
// server gracefully; SIGHUP reloads the certificates without dropping
// sessions. When systemd passed listening sockets (Accept=no socket
// activation, DESIGN.md §2 run mode 4) they are served instead of the
// configured listeners. ready is called with the bound listeners before
// serving; then systemd is told READY=1 (a no-op outside systemd).
func (d *Daemon) Run(ctx context.Context, ready func([]Bound)) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	bound, err := d.activatedListeners()
	if err != nil {
		return err
	}
	if bound == nil {
		if bound, err = d.Listen(ctx); err != nil {
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				d.reload()
			}
		}
	}()
	if ready != nil {
		ready(bound)
	}
	d.notify(readyState(bound))
	return d.Serve(ctx, bound)
}

// reload rereads the certificates on SIGHUP. systemd hears RELOADING=1
// first and READY=1 after, as Type=notify-reload units require
// (sd_notify(3)); a failed reload keeps the old certificates and says so
// in the status.
func (d *Daemon) reload() {
	d.notify(systemd.Reloading())
	status := "reloaded (no certificates configured)"
	if d.tls != nil {
		status = "certificates reloaded"
		if err := d.tls.Reload(); err != nil {
			status = "certificate reload failed; old certificates kept"
			d.log.Error("certificate reload failed; keeping the old certificates", "err", err)
		} else {
			d.log.Info(status)
		}
	}
	d.notify(systemd.Ready + "\n" + systemd.Status(status))
}
