package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postern/postern/internal/demo"
	"github.com/postern/postern/internal/netns"
)

// The paths the contrib files name; the tests substitute the built binary
// and the demo's configuration for them and change nothing else.
const (
	contribImapd  = "/usr/local/sbin/imapd"
	contribConfig = "/etc/postern/postern.conf"
	seedImapd     = "/usr/local/libexec/imapd" // the seed's path, in testdata
)

// inetdEndpoint is one address a client dials, and what it expects.
type inetdEndpoint struct {
	addr     string // host:port
	implicit bool   // TLS from the first byte; otherwise STARTTLS
	peer     string // the client address imapd must log
}

// inetdCase is one configuration run by a private xinetd or openbsd-inetd
// in a private network namespace (shared, one after another, with the
// other cases of the same daemon and services file).
type inetdCase struct {
	name     string
	daemon   string   // "xinetd" or "inetd"
	files    []string // concatenated into the daemon's configuration
	services string   // testdata file mounted over /etc/services
	// bindv6only: the net.ipv6.bindv6only values to run the case with,
	// one after another in the same namespace.
	bindv6only []string
	// listen is the exact set of listening sockets the daemon must open,
	// as "tcp4:PORT" and "tcp6:PORT" (wildcard addresses).
	listen []string
	// mapped says IPv4 clients reach an IPv6 socket, as ::ffff:a.b.c.d
	// (xinetd's log must show that; imapd's must not).
	mapped bool
	// failLog, when set, is a line xinetd must log (a configuration that
	// must not work); the endpoints are then not dialed.
	failLog   string
	endpoints []inetdEndpoint
}

// endpoints4and6 lists the 127.0.0.1 and ::1 endpoints of the given
// plain (STARTTLS) and implicit-TLS ports.
func endpoints4and6(plain, implicit []int) []inetdEndpoint {
	var out []inetdEndpoint
	for _, p := range plain {
		out = append(out,
			inetdEndpoint{net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), false, "127.0.0.1"},
			inetdEndpoint{net.JoinHostPort("::1", strconv.Itoa(p)), false, "::1"})
	}
	for _, p := range implicit {
		out = append(out,
			inetdEndpoint{net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), true, "127.0.0.1"},
			inetdEndpoint{net.JoinHostPort("::1", strconv.Itoa(p)), true, "::1"})
	}
	return out
}

// inetdCases are the contrib/ configurations of the seed's variants that
// Linux can run (the FreeBSD-only bsd-inetd-tcp46.conf cannot be tested
// here). testdata/inetd/services maps imap to 10143 and imaps to 10993, so
// the files are used verbatim with their service names and imapd's
// /etc/services lookup decides implicit TLS for real; the tcp46 file names
// port numbers and runs on 143 and 993 with services-standard.
var inetdCases = []inetdCase{
	{
		// The seed's Linux advice: one `flags = IPv6` paragraph per
		// service takes IPv4 as mapped addresses. Debian's xinetd sets
		// IPV6_V6ONLY=0 itself, so bindv6only=1 changes nothing.
		name: "flags_IPv6", daemon: "xinetd",
		files:      []string{"xinetd/linux/imap", "xinetd/linux/imaps"},
		services:   "services",
		bindv6only: []string{"0", "1"},
		listen:     []string{"tcp6:10143", "tcp6:10993"},
		mapped:     true,
		endpoints:  endpoints4and6([]int{10143}, []int{10993}),
	},
	{
		// Separate IPv4 and IPv6-only paragraphs: two sockets per port,
		// for systems without mapped addresses, working on Linux too.
		name: "separate", daemon: "xinetd",
		files:      []string{"xinetd/separate/imap", "xinetd/separate/imaps"},
		services:   "services",
		bindv6only: []string{"1", "0"},
		listen:     []string{"tcp4:10143", "tcp6:10143", "tcp4:10993", "tcp6:10993"},
		endpoints:  endpoints4and6([]int{10143}, []int{10993}),
	},
	{
		// The seed's FreeBSD pair as written: the paragraph without flags
		// is an IPv6 socket too on Debian's xinetd, so the second cannot
		// bind ("Linux complains"), with either bindv6only value. This is
		// why contrib/xinetd/separate says flags = IPv4 and v6only = yes.
		name: "seed_pair_fails", daemon: "xinetd",
		files:      []string{"testdata:xinetd-seed-pair"},
		services:   "services",
		bindv6only: []string{"0", "1"},
		listen:     []string{"tcp6:10143"},
		failLog:    "Service imap failed to start and is deactivated",
	},
	{
		// openbsd-inetd's "tcp": an IPv4 and an IPv6-only socket per
		// line; and simapd: implicit TLS by program name on port 8993.
		name: "tcp_and_simapd", daemon: "inetd",
		files:      []string{"inetd/openbsd-inetd.conf", "inetd/simapd.conf"},
		services:   "services",
		bindv6only: []string{"0", "1"},
		listen:     []string{"tcp4:10143", "tcp6:10143", "tcp4:10993", "tcp6:10993", "tcp4:8993", "tcp6:8993"},
		endpoints:  endpoints4and6([]int{10143}, []int{10993, 8993}),
	},
	{
		name: "tcp4_tcp6", daemon: "inetd",
		files:      []string{"inetd/openbsd-inetd-tcp4-tcp6.conf"},
		services:   "services",
		bindv6only: []string{"1", "0"},
		listen:     []string{"tcp4:10143", "tcp6:10143", "tcp4:10993", "tcp6:10993"},
		endpoints:  endpoints4and6([]int{10143}, []int{10993}),
	},
	{
		// The seed's classic BSD pair (tcp + tcp6) also works on
		// openbsd-inetd, whose tcp already covers both families.
		name: "bsd_tcp_tcp6", daemon: "inetd",
		files:      []string{"inetd/bsd-inetd.conf"},
		services:   "services",
		bindv6only: []string{"0", "1"},
		listen:     []string{"tcp4:10143", "tcp6:10143", "tcp4:10993", "tcp6:10993"},
		endpoints:  endpoints4and6([]int{10143}, []int{10993}),
	},
	{
		// tcp46: one dual-stack socket per port. openbsd-inetd takes it
		// with port numbers only, so this file names 143 and 993 and runs
		// with the standard ports (the namespace is private).
		name: "tcp46", daemon: "inetd",
		files:      []string{"inetd/openbsd-inetd-tcp46.conf"},
		services:   "services-standard",
		bindv6only: []string{"0", "1"},
		listen:     []string{"tcp6:143", "tcp6:993"},
		mapped:     true,
		endpoints:  endpoints4and6([]int{143}, []int{993}),
	},
}

