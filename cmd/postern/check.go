package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/daemon"
	"github.com/postern/postern/internal/listen"
	"github.com/postern/postern/internal/tlsconfig"
)

// expiryWarning is how close to its end a certificate's validity must be
// for `postern check` to warn: long enough to renew by hand.
const expiryWarning = 30 * 24 * time.Hour

// bindV6OnlyFile is Linux's net.ipv6.bindv6only: the default IPV6_V6ONLY
// of new IPv6 sockets (RFC 3493 §5.3).
const bindV6OnlyFile = "/proc/sys/net/ipv6/bindv6only"

// check runs `postern check [-c FILE]`: it reports, in lines a sysadmin
// reads, the configuration, each certificate, each listener's sockets and
// the kernel's dual-stack facts. Problems are lines starting "ERROR:" or
// "WARNING:"; any ERROR makes it return an error (exit status 1).
func check(args []string, stdout io.Writer) error {
	c := checker{
		out:        stdout,
		now:        time.Now(),
		bindV6Only: bindV6OnlyFile,
		probe:      listen.ProbeDualStack,
		plan:       listen.Plan,
	}
	return c.run(args)
}

// checker holds what check reads from the machine, replaced in tests.
type checker struct {
	out        io.Writer
	now        time.Time
	bindV6Only string // file holding net.ipv6.bindv6only
	probe      func(context.Context) error
	plan       func(context.Context, []string) ([]listen.Socket, error)

	store            *tlsconfig.Store // set by loadCertificates; nil without certificates
	errors, warnings int
	problems         []string // the ERROR messages, for the returned error
}

