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
	"github.com/postern/postern/internal/tlsconfig"
)

// Daemon is a configured server ready to bind and serve.
type Daemon struct {
	cfg    *config.Config
	log    *slog.Logger
	tls    *tlsconfig.Store // nil without certificates
	server *imapserver.Server
	limit  *connLimiter
}

// New builds the server from cfg. It opens the password file and the
// certificates, so configuration mistakes are reported before binding.
func New(cfg *config.Config, log *slog.Logger) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log, limit: newConnLimiter(cfg.MaxConnections, cfg.MaxConnsPerIP)}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		st, err := tlsconfig.Load(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		d.tls = st
		tlsConfig = st.Config()
	}
	users, err := virtual.Open(cfg.PasswdFile, virtual.Options{
		MailRootTemplate: cfg.MailRoot,
		Logger:           log,
	})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	backend := imapbackend.New(imapbackend.Options{
		Auth:      users,
		OpenStore: openMaildir(cfg, log),
		Logger:    log,
		Throttle:  auth.NewThrottle(auth.ThrottleOptions{}),
	})
	d.server = imapserver.New(imapserver.Options{
		NewSession:         backend.NewSession,
		Logger:             log,
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
	})
	return d, nil
}

// openMaildir opens a user's Maildir: the passwd file's mail root, or the
// configured template.
func openMaildir(cfg *config.Config, log *slog.Logger) func(context.Context, *auth.User) (mailstore.Store, error) {
	return func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
		root := u.MailRoot
		if root == "" {
			root = strings.ReplaceAll(cfg.MailRoot, "%u", u.Name)
		}
		return maildir.Open(root, maildir.Options{Logger: log.With("user", u.Name)})
	}
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
	var wg sync.WaitGroup
	errc := make(chan error, len(bound))
	for _, b := range bound {
		var l net.Listener = &limitListener{Listener: b.Listener, lim: d.limit}
		if b.Service == config.ServiceIMAPS {
			if d.tls == nil {
				return errors.New("daemon: imaps listener without a certificate")
			}
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
// sessions. ready is called with the bound listeners before serving.
func (d *Daemon) Run(ctx context.Context, ready func([]Bound)) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	bound, err := d.Listen(ctx)
	if err != nil {
		return err
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
	return d.Serve(ctx, bound)
}

func (d *Daemon) reload() {
	if d.tls == nil {
		return
	}
	if err := d.tls.Reload(); err != nil {
		d.log.Error("certificate reload failed; keeping the old certificates", "err", err)
		return
	}
	d.log.Info("certificates reloaded")
}
