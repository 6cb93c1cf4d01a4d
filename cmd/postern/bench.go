package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/postern/postern/internal/loadgen"
)

const benchUsage = `usage: postern bench [flags]

Runs N concurrent IMAP clients against a server for a duration and prints
per-command rates and latencies (issue 7). Every answer is checked: a NO,
a BAD or incomplete data counts as an error. Works against any IMAP
server, Postern or not. Ctrl-C stops early: the clients log out together
within --stop-timeout and the figures are printed; a second Ctrl-C exits at
once (status 130).

Each client logs in as one of the users and selects --mailbox, shared by
the clients of that user; the messages there at the start are never
expunged (what the run appends or copies is). --populate fills it first.

Profiles (command and weight per round):
`

// bench runs the load generator: `postern bench --addr 127.0.0.1:1143
// --users 'load%d:secret' --nusers 50 --clients 10 --duration 10s`.
func bench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage+loadgen.ProfileHelp()+"\nFlags:\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:1143", "IMAP server HOST:PORT")
	tlsMode := fs.String("tls", "none", "none, implicit (port 993 style) or starttls")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate (self-signed test servers)")
	users := fs.String("users", "demo:demo", "NAME:PASSWORD; %d is replaced by the user number 1..nusers, e.g. 'load%d:secret'")
	nusers := fs.Int("nusers", 1, "number of users; client i logs in as user i mod nusers + 1")
	clients := fs.Int("clients", 10, "concurrent clients")
	duration := fs.Duration("duration", 10e9, "how long to run")
	profile := fs.String("profile", "mixed", "command mix: mixed, logins, read-heavy, append or idle")
	var commands commandFlags
	fs.Var(&commands, "command", "a raw command line to run in turn instead of a profile, checked for OK (repeatable), e.g. 'UID FETCH 1:* (FLAGS)'")
	mailbox := fs.String("mailbox", "INBOX", "the mailbox the clients share, per user")
	populate := fs.Bool("populate", false, "APPEND the corpus to every user's mailbox first")
	corpus := fs.String("corpus", "", "directory of .eml files for --populate and APPEND (default: a generated corpus)")
	messages := fs.Int("messages", loadgen.DefaultMessages, "size of the generated corpus")
	seed := fs.Uint64("seed", 1, "seed of the generated corpus and of the clients' choices")
	idle := fs.Duration("idle", loadgen.DefaultIdleHold, "time spent in IDLE before DONE")
	timeout := fs.Duration("timeout", loadgen.DefaultTimeout, "limit on one command or connection")
	stopTimeout := fs.Duration("stop-timeout", loadgen.DefaultStopTimeout, "after Ctrl-C, how long clients may finish and log out before their connections are closed")
	jsonFile := fs.String("json", "", "also write the results as JSON to FILE")
	quiet := fs.Bool("quiet", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	mode, err := loadgen.ParseTLSMode(*tlsMode)
	if err != nil {
		return err
	}
	prof, ok := loadgen.LookupProfile(*profile)
	if !ok {
		return fmt.Errorf("bench: unknown profile %q (mixed, logins, read-heavy, append, idle)", *profile)
	}
	opts := loadgen.Options{
		Addr: *addr, TLS: mode, Insecure: *insecure,
		Users: *users, NUsers: *nusers, Clients: *clients, Duration: *duration,
		Profile: prof, Commands: commands, Mailbox: *mailbox, Populate: *populate, Seed: *seed,
		IdleHold: *idle, Timeout: *timeout, StopTimeout: *stopTimeout,
	}
	if *corpus != "" {
		if opts.Corpus, err = loadgen.LoadCorpus(*corpus); err != nil {
			return err
		}
	} else {
		opts.Corpus = loadgen.GenerateCorpus(*messages, *seed)
	}
	if !*quiet {
		opts.Progress = stderr
	}
	// The load tool shares the machine with the server it measures: its
	// own cost is profiled the same way (issue 7).
	if err := startPprof(stderr, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer stopOnSignals(cancel, stderr)()
	res, err := loadgen.Run(ctx, opts)
	if err != nil {
		return err
	}
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if *jsonFile != "" {
		f, err := os.Create(*jsonFile)
		if err != nil {
			return err
		}
		if err := res.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// interruptedStatus is the exit status after a second interrupt: 128 +
// SIGINT, as shells report a program killed by Ctrl-C.
const interruptedStatus = 130

// stopOnSignals makes the first SIGINT or SIGTERM cancel the run (the
// clients stop, log out within --stop-timeout, the report is printed) and
// a second one exit at once. The second is handled here rather than by
// restoring the default action: a program started in the background by a
// non-interactive shell (as bench/compare-dovecot.sh does) inherits SIGINT
// ignored, and restoring that disposition made a second Ctrl-C do nothing.
// The returned function stops the handling.
func stopOnSignals(cancel context.CancelFunc, stderr io.Writer) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "bench: stopping: clients log out (interrupt again to quit at once)")
		cancel()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "bench: interrupted")
			os.Exit(interruptedStatus)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// commandFlags collects repeated --command lines.
type commandFlags []string

func (c *commandFlags) String() string { return fmt.Sprint(*c) }
func (c *commandFlags) Set(v string) error {
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("want one non-empty command line, got %q", v)
	}
	*c = append(*c, v)
	return nil
}