func (c *checker) run(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	cfgPath := fs.String("c", defaultConfig, "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// A configuration that does not parse leaves nothing to check.
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()

	fmt.Fprintf(c.out, "Configuration %s\n", *cfgPath)
	certErr := c.loadCertificates(cfg)
	log, err := daemon.NewLogger(io.Discard, cfg.LogLevel)
	if err == nil {
		_, err = daemon.New(cfg, log)
	}
	switch {
	case err != nil && certErr != nil && strings.Contains(err.Error(), certErr.Error()):
		// One fault, reported once, where it belongs.
		fmt.Fprintln(c.out, "  the certificates do not load: see Certificates")
	case err != nil:
		c.errorf("  ", "%v", err)
	case cfg.Auth == config.AuthVirtual:
		fmt.Fprintf(c.out, "  OK: valid; virtual users from %s, mail in %s\n", cfg.PasswdFile, cfg.Store())
	default:
		fmt.Fprintf(c.out, "  OK: valid; %s accounts, mail in %s", cfg.Auth, cfg.Store())
		if cfg.Store() == config.StoreMbox {
			fmt.Fprintf(c.out, " (INBOX %s, folders in %s)", cfg.MboxInbox, cfg.MboxDir)
		}
		fmt.Fprintln(c.out)
		if os.Geteuid() != 0 {
			c.warnf("  ", "not running as root: system accounts need root to read /etc/shadow and to become each user")
		}
	}

	c.certificates(cfg, certErr)
	c.listeners(ctx, cfg)
	c.system(ctx)

	fmt.Fprintln(c.out)
	summary := fmt.Sprintf("%s: OK (%d listeners)", *cfgPath, len(cfg.Listeners))
	switch {
	case c.errors > 0:
		summary = fmt.Sprintf("%s: %s, %s", *cfgPath, plural(c.errors, "error"), plural(c.warnings, "warning"))
	case c.warnings > 0:
		summary = fmt.Sprintf("%s: OK with %s (%d listeners)", *cfgPath, plural(c.warnings, "warning"), len(cfg.Listeners))
	}
	fmt.Fprintln(c.out, summary)
	if c.errors > 0 {
		return fmt.Errorf("check: %s: %s", *cfgPath, strings.Join(c.problems, "; "))
	}
	return nil
}

// loadCertificates loads the default and SNI certificates into c.store,
// as daemon.New does.
func (c *checker) loadCertificates(cfg *config.Config) error {
	c.store = nil
	if cfg.TLSCert == "" {
		return nil
	}
	st, err := tlsconfig.Load(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	for _, p := range cfg.SNICerts {
		if err := st.Add(p.Cert, p.Key); err != nil {
			return err
		}
	}
	c.store = st
	return nil
}

// certificates reports each certificate: names, issuer, validity, and
// whether it is usable now (RFC 5280 §4.1.2.5).
func (c *checker) certificates(cfg *config.Config, loadErr error) {
	fmt.Fprintln(c.out, "\nCertificates")
	switch {
	case cfg.TLSCert == "":
		fmt.Fprintln(c.out, "  none configured: no imaps listener, and no STARTTLS")
		return
	case loadErr != nil:
		c.errorf("  ", "%v", loadErr)
		return
	}
	files := []string{cfg.TLSCert}
	for _, p := range cfg.SNICerts {
		files = append(files, p.Cert)
	}
	for i, leaf := range c.store.Certificates() {
		role := "default"
		if i > 0 {
			role = "SNI"
		}
		fmt.Fprintf(c.out, "  %s %s\n", role, files[i])
		c.certificate(leaf)
	}
}

func (c *checker) certificate(leaf *x509.Certificate) {
	const in = "    "
	fmt.Fprintf(c.out, "%ssubject:  %s\n", in, leaf.Subject)
	fmt.Fprintf(c.out, "%snames:    %s\n", in, strings.Join(names(leaf), ", "))
	issuer := leaf.Issuer.String()
	// Not CheckSignatureFrom: it also wants the issuer to be a CA, and
	// self-signed server certificates (the demo's) are not.
	if bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil {
		issuer += " (self-signed)"
	}
	fmt.Fprintf(c.out, "%sissuer:   %s\n", in, issuer)
	fmt.Fprintf(c.out, "%svalid:    %s to %s\n", in, stamp(leaf.NotBefore), stamp(leaf.NotAfter))
	left := leaf.NotAfter.Sub(c.now)
	switch {
	case c.now.Before(leaf.NotBefore):
		c.errorf(in, "not valid yet: valid from %s, in %s", stamp(leaf.NotBefore), plural(days(leaf.NotBefore.Sub(c.now)), "day"))
	case left <= 0:
		c.errorf(in, "expired %s ago, on %s", plural(days(-left), "day"), stamp(leaf.NotAfter))
	case left < expiryWarning:
		c.warnf(in, "expires in %s, on %s", plural(days(left), "day"), stamp(leaf.NotAfter))
	default:
		fmt.Fprintf(c.out, "%sOK: expires in %s\n", in, plural(days(left), "day"))
	}
}

// names lists what a client may check the certificate against: the DNS
// names and IP addresses of the subjectAltName (RFC 6125 §6), or the
// common name when there are none (old certificates).
func names(leaf *x509.Certificate) []string {
	n := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		n = append(n, ip.String())
	}
	n = append(n, leaf.EmailAddresses...)
	if len(n) == 0 && leaf.Subject.CommonName != "" {
		n = append(n, leaf.Subject.CommonName+" (common name only: modern clients want a subjectAltName)")
	}
	if len(n) == 0 {
		n = append(n, "none")
	}
	return n
}

// listeners reports, per service, the sockets Listen would bind (the
// daemon plans each service's addresses together, DESIGN.md §2) and which
// families reach each port.
func (c *checker) listeners(ctx context.Context, cfg *config.Config) {
	fmt.Fprintln(c.out, "\nListeners (what postern serve would bind; imapd under inetd or xinetd binds nothing)")
	for _, svc := range config.Services {
		var addrs []string
		for _, l := range cfg.Listeners {
			if l.Service == svc {
				addrs = append(addrs, l.Addr)
			}
		}
		if len(addrs) == 0 {
			continue
		}
		fmt.Fprintf(c.out, "  %s (%s): %s\n", svc, svc.Describe(), strings.Join(addrs, ", "))
		socks, err := c.plan(ctx, addrs)
		if err != nil {
			c.errorf("    ", "%v", err)
			continue
		}
		for _, s := range socks {
			fmt.Fprintf(c.out, "    would bind %s\n", describe(s))
		}
		for _, port := range ports(socks) {
			fmt.Fprintf(c.out, "    port %s would be reached over %s\n", port, listen.Reach(onPort(socks, port)))
		}
	}
}

// ports lists the ports of socks in order of first appearance: clients
// connect to a port, so that is what reachability is reported for.
func ports(socks []listen.Socket) []string {
	var ps []string
	for _, s := range socks {
		if _, p, err := net.SplitHostPort(s.Addr); err == nil && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// onPort is the subset of socks bound to port.
func onPort(socks []listen.Socket, port string) []listen.Socket {
	var out []listen.Socket
	for _, s := range socks {
		if _, p, err := net.SplitHostPort(s.Addr); err == nil && p == port {
			out = append(out, s)
		}
	}
	return out
}

// describe says what one socket is, e.g. "[::]:143 tcp6 IPV6_V6ONLY=0
// (dual-stack): IPv4 and IPv6".
func describe(s listen.Socket) string {
	if s.Network == "tcp4" {
		return fmt.Sprintf("%s %s: %s", s.Addr, s.Network, s.Families())
	}
	v, note := 0, ""
	if s.V6Only {
		v = 1
	} else if s.Families() == listen.IPv4|listen.IPv6 {
		note = " (dual-stack)"
	}
	return fmt.Sprintf("%s %s IPV6_V6ONLY=%d%s: %s", s.Addr, s.Network, v, note, s.Families())
}

// system reports the kernel's side: whether dual-stack sockets work, and
// net.ipv6.bindv6only, which matters to inetd and xinetd but not to us.
func (c *checker) system(ctx context.Context) {
	fmt.Fprintln(c.out, "\nSystem")
	if err := c.probe(ctx); err != nil {
		c.warnf("  ", "the kernel refused a dual-stack socket ([::] with IPV6_V6ONLY=0): %v;"+
			" a lone [::] listener is bound as two sockets, [::] (IPv6 only) and 0.0.0.0", err)
	} else {
		fmt.Fprintln(c.out, "  OK: the kernel accepts dual-stack sockets ([::] with IPV6_V6ONLY=0)")
	}
	b, err := os.ReadFile(c.bindV6Only)
	if err != nil {
		reason := err
		if errors.Is(err, os.ErrNotExist) {
			reason = errors.New("not a Linux kernel, or IPv6 is disabled")
		}
		fmt.Fprintf(c.out, "  net.ipv6.bindv6only: unknown (%v)\n", reason)
		return
	}
	v := strings.TrimSpace(string(b))
	fmt.Fprintf(c.out, "  net.ipv6.bindv6only = %s\n", v)
	fmt.Fprintln(c.out, "    Postern sets IPV6_V6ONLY on each IPv6 socket itself, so this value does not change what it binds.")
	switch v {
	case "0":
		fmt.Fprintln(c.out, "    It matters to programs that leave IPV6_V6ONLY alone: with 0, their IPv6 services on [::]")
		fmt.Fprintln(c.out, "    also accept IPv4 clients (as ::ffff:a.b.c.d). Debian's xinetd and openbsd-inetd set the")
		fmt.Fprintln(c.out, "    option themselves; see contrib/README.md for the entries that work with either value.")
	case "1":
		fmt.Fprintln(c.out, "    It matters to programs that leave IPV6_V6ONLY alone: with 1, their IPv6 services on [::]")
		fmt.Fprintln(c.out, "    accept IPv6 clients only. Debian's xinetd and openbsd-inetd set the option themselves;")
		fmt.Fprintln(c.out, "    see contrib/README.md for the entries that work with either value.")
	}
}

func (c *checker) errorf(indent, format string, args ...any) {
	c.errors++
	msg := fmt.Sprintf(format, args...)
	c.problems = append(c.problems, msg)
	fmt.Fprintf(c.out, "%sERROR: %s\n", indent, msg)
}

func (c *checker) warnf(indent, format string, args ...any) {
	c.warnings++
	fmt.Fprintf(c.out, "%sWARNING: %s\n", indent, fmt.Sprintf(format, args...))
}

// stamp formats a certificate time in UTC to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// days is d in whole days, rounded down.
func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