// TestInetd runs Postern's imapd under real xinetd and openbsd-inetd with
// the configurations shipped in contrib/, each in a private network and
// mount namespace (a private /etc/services, wildcard binds exposing
// nothing, its own net.ipv6.bindv6only), and proves over 127.0.0.1 and ::1
// a login, SELECT and FETCH with STARTTLS on imap and implicit TLS on
// imaps, and that imapd logs IPv4 peers as IPv4 even when they reached an
// IPv6 socket (DESIGN.md §2; issue 3).
func TestInetd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts xinetd and inetd in network namespaces")
	}
	// One namespace per daemon and /etc/services, its cases run one after
	// another inside: each namespace costs a re-run of TestMain.
	var spaces []string
	for _, tc := range inetdCases {
		if !slices.Contains(spaces, tc.namespace()) {
			spaces = append(spaces, tc.namespace())
		}
	}
	for _, ns := range spaces {
		t.Run(ns, func(t *testing.T) {
			var cases []inetdCase
			for _, tc := range inetdCases {
				if tc.namespace() == ns {
					cases = append(cases, tc)
				}
			}
			daemon := inetdDaemon(t, cases[0].daemon)
			if !netns.Inside() {
				t.Parallel()
				netns.Run(t, t.Name(), map[string]string{
					"/etc/services": filepath.Join("testdata", "inetd", cases[0].services),
				})
				return
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					for _, v := range tc.bindv6only {
						t.Run("bindv6only="+v, func(t *testing.T) {
							netns.SetSysctl(t, "net/ipv6/bindv6only", v)
							runInetdCase(t, daemon, tc)
						})
					}
				})
			}
		})
	}
}

// namespace names the namespace tc runs in: its daemon, and its services
// file unless it is the usual one.
func (tc inetdCase) namespace() string {
	if tc.services == "services" {
		return tc.daemon
	}
	return tc.daemon + "_" + strings.TrimPrefix(tc.services, "services-")
}

// inetdDaemon finds the daemon called name: xinetd on PATH (Debian's
// /usr/sbin/xinetd), or openbsd-inetd as $POSTERN_INETD, inetd on PATH or
// /opt/openbsd-inetd/usr/sbin/inetd (where CI unpacks it, since the package
// conflicts with xinetd's).
func inetdDaemon(t *testing.T, name string) string {
	t.Helper()
	if name == "xinetd" {
		return needProgram(t, "xinetd")
	}
	if p := os.Getenv("POSTERN_INETD"); p != "" {
		return p
	}
	if p, err := exec.LookPath("inetd"); err == nil {
		return p
	}
	const unpacked = "/opt/openbsd-inetd/usr/sbin/inetd"
	if _, err := os.Stat(unpacked); err == nil {
		return unpacked
	}
	return needProgram(t, "inetd") // fails or skips with the usual message
}

