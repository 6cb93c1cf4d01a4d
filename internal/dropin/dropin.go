// Package dropin is the whole of the UW drop-in programs imapd and ipop3d
// (DESIGN.md §2): started by inetd or xinetd with the connection on
// standard input, on a pipe by a user (PREAUTH), by systemd, or with -l as
// a small standalone daemon. The two differ only in their Program.
package dropin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/daemon"
	"github.com/postern/postern/internal/tlsconfig"
)

// defaultConfig is where the programs look for their configuration without -c.
const defaultConfig = "/etc/postern/postern.conf"

// Program describes one drop-in program.
type Program struct {
	// Name is UW's program name: syslog tag, certificate file name
	// (/etc/ssl/certs/NAME.pem) and message prefix.
	Name string
	// Plain and Implicit are the services it offers: plain with
	// STARTTLS/STLS, and implicit TLS (chosen as UW did: the port of
	// Implicit in /etc/services, or a program name starting with "s").
	Plain, Implicit config.Service
}

// The programs.
var (
	IMAPD  = Program{Name: "imapd", Plain: config.ServiceIMAP, Implicit: config.ServiceIMAPS}
	IPOP3D = Program{Name: "ipop3d", Plain: config.ServicePOP3, Implicit: config.ServicePOP3S}
)

type addrList []string

func (a *addrList) String() string     { return fmt.Sprint(*a) }
func (a *addrList) Set(v string) error { *a = append(*a, v); return nil }

// Main runs program p with the command-line arguments args (without the
// program name) and returns the exit status.
func Main(p Program, args []string) int {
	daemon.RunChildIfRequested() // a daemon's per-connection process: serves it and exits
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	cfgPath := fs.String("c", "", "configuration file (default "+defaultConfig+" if it exists)")
	forceTLS := fs.Bool("tls", false, "inetd mode: implicit TLS whatever the port")
	noTLS := fs.Bool("notls", false, "inetd mode: no implicit TLS whatever the port")
	var listens addrList
	fs.Var(&listens, "l", "listen on ["+string(p.Plain)+"=|"+string(p.Implicit)+"=]ADDR (repeatable); without -l, serve the connection on fd 0")
	// Under inetd, standard error is the client's socket: usage and flag
	// errors go there only when it is not.
	toStderr := !daemon.StderrIsSocket()
	fs.SetOutput(io.Discard)
	if toStderr {
		fs.SetOutput(os.Stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return fail(p, toStderr, err)
	}

	standalone := len(listens) > 0
	cfg, err := loadConfig(p, *cfgPath)
	if err != nil {
		return fail(p, standalone, err)
	}
	var tlsChoice *bool
	switch {
	case *forceTLS && *noTLS:
		return fail(p, standalone, errors.New("-tls and -notls together"))
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
			svc := p.Plain
			if s, addr, ok := strings.Cut(a, "="); ok {
				svc, a = config.Service(s), addr
			}
			if svc != p.Plain && svc != p.Implicit {
				return fail(p, true, fmt.Errorf("-l %s: unknown service %q (want %s or %s)", a, svc, p.Plain, p.Implicit))
			}
			cfg.Listeners = append(cfg.Listeners, config.Listener{Service: svc, Addr: a})
		}
		log, err := newLogger(cfg, true)
		if err != nil {
			return fail(p, true, err)
		}
		d, err := daemon.New(cfg, log)
		if err != nil {
			return fail(p, true, err)
		}
		if err := d.Run(ctx, nil); err != nil {
			return fail(p, true, err)
		}
		return 0
	}
	// inetd and pipe mode: stdout is the client; log to syslog or log_file.
	// Without a syslog daemon the logger drops lines (there is nowhere
	// else to put them) and the connection is still served.
	log, err := newLogger(cfg, false)
	if log == nil {
		return fail(p, false, err)
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
		return 1
	}
	if err := d.ServeInetd(ctx, daemon.InetdOptions{Program: os.Args[0], Service: p.Plain, TLS: tlsChoice}); err != nil {
		log.Error("serving connection", "err", err)
		return 1
	}
	return 0
}

// loadConfig reads path, or the default file; when no -c was given and the
// default file does not exist, imapd runs on built-in defaults as UW's did
// without any configuration. A certificate not configured is looked for
// where UW looked (/etc/ssl/certs/imapd.pem, key in /etc/ssl/private).
func loadConfig(p Program, path string) (*config.Config, error) {
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
		cert, key := tlsconfig.UWDefaultPaths(p.Name)
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
// inetd mode stderr may be the client's socket, so syslog only. It returns
// the exit status.
func fail(p Program, standalone bool, err error) int {
	if standalone {
		fmt.Fprintln(os.Stderr, p.Name+":", err)
	} else if log, _ := daemon.NewSyslogLogger(filepath.Base(os.Args[0]), "error"); log != nil {
		log.Error("cannot start", "err", err)
	}
	return 1
}
