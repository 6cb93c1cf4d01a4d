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
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/imapbackend"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/listen"
	"github.com/postern/postern/internal/pop3backend"
	"github.com/postern/postern/internal/pop3server"
	"github.com/postern/postern/internal/systemd"
	"github.com/postern/postern/internal/tlsconfig"
)

// Daemon is a configured server ready to bind and serve.
type Daemon struct {
	cfg    *config.Config
	log    *slog.Logger
	tls    *tlsconfig.Store // nil without certificates
	server *imapserver.Server
	// pop3 serves the pop3 and pop3s services.
	pop3        protocolServer
	pop3backend *pop3backend.Backend
	backend     *imapbackend.Backend
	// throttle delays answers to failed logins per client address; in
	// a per-connection child it also reports to the parent's.
	throttle *auth.Throttle
	// children serves each connection in its own process (system
	// accounts, as root): see child.go.
	children *childSet
	limit    *connLimiter
}

// New builds the server from cfg. It opens the password file and the
// certificates, so configuration mistakes are reported before binding.
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	if err := checkListenerTLS(cfg); err != nil {
		return nil, err
	}
	return newWith(cfg, log, nil)
}

// newWith is New with the login throttle given (nil: a fresh one).
func newWith(cfg *config.Config, log *slog.Logger, throttle *auth.Throttle) (*Daemon, error) {
	users, err := newAuthenticator(cfg, log)
	if err != nil {
		return nil, err
	}
	return newDaemon(cfg, log, users, throttle)
}

// checkListenerTLS reports an implicit-TLS listener without a certificate
// before anything is opened.
func checkListenerTLS(cfg *config.Config) error {
	for _, l := range cfg.Listeners {
		if l.Service.ImplicitTLS() && cfg.TLSCert == "" {
			return fmt.Errorf("daemon: %s listener %s needs a certificate (tls_cert)", l.Service, l.Addr)
		}
	}
	return nil
}

// newDaemon builds the server around an authenticator (nil for a daemon
// that only serves a pre-authenticated pipe).
func newDaemon(cfg *config.Config, log *slog.Logger, users auth.Authenticator, throttle *auth.Throttle) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log, limit: newConnLimiter(cfg.MaxConnections, cfg.MaxConnsPerIP, cfg.AllowFrom)}
	d.throttle = throttle
	if d.throttle == nil {
		d.throttle = auth.NewThrottle(auth.ThrottleOptions{Min: cfg.LoginDelay, Max: cfg.LoginDelayMax, GlobalRate: cfg.LoginFailureRate, GlobalBurst: cfg.LoginFailureBurst})
	}
	d.limit.log = log
	d.limit.mem = newMemGuard(cfg.MemoryLimit)
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
		OpenStore: openStore(cfg, log),
		Logger:    log,
		Throttle:  d.throttle,

		BeforeOpen:      beforeOpen(cfg, log),
		NoLoginFile:     cfg.NoLoginFile,
		SystemAlertFile: cfg.AlertFile,
		UserAlertFile:   cfg.UserAlertFile,
		QuotaStorage:    cfg.QuotaStorage,
		QuotaMessages:   cfg.QuotaMessages,

		HeaderCacheMemory: headerCacheMemory(cfg.SearchCacheMemory),
	})
	d.server = imapserver.New(d.serverOptions(tlsConfig, d.backend.NewSession))
	d.pop3backend = pop3backend.New(pop3backend.Options{
		Auth:        users,
		OpenStore:   openStore(cfg, log),
		Logger:      log,
		Throttle:    d.throttle,
		BeforeOpen:  beforeOpen(cfg, log),
		NoLoginFile: cfg.NoLoginFile,
	})
	d.pop3 = pop3server.New(d.pop3Options(tlsConfig, d.pop3backend.NewSession))
	return d, nil
}

// pop3Options maps the configuration onto the POP3 engine's options: the
// same policy and limits as IMAP where POP3 has them.
func (d *Daemon) pop3Options(tlsConfig *tls.Config, newSession func(context.Context, *pop3server.ConnInfo) (pop3server.Session, error)) pop3server.Options {
	cfg := d.cfg
	return pop3server.Options{
		NewSession:       newSession,
		Logger:           d.log,
		TLSConfig:        tlsConfig,
		InsecureAuth:     cfg.InsecureAuth,
		MaxLoginFailures: cfg.MaxLoginFailures,
		LoginTimeout:     cfg.LoginTimeout,
		IdleTimeout:      cfg.IdleTimeout,
		WriteTimeout:     cfg.WriteTimeout,
	}
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
		Version:            buildVersion(),
		HideID:             !cfg.ServerID,
	}
}

// buildVersion is the module version Postern was built as ("v0.3.0"),
// or "" for a development build, for the ID answer (RFC 2971).
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return ""
	}
	return bi.Main.Version
}

// protocolServer is what the daemon needs of a protocol engine
// (imapserver, pop3server): serve listeners, serve one handed-over
// connection, and stop gracefully.
type protocolServer interface {
	Serve(l net.Listener) error
	ServeConn(ctx context.Context, c net.Conn, tlsActive bool)
	Shutdown(ctx context.Context) error
}

// serverFor returns the engine of a service.
func (d *Daemon) serverFor(svc config.Service) (protocolServer, error) {
	if !svc.POP3() {
		return d.server, nil
	}
	if d.pop3 == nil {
		return nil, fmt.Errorf("daemon: no POP3 server for service %s", svc)
	}
	return d.pop3, nil
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
	for _, svc := range config.Services {
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
		if b.Service.ImplicitTLS() && d.tls == nil {
			return fmt.Errorf("daemon: %w", errNoCertificate)
		}
	}
	if d.useChildren() {
		if err := d.startChildren(); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(bound))
	for _, b := range bound {
		var l net.Listener = &limitListener{Listener: b.Listener, lim: d.limit, svc: b.Service}
		srv, err := d.serverFor(b.Service)
		if err != nil {
			return err
		}
		serve := srv.Serve
		if d.children != nil {
			// The child does TLS itself: nothing of the session,
			// keys included, stays in the daemon.
			serve = func(l net.Listener) error { return d.serveChildren(l, b.Service) }
		} else if b.Service.ImplicitTLS() {
			l = listen.TLSListener(l, d.tls.Config())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
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
	if serr := d.shutdown(sctx); serr != nil && err == nil && !errors.Is(serr, context.DeadlineExceeded) {
		err = serr
	}
	for _, b := range bound {
		b.Listener.Close()
	}
	wg.Wait()
	if d.children != nil {
		d.children.stop(shutdownGrace)
	}
	return err
}

// shutdown stops both engines gracefully, at the same time.
func (d *Daemon) shutdown(ctx context.Context) error {
	servers := []protocolServer{d.server}
	if d.pop3 != nil {
		servers = append(servers, d.pop3)
	}
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errs <- srv.Shutdown(ctx) }()
	}
	var err error
	for range servers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
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

// headerCacheMemory is search_cache_memory as imapbackend takes it, where
// zero means its default and a negative value none.
func headerCacheMemory(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}