// runInetdCase runs one daemon with tc's configuration in the current
// (private) namespace and checks it.
func runInetdCase(t *testing.T, daemon string, tc inetdCase) {
	dir := t.TempDir()
	if _, err := demo.Setup(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, demo.ConfigName)
	imapdLog := filepath.Join(dir, "imapd.log")
	appendFile(t, conf, "log_file = "+imapdLog+"\n")
	cfgFile := filepath.Join(dir, "inetd.conf")
	if err := os.WriteFile(cfgFile, []byte(inetdConfig(t, tc, conf, filepath.Join(dir, "service.log"))), 0o644); err != nil {
		t.Fatal(err)
	}

	daemonLog := filepath.Join(dir, "daemon.log")
	var cmd *exec.Cmd
	if tc.daemon == "xinetd" {
		// -dontfork keeps it in the foreground; -filelog replaces syslog.
		cmd = exec.Command(daemon, "-dontfork", "-f", cfgFile, "-pidfile", filepath.Join(dir, "xinetd.pid"), "-filelog", daemonLog)
	} else {
		// -d: foreground, configuration lines echoed to stderr.
		cmd = exec.Command(daemon, "-d", cfgFile)
	}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when the daemon has exited, with waitErr set.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit within %v of SIGTERM", tc.daemon, stopTimeout)
		}
		if t.Failed() {
			b, _ := os.ReadFile(daemonLog)
			sl, _ := os.ReadFile(filepath.Join(dir, "service.log"))
			b = append(b, sl...)
			l, _ := os.ReadFile(imapdLog)
			c := uncommented(cfgFile)
			t.Logf("configuration:\n%s\n%s output:\n%s%s\nimapd log:\n%s", c, tc.daemon, out, b, l)
		}
	})

	if tc.daemon == "xinetd" {
		// xinetd binds (and retries failed binds) before this line.
		waitFor(t, "xinetd to start", exited, &waitErr, func() bool {
			b, _ := os.ReadFile(daemonLog)
			return strings.Contains(string(b), "Started working")
		})
	}
	waitFor(t, "listening sockets "+strings.Join(tc.listen, " "), exited, &waitErr, func() bool {
		got := listeningSockets(t)
		return !slices.ContainsFunc(tc.listen, func(s string) bool { return !slices.Contains(got, s) })
	})
	if got, want := listeningSockets(t), slices.Sorted(slices.Values(tc.listen)); !slices.Equal(got, want) {
		t.Errorf("listening sockets = %v, want %v", got, want)
	}
	if tc.failLog != "" {
		if b, _ := os.ReadFile(daemonLog); !strings.Contains(string(b), tc.failLog) {
			t.Errorf("xinetd log lacks %q", tc.failLog)
		}
		return
	}

	roots := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "demo-cert.pem"))
	if err != nil || !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("demo certificate: %v", err)
	}
	for _, ep := range tc.endpoints {
		inetdSession(t, ep, roots)
	}

	// Every session has been greeted, so imapd has logged its start.
	b, err := os.ReadFile(imapdLog)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, ep := range tc.endpoints {
		_, port, _ := net.SplitHostPort(ep.addr)
		want := fmt.Sprintf("port %s service init from %s\"", port, ep.peer)
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("imapd log has %d lines with %q, want 1", n, want)
		}
	}
	var logins, wantLogins, seen, wantSeen []string
	for _, ep := range tc.endpoints {
		wantLogins = append(wantLogins, "["+ep.peer+"]")
		from := ep.peer
		if tc.mapped && net.ParseIP(from).To4() != nil {
			from = "::ffff:" + from
		}
		wantSeen = append(wantSeen, from)
	}
	for _, line := range strings.Split(log, "\n") {
		// msg="Login user=demo host=127.0.0.1 [127.0.0.1]" pid=123
		if _, rest, ok := strings.Cut(line, `msg="Login user=demo host=`); ok {
			rest, _, _ = strings.Cut(rest, `"`)
			_, addr, _ := strings.Cut(rest, " ")
			logins = append(logins, addr)
		}
	}
	slices.Sort(logins)
	slices.Sort(wantLogins)
	if !slices.Equal(logins, wantLogins) {
		t.Errorf("imapd logged logins from %q, want %q", logins, wantLogins)
	}
	if strings.Contains(log, "::ffff:") {
		t.Errorf("imapd log shows an IPv4-mapped address; want plain IPv4")
	}
	if tc.daemon != "xinetd" {
		return // openbsd-inetd logs no connections
	}
	// xinetd logs the address as the socket gave it: mapped on a dual-stack
	// socket, which proves imapd unmapped it.
	b, err = os.ReadFile(filepath.Join(dir, "service.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if _, from, ok := strings.Cut(line, " from="); ok && strings.Contains(line, "START:") {
			seen = append(seen, from)
		}
	}
	slices.Sort(seen)
	slices.Sort(wantSeen)
	if !slices.Equal(seen, wantSeen) {
		t.Errorf("xinetd saw clients from %q, want %q", seen, wantSeen)
	}
}

