// Command postern is the Postern mail access server: the standalone daemon
// (`postern serve`) and its administration commands.
//
//	postern serve --demo             demo server on loopback, no config, no root
//	postern serve [-c FILE]          the daemon, configured by FILE
//	postern check [-c FILE]          validate the configuration, certificates and users
//	postern user add -f PASSWD NAME  add or change a virtual user (password on stdin)
//	postern user hash                print a password hash (password on stdin)
//	postern convert --from S --to S  convert mail between mbox and Maildir, keeping UIDs
//	postern import --from S --to S   import a UW mbox tree or a Dovecot Maildir, keeping UIDs
//	postern fsck [--repair] STORE... check (and repair) a store against its index
//	postern bench [flags]            IMAP load generator: rates and latencies per command
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/daemon"
	"github.com/postern/postern/internal/demo"
)

const defaultConfig = "/etc/postern/postern.conf"

func main() {
	daemon.RunChildIfRequested() // a daemon's per-connection process: serves it and exits
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		code := 1
		var es exitStatus
		if errors.As(err, &es) {
			code = es.code
			if es.err == nil {
				os.Exit(code)
			}
		}
		fmt.Fprintln(os.Stderr, "postern:", err)
		os.Exit(code)
	}
}

const usage = `usage:
  postern serve --demo [--data DIR] [--listen SERVICE=ADDR]...
  postern serve [-c FILE] [--listen SERVICE=ADDR]...
  postern check [-c FILE]
  postern user add -f PASSWD [--home DIR] NAME   (password read from stdin)
  postern user hash                              (password read from stdin)
  postern convert --from STORE --to STORE [--skip-existing]   (mbox:ROOT[,inbox=FILE] or maildir:DIR)
  postern import --from uw-mbox:ROOT[,inbox=FILE] | dovecot-maildir:DIR --to STORE [--skip-existing]
  postern fsck [-c FILE] [--json] [--repair] STORE...   (maildir:DIR or mbox:ROOT[,inbox=FILE])
  postern bench [--addr HOST:PORT] [--users NAME:PASS] [--clients N] [--duration D] [--profile P]...   (bench --help)`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout)
	case "user":
		return user(args[1:], stdin, stdout)
	case "convert":
		return convert(args[1:], stdout)
	case "import":
		return importCmd(args[1:], stdout)
	case "fsck":
		return fsck(args[1:], stdout)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// listenFlags collects repeated --listen SERVICE=ADDR flags.
type listenFlags []config.Listener

func (l *listenFlags) String() string { return fmt.Sprint(*l) }
func (l *listenFlags) Set(v string) error {
	name, addr, ok := strings.Cut(v, "=")
	svc, err := config.ParseService(name)
	if !ok || err != nil || addr == "" {
		return fmt.Errorf("want SERVICE=ADDR with SERVICE imap, imaps, pop3 or pop3s, got %q", v)
	}
	*l = append(*l, config.Listener{Service: svc, Addr: addr})
	return nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demoMode := fs.Bool("demo", false, "run the built-in demo: fresh data directory, user demo/demo, loopback ports 1143 and 1993")
	dataDir := fs.String("data", "", "demo data directory (default: a new temporary directory)")
	cfgPath := fs.String("c", defaultConfig, "configuration file")
	var listens listenFlags
	fs.Var(&listens, "listen", "SERVICE=ADDR to listen on instead of the configured listeners (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	var cfg *config.Config
	var err error
	if *demoMode {
		dir := *dataDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "postern-demo-"); err != nil {
				return err
			}
		}
		saved := filepath.Join(dir, demo.ConfigName)
		if _, statErr := os.Stat(saved); statErr == nil {
			// A demo made earlier in this directory: serve it again, with
			// the mail as the last session left it.
			if cfg, err = config.Load(saved); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Postern demo: reusing data directory %s\n", dir)
		} else {
			if cfg, err = demo.Setup(ctx, dir); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Postern demo: data directory %s\n", dir)
		}
	} else if cfg, err = config.Load(*cfgPath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w\n(write a configuration, see the README, or try: postern serve --demo)", err)
		}
		return err
	}
	if len(listens) > 0 {
		cfg.Listeners = listens
	}
	var log *slog.Logger
	if cfg.LogFile != "" {
		log, err = daemon.NewFileLogger(cfg.LogFile, cfg.LogLevel)
	} else {
		log, err = daemon.NewLogger(stderr, cfg.LogLevel)
	}
	if err != nil {
		return err
	}
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	if err := startPprof(stdout, log); err != nil {
		return err
	}
	return d.Run(ctx, func(bound []daemon.Bound) {
		for _, b := range bound {
			fmt.Fprintf(stdout, "listening: %s %s\n", b.Service, b.Listener.Addr())
		}
		if *demoMode {
			printDemoHelp(stdout, bound)
		}
	})
}

func printDemoHelp(w io.Writer, bound []daemon.Bound) {
	first := map[config.Service]string{}
	for _, b := range bound {
		if first[b.Service] == "" {
			first[b.Service] = b.Listener.Addr().String()
		}
	}
	imapAddr, imapsAddr := first[config.ServiceIMAP], first[config.ServiceIMAPS]
	pop3Addr, pop3sAddr := first[config.ServicePOP3], first[config.ServicePOP3S]
	fmt.Fprintf(w, "\nLog in as user %q with password %q. For example:\n", demo.User, demo.Password)
	if imapAddr != "" {
		fmt.Fprintf(w, "  curl --user demo:demo 'imap://%s/INBOX;UID=1'       (read message 1)\n", imapAddr)
		fmt.Fprintf(w, "  python3 -c 'import imaplib; m=imaplib.IMAP4(%q, %s); m.login(\"demo\",\"demo\"); print(m.select(\"INBOX\"))'\n", hostOf(imapAddr), portOf(imapAddr))
		fmt.Fprintf(w, "  IMAP with STARTTLS: %s\n", imapAddr)
	}
	if imapsAddr != "" {
		fmt.Fprintf(w, "  curl -k --user demo:demo 'imaps://%s/INBOX?ALL'     (search over TLS)\n", imapsAddr)
		fmt.Fprintf(w, "  IMAP over TLS: %s\n", imapsAddr)
	}
	if pop3Addr != "" {
		fmt.Fprintf(w, "  curl --user demo:demo 'pop3://%s/1'                 (POP3: retrieve message 1)\n", pop3Addr)
		fmt.Fprintf(w, "  POP3 with STLS: %s\n", pop3Addr)
	}
	if pop3sAddr != "" {
		fmt.Fprintf(w, "  POP3 over TLS: %s\n", pop3sAddr)
	}
	fmt.Fprintln(w, "The certificate is self-signed; tell your client to accept it. Stop with Ctrl-C.")
}

func hostOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func user(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "hash":
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		h, err := virtual.HashPassword(pw)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, h)
		return nil
	case "add":
		fs := flag.NewFlagSet("user add", flag.ContinueOnError)
		file := fs.String("f", "/etc/postern/passwd", "password file")
		home := fs.String("home", "", "home directory (mail in HOME/Maildir); empty: mail_root template")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("user add: want exactly one user name")
		}
		name := fs.Arg(0)
		if err := virtual.ValidUsername(name); err != nil {
			return err
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		h, err := virtual.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := virtual.WriteUser(*file, name, h, *home); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: user %s written\n", *file, name)
		return nil
	}
	return fmt.Errorf("unknown user command %q", args[0])
}

// readPassword reads one line from stdin (not echoed by us; pipe it in).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}
