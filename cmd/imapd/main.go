// Command imapd is Postern's drop-in for UW imapd: started by inetd or
// xinetd with the connection on standard input and no arguments, it serves
// that one connection (implicit TLS on the imaps port of /etc/services, or
// when started as a name beginning with "s"). Started on a pipe by a user
// other than root (`ssh host imapd`, mutt's tunnel) it greets with PREAUTH
// as that user. With -l it listens by itself instead.
//
//	imapd                       inetd/xinetd mode (fd 0 is the connection), or pipe mode
//	imapd -l [::]:143 -l imaps=[::]:993   standalone listeners (service imap unless named)
//	imapd -c FILE               configuration (default /etc/postern/postern.conf;
//	                            without it, built-in defaults and UW's certificate paths)
//	imapd -tls | -notls         force implicit TLS on or off in inetd mode
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/daemon"
	"github.com/postern/postern/internal/tlsconfig"
)

// defaultConfig is where imapd looks for its configuration without -c.
const defaultConfig = "/etc/postern/postern.conf"

// program is the name UW's paths and syslog tag use.
const program = "imapd"

type addrList []string

func (a *addrList) String() string     { return fmt.Sprint(*a) }
func (a *addrList) Set(v string) error { *a = append(*a, v); return nil }

func main() {
	daemon.RunChildIfRequested() // a daemon's per-connection process: serves it and exits
	cfgPath := flag.String("c", "", "configuration file (default "+defaultConfig+" if it exists)")
	forceTLS := flag.Bool("tls", false, "inetd mode: implicit TLS whatever the port")
	noTLS := flag.Bool("notls", false, "inetd mode: no implicit TLS whatever the port")
	var listens addrList
	flag.Var(&listens, "l", "listen on [imap=|imaps=]ADDR (repeatable); without -l, serve the connection on fd 0")
	flag.Parse()

	standalone := len(listens) > 0
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fail(standalone, err)
	}
	var tlsChoice *bool
	switch {
	case *forceTLS && *noTLS:
		fail(standalone, errors.New("-tls and -notls together"))
	case *forceTLS:
		tlsChoice = forceTLS
	case *noTLS:
		f := false
		tlsChoice = &f
	}
	ctx := context.Background()
	if standalone {
		cfg.Listeners = nil
		for _, a := range listens {
			svc := config.ServiceIMAP
			if s, addr, ok := strings.Cut(a, "="); ok {
				svc, a = config.Service(s), addr
			}
			if svc != config.ServiceIMAP && svc != config.ServiceIMAPS {
				fail(true, fmt.Errorf("-l %s: unknown service %q (want imap or imaps)", a, svc))
			}
			cfg.Listeners = append(cfg.Listeners, config.Listener{Service: svc, Addr: a})
		}
		log, err := newLogger(cfg, true)
		if err != nil {
			fail(true, err)
		}
		d, err := daemon.New(cfg, log)
		if err != nil {
			fail(true, err)
		}
		if err := d.Run(ctx, nil); err != nil {
			fail(true, err)
		}
		return
	}
	// inetd and pipe mode: stdout is the client; log to syslog or log_file.
	// Without a syslog daemon the logger drops lines (there is nowhere
	// else to put them) and the connection is still served.
	log, err := newLogger(cfg, false)
	if log == nil {
		fail(false, err)
	}
	if err := daemon.DetachStderr(); err != nil {
		log.Warn("cannot detach standard error from the client's socket", "err", err)
	}
	cfg.Listeners = nil // the connection is handed over; nothing to bind
	var d *daemon.Daemon
	if daemon.StdinIsPipe() && os.Getuid() != 0 {
		d, err = daemon.NewPreauth(cfg, log)
	} else {
		d, err = daemon.New(cfg, log)
	}
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	if err := d.ServeInetd(ctx, daemon.InetdOptions{Program: os.Args[0], TLS: tlsChoice}); err != nil {
		log.Error("serving connection", "err", err)
		os.Exit(1)
	}
}

// loadConfig reads path, or the default file; when no -c was given and the
// default file does not exist, imapd runs on built-in defaults as UW's did
// without any configuration. A certificate not configured is looked for
// where UW looked (/etc/ssl/certs/imapd.pem, key in /etc/ssl/private).
func loadConfig(path string) (*config.Config, error) {
	var cfg *config.Config
	if path == "" {
		var err error
		cfg, err = config.Load(defaultConfig)
		if errors.Is(err, fs.ErrNotExist) {
			cfg, err = config.Default(), nil
		}
		if err != nil {
			return nil, err
		}
	} else {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	if cfg.TLSCert == "" {
		cert, key := tlsconfig.UWDefaultPaths(program)
		if _, err := os.Stat(cert); err == nil {
			cfg.TLSCert = cert
			if key != cert {
				cfg.TLSKey = key
			}
		}
	}
	return cfg, nil
}

// newLogger logs to log_file if set, else to standard error (standalone)
// or syslog with facility mail, as UW did (inetd and pipe mode).
func newLogger(cfg *config.Config, standalone bool) (*slog.Logger, error) {
	switch {
	case cfg.LogFile != "":
		// One process per connection: the pid tells sessions apart, as
		// syslog's imapd[PID] does.
		log, err := daemon.NewFileLogger(cfg.LogFile, cfg.LogLevel)
		if err != nil {
			return nil, err
		}
		return log.With("pid", os.Getpid()), nil
	case standalone:
		return daemon.NewLogger(os.Stderr, cfg.LogLevel)
	default:
		return daemon.NewSyslogLogger(filepath.Base(os.Args[0]), cfg.LogLevel)
	}
}

// fail reports err where it can be seen: stderr in standalone mode; in
// inetd mode stderr may be the client's socket, so syslog only.
func fail(standalone bool, err error) {
	if standalone {
		fmt.Fprintln(os.Stderr, "imapd:", err)
	} else if log, _ := daemon.NewSyslogLogger(filepath.Base(os.Args[0]), "error"); log != nil {
		log.Error("cannot start", "err", err)
	}
	os.Exit(1)
}