// inetdConfig reads tc's files from contrib/ (or testdata/inetd/ for a
// "testdata:" name) and substitutes the test's binary and configuration
// for the installed paths.
func inetdConfig(t *testing.T, tc inetdCase, conf, serviceLog string) string {
	t.Helper()
	var b strings.Builder
	if tc.daemon == "xinetd" {
		// A private configuration: no includedir, so nothing of the
		// host's /etc/xinetd.d is read.
		// Each client's address as xinetd saw it goes to serviceLog,
		// to compare with imapd's.
		fmt.Fprintf(&b, "defaults\n{\n\tlog_type = FILE %s\n\tlog_on_success = HOST\n}\n", serviceLog)
	}
	for _, f := range tc.files {
		p := filepath.Join(moduleRoot, "contrib", f)
		if name, ok := strings.CutPrefix(f, "testdata:"); ok {
			p = filepath.Join("testdata", "inetd", name)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if !strings.Contains(s, contribImapd) && !strings.Contains(s, seedImapd) {
			t.Fatalf("%s names neither %s nor %s", p, contribImapd, seedImapd)
		}
		s = strings.ReplaceAll(s, contribImapd, imapdBin)
		s = strings.ReplaceAll(s, seedImapd, imapdBin)
		s = strings.ReplaceAll(s, contribConfig, conf)
		b.WriteString(s)
	}
	return b.String()
}

// inetdSession logs in at ep (STARTTLS or implicit TLS, verifying the demo
// certificate), selects INBOX and fetches every message's flags and body.
func inetdSession(t *testing.T, ep inetdEndpoint, roots *x509.CertPool) {
	t.Helper()
	host, _, _ := net.SplitHostPort(ep.addr)
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: host},
		Dialer:    &net.Dialer{Timeout: ioTimeout},
	}
	dial, how := imapclient.DialStartTLS, "STARTTLS"
	if ep.implicit {
		dial, how = imapclient.DialTLS, "implicit TLS"
	}
	c, err := dial(ep.addr, opts)
	if err != nil {
		t.Fatalf("%s to %s: %v", how, ep.addr, err)
	}
	defer c.Close()
	if err := c.Login("demo", "demo").Wait(); err != nil {
		t.Fatalf("%s %s: LOGIN demo demo: %v", how, ep.addr, err)
	}
	if d := selectMailbox(t, c, "INBOX", false); d.NumMessages != uint32(len(demoMessages)) {
		t.Errorf("%s: SELECT INBOX: %d messages, want %d", ep.addr, d.NumMessages, len(demoMessages))
	}
	whole := &imap.FetchItemBodySection{Peek: true}
	msgs := fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{whole}})
	if len(msgs) != len(demoMessages) {
		t.Fatalf("%s: FETCH 1:* returned %d messages, want %d", ep.addr, len(msgs), len(demoMessages))
	}
	for i, m := range msgs {
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); string(got) != string(demoMessages[i]) {
			t.Errorf("%s: BODY.PEEK[] of %d = %d octets differing from the delivered %d", ep.addr, i+1, len(got), len(demoMessages[i]))
		}
		want := "" // the demo marks only the first message \Seen
		if i == 0 {
			want = `\Seen`
		}
		if got := flagString(m.Flags); got != want {
			t.Errorf("%s: FLAGS of %d = %q, want %q", ep.addr, i+1, got, want)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		t.Errorf("%s: LOGOUT: %v", ep.addr, err)
	}
}

// listeningSockets returns this namespace's TCP listeners as sorted
// "tcp4:PORT" and "tcp6:PORT" entries, read from /proc/net/tcp and tcp6.
func listeningSockets(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"tcp", "tcp6"} {
		f, err := os.Open("/proc/net/" + fam)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st ...; st 0A is LISTEN.
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			port, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil {
				t.Fatalf("/proc/net/%s: %q: %v", fam, fields[1], err)
			}
			name := "tcp4"
			if fam == "tcp6" {
				name = "tcp6"
			}
			out = append(out, fmt.Sprintf("%s:%d", name, port))
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond until it holds; it fails the test if the daemon
// exits first or startTimeout passes (a hang, not a speed assertion).
// waitErr is read only once exited is closed.
func waitFor(t *testing.T, what string, exited <-chan struct{}, waitErr *error, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("daemon exited while waiting for %s: %v", what, *waitErr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, startTimeout)
		}
	}
}

// uncommented returns the file without its comment lines, for failure logs.
func uncommented(name string) string {
	b, _ := os.ReadFile(name)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func appendFile(t *testing.T, name, s string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
