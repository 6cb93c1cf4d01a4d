// Command imapd is Postern's drop-in for UW imapd: started by inetd or
// xinetd with the connection on standard input and no arguments, it serves
// that one connection (implicit TLS on the imaps port, or when started as a
// name beginning with "s"). With -l it listens by itself instead.
//
//	imapd                       inetd/xinetd mode (fd 0 is the connection)
//	imapd -l [::]:143 -l ...    standalone listeners (service imap)
//	imapd -c FILE               configuration (default /etc/postern/postern.conf)
//	imapd -tls | -notls         force implicit TLS on or off in inetd mode
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/daemon"
)

type addrList []string

func (a *addrList) String() string     { return fmt.Sprint(*a) }
func (a *addrList) Set(v string) error { *a = append(*a, v); return nil }

func main() {
	cfgPath := flag.String("c", "/etc/postern/postern.conf", "configuration file")
	forceTLS := flag.Bool("tls", false, "inetd mode: implicit TLS whatever the port")
	noTLS := flag.Bool("notls", false, "inetd mode: no implicit TLS whatever the port")
	var listens addrList
	flag.Var(&listens, "l", "listen on ADDR (repeatable); without -l, serve the connection on fd 0")
	flag.Parse()

	standalone := len(listens) > 0
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fail(standalone, err)
	}
	var tlsChoice *bool
	switch {
	case *forceTLS && *noTLS:
		fail(standalone, fmt.Errorf("-tls and -notls together"))
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
			cfg.Listeners = append(cfg.Listeners, config.Listener{Service: config.ServiceIMAP, Addr: a})
		}
		log, err := daemon.NewLogger(os.Stderr, cfg.LogLevel)
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
	// inetd mode: stdout is the client; log to syslog only.
	// Without a syslog daemon the logger drops lines (there is nowhere
	// else to put them) and the connection is still served.
	log, _ := daemon.NewSyslogLogger("imapd", cfg.LogLevel)
	if log == nil {
		os.Exit(1)
	}
	d, err := daemon.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	if err := d.ServeInetd(ctx, daemon.InetdOptions{Program: os.Args[0], TLS: tlsChoice}); err != nil {
		log.Error("serving connection", "err", err)
		os.Exit(1)
	}
}

// fail reports err where it can be seen: stderr in standalone mode; in
// inetd mode stderr may be the client's socket, so syslog only.
func fail(standalone bool, err error) {
	if standalone {
		fmt.Fprintln(os.Stderr, "imapd:", err)
	} else if log, _ := daemon.NewSyslogLogger("imapd", "error"); log != nil {
		log.Error("cannot start", "err", err)
	}
	os.Exit(1)
}
