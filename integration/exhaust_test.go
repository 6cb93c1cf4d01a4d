package integration

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/demo"
)

// Resource exhaustion (issue 8, item 3): slow clients, half-open
// connections, thousands of connections from one address, literals that
// never finish, and a memory bound, each against a real `postern serve`
// daemon configured with small limits so that the tests stay fast.
// Clients use other loopback addresses (127.0.0.2...) as their source to
// act as other hosts: Linux routes all of 127.0.0.0/8 to lo.

// Limits of the exhaust daemon: small, so that hitting them is cheap.
const (
	exPerIP        = 50
	exGlobal       = 200
	exLoginTimeout = 2 * time.Second
	exLiteral      = 2 * time.Second
)

// startExhaustServer starts a demo daemon whose configuration has the
// extra lines given (later lines override the demo's own).
func startExhaustServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerIn(t, exhaustDir(t, extra...))
}

// exhaustDir makes a demo data directory whose configuration has the
// extra lines given.
func exhaustDir(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := demo.Setup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, demo.ConfigName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, strings.Join(extra, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// exhaustLimits are the configuration lines of the cap and timeout tests.
var exhaustLimits = []string{
	fmt.Sprintf("max_connections_per_ip = %d", exPerIP),
	fmt.Sprintf("max_connections = %d", exGlobal),
	fmt.Sprintf("login_timeout = %v", exLoginTimeout),
	fmt.Sprintf("literal_timeout = %v", exLiteral),
	"write_timeout = 2s",
	"login_delay = 1ms",
	"login_delay_max = 1ms",
}

// exConn is a raw client connection from a chosen source address.
type exConn struct {
	net.Conn
	r *bufio.Reader
}

// dialFrom connects to addr from the loopback address src ("" for the
// default), without reading anything.
func dialFrom(t testing.TB, src, addr string) *exConn {
	t.Helper()
	c, err := dialFromErr(src, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialFromErr(src, addr string) (*exConn, error) {
	d := net.Dialer{Timeout: ioTimeout}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &exConn{Conn: c, r: bufio.NewReader(c)}, nil
}

// line reads one line within wait, without its CRLF.
func (c *exConn) line(wait time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(wait))
	l, err := c.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// closedAfter reads until the server closes the connection, within wait,
// and returns what it read. A reset counts as a close: a server closing a
// socket with client data still unread sends RST instead of FIN (RFC 1122
// §4.2.2.13), which a client dribbling octets can always cause.
func (c *exConn) closedAfter(wait time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(c.r)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil
	}
	return string(b), err
}

// served reports whether a client from src gets the greeting and can log
// in and out.
func served(t *testing.T, src, addr string) {
	t.Helper()
	c := dialFrom(t, src, addr)
	if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
		t.Fatalf("client from %s: greeting %q, %v; want * OK", src, g, err)
	}
	io.WriteString(c, "a LOGIN demo demo\r\nb LOGOUT\r\n")
	out, err := c.closedAfter(ioTimeout)
	if err != nil || !strings.Contains(out, "a OK") || !strings.Contains(out, "b OK") {
		t.Fatalf("client from %s: LOGIN and LOGOUT answered %q, %v", src, out, err)
	}
}

// TestExhaustSlowClient: a client sending one octet per second never
// completes a command before login_timeout (or, logged in, before
// literal_timeout once its command started); the server says why with
// BYE (POP3: -ERR) and closes.
func TestExhaustSlowClient(t *testing.T) {
	s := startExhaustServer(t, exhaustLimits...)
	tests := []struct {
		name, addr string
		login      bool
		greeting   string
		want       string
	}{
		{"imap before login", s.IMAP, false, "* OK", "* BYE Autologout; login took too long"},
		{"imap after login", s.IMAP, true, "* OK", "* BYE Autologout; command not completed in time"},
		{"pop3 before login", s.POP3, false, "+OK", "-ERR Autologout; login took too long"},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialFromErr("127.0.0.1", tt.addr)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				return
			}
			defer c.Close()
			if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, tt.greeting) {
				t.Errorf("%s: greeting %q, %v", tt.name, g, err)
				return
			}
			if tt.login {
				io.WriteString(c, "a LOGIN demo demo\r\n")
				if l, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(l, "a OK") {
					t.Errorf("%s: LOGIN answered %q, %v", tt.name, l, err)
					return
				}
			}
			got, sent := dribble(c, "x NOOP and more and more and more\r\n", time.Second)
			if got != tt.want {
				t.Errorf("%s: after %d octets, one a second, the server said %q, want %q", tt.name, sent, got, tt.want)
			}
		}()
	}
	wg.Wait()
	served(t, "127.0.0.2", s.IMAP)
}

// dribble sends line one octet every interval until the server answers,
// and returns its answer's first line (the connection must then close)
// and how many octets went out.
func dribble(c *exConn, line string, interval time.Duration) (string, int) {
	answer := make(chan string, 1)
	go func() {
		l, err := c.line(ioTimeout + exLoginTimeout)
		if err != nil {
			l = fmt.Sprintf("(%q, %v)", l, err)
		} else if rest, err := c.closedAfter(ioTimeout); err != nil || rest != "" {
			l = fmt.Sprintf("%s (then %q, %v instead of the close)", l, rest, err)
		}
		answer <- l
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for sent := 0; ; {
		select {
		case l := <-answer:
			return l, sent
		case <-tick.C:
			if sent < len(line) {
				c.SetWriteDeadline(time.Now().Add(ioTimeout))
				if _, err := c.Write([]byte{line[sent]}); err == nil {
					sent++
				}
			}
		}
	}
}

// TestExhaustSlowloris: many slow clients from one address fill only that
// address's share (max_connections_per_ip); the ones beyond it are
// refused at once; clients from elsewhere are served meanwhile; when the
// login timeout ends the slow ones, their slots are free again.
func TestExhaustSlowloris(t *testing.T) {
	s := startExhaustServer(t, exhaustLimits...)
	var slow []*exConn
	for range exPerIP {
		c := dialFrom(t, "127.0.0.1", s.IMAP)
		if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
			t.Fatalf("slow client %d: greeting %q, %v", len(slow), g, err)
		}
		io.WriteString(c, "a") // a command started, never finished
		slow = append(slow, c)
	}
	for i := range 20 {
		c := dialFrom(t, "127.0.0.1", s.IMAP)
		out, err := c.closedAfter(ioTimeout)
		if want := "* BYE [UNAVAILABLE] Too many connections from your address\r\n"; out != want || err != nil {
			t.Fatalf("connection %d beyond the per-address cap: got %q, %v; want %q and a close", exPerIP+i+1, out, err, want)
		}
	}
	served(t, "127.0.0.2", s.IMAP)
	served(t, "::1", s.IMAP6)
	for i, c := range slow {
		out, err := c.closedAfter(exLoginTimeout + ioTimeout)
		if want := "* BYE Autologout; login took too long\r\n"; out != want || err != nil {
			t.Fatalf("slow client %d: got %q, %v; want %q and a close", i, out, err, want)
		}
	}
	// Every slot was released before its connection closed.
	for range exPerIP {
		c := dialFrom(t, "127.0.0.1", s.IMAP)
		if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
			t.Fatalf("after the slow clients left: greeting %q, %v", g, err)
		}
	}
}

// TestExhaustHalfOpen: clients that connect and never send, or that send
// half a command and stop, or that reset the connection (SO_LINGER 0), or
// that stop reading a flood of answers, are all gone from the server after
// login_timeout or write_timeout: its socket count (file descriptors in
// /proc) goes back to what it was.
func TestExhaustHalfOpen(t *testing.T) {
	s := startExhaustServer(t, exhaustLimits...)
	base := socketCount(t, s.proc.Pid)
	var silent []*exConn
	for i := range 40 {
		src := fmt.Sprintf("127.0.0.%d", 10+i%4)
		c := dialFrom(t, src, s.IMAP)
		switch i % 4 {
		case 1:
			io.WriteString(c, "a LOGIN demo") // half a command
		case 2:
			io.WriteString(c, "a LOGIN {4}\r\n") // a literal announced
		case 3:
			// Vanish without FIN: an RST, as from a host that died and
			// rebooted, after half a command.
			io.WriteString(c, "a NO")
			c.Conn.(*net.TCPConn).SetLinger(0)
			c.Close()
			continue
		}
		silent = append(silent, c) // never reads, never sends more
	}
	pop := dialFrom(t, "127.0.0.14", s.POP3)
	// A client that asks for much and never reads the answers: the
	// server's writes block, and write_timeout ends the connection.
	deaf := dialFrom(t, "127.0.0.15", s.IMAP)
	if g, err := deaf.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q, %v", g, err)
	}
	deaf.SetWriteDeadline(time.Now().Add(ioTimeout))
	io.WriteString(deaf, "l LOGIN demo demo\r\ns SELECT INBOX\r\n"+strings.Repeat("f FETCH 1:* (BODY.PEEK[])\r\n", 3000))
	if n := socketCount(t, s.proc.Pid); n <= base {
		t.Fatalf("with %d clients connected the server has %d sockets, no more than the %d before", len(silent)+1, n, base)
	}
	for i, c := range append(silent, pop) {
		out, err := c.closedAfter(exLoginTimeout + ioTimeout)
		if err != nil || !strings.Contains(out, "Autologout") {
			t.Errorf("silent client %d: got %q, %v; want an autologout and a close", i, out, err)
		}
	}
	// The server closed each socket before its client saw the close; the
	// deaf client's goes when write_timeout ends a blocked write.
	waitSockets(t, s.proc.Pid, base)
	served(t, "127.0.0.10", s.IMAP)
}

// socketCount counts the sockets among process pid's file descriptors.
func socketCount(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// raiseNoFile raises this process's open-file limit to its hard limit
// (as root, the hard limit too when it is below need), and fails the test
// if it stays below need.
func raiseNoFile(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < need {
		// Root may raise the hard limit too (up to fs.nr_open); others
		// keep theirs and fail below with the advice.
		raised := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	if lim.Cur < need {
		t.Fatalf("RLIMIT_NOFILE is %d, this test needs %d (raise the hard limit: ulimit -Hn)", lim.Cur, need)
	}
}

// exhaustConns is how many connections TestExhaustManyConnections opens
// from one address (issue 8 item 3: 10,000).
const exhaustConns = 10000

// TestExhaustManyConnections: 10,000 connections from one address get
// max_connections_per_ip slots, and every other one a BYE with the reason
// and a close at once, without the refused connections piling up in the
// server; clients from other addresses are served meanwhile. Then the
// global cap (max_connections) is filled from several addresses, IPv4 and
// IPv6, and holds.
func TestExhaustManyConnections(t *testing.T) {
	raiseNoFile(t, 2*exhaustConns)
	// The accepted connections must outlive the flood: a login timeout
	// freeing their slots would let more in.
	s := startExhaustServer(t, append(exhaustLimits, "login_timeout = 5m")...)
	pid := s.proc.Pid
	base := socketCount(t, pid)

	var (
		mu       sync.Mutex
		accepted []*exConn
		refused  int
		other    []string
		peak     int
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				c, err := dialFromErr("127.0.0.1", s.IMAP)
				if err != nil {
					mu.Lock()
					other = append(other, err.Error())
					mu.Unlock()
					continue
				}
				l, err := c.line(ioTimeout)
				mu.Lock()
				switch {
				case err == nil && strings.HasPrefix(l, "* OK"):
					accepted = append(accepted, c)
					mu.Unlock()
					continue
				case err == nil && l == "* BYE [UNAVAILABLE] Too many connections from your address":
					refused++
				default:
					other = append(other, fmt.Sprintf("%q, %v", l, err))
				}
				mu.Unlock()
				if rest, err := c.closedAfter(ioTimeout); rest != "" || err != nil {
					mu.Lock()
					other = append(other, fmt.Sprintf("after the BYE: %q, %v instead of a close", rest, err))
					mu.Unlock()
				}
				c.Close()
			}
		}()
	}
	// A sampler of the server's sockets while the flood runs: refused
	// connections must not accumulate.
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if n, err := countSockets(pid); err == nil {
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
		}
	}()
	for i := range exhaustConns {
		work <- i
		if i == exhaustConns/2 {
			served(t, "127.0.0.2", s.IMAP) // another host, in the middle of the flood
		}
	}
	close(work)
	wg.Wait()
	close(stopSampling)
	<-sampled
	t.Logf("%d connections from 127.0.0.1: %d accepted, %d refused; server sockets: %d before, at most %d during the flood",
		exhaustConns, len(accepted), refused, base, peak)
	if len(other) > 0 {
		t.Fatalf("%d connections got something else than a greeting or the per-address BYE, first: %s", len(other), other[0])
	}
	if len(accepted) != exPerIP || refused != exhaustConns-exPerIP {
		t.Errorf("accepted %d and refused %d, want %d and %d", len(accepted), refused, exPerIP, exhaustConns-exPerIP)
	}
	// Refusals are logged at most 10 a second: a few dozen lines here,
	// not one per refusal.
	if n := strings.Count(s.stderr.String(), `msg="connection refused"`); n >= exhaustConns/10 {
		t.Errorf("the log has %d refusal lines for %d refusals, want them rate-limited", n, refused)
	}
	// Each refused connection lives only while its BYE is written: the
	// sampler never sees more than the accepted ones plus a few in flight
	// (16 clients at a time).
	if bound := base + exPerIP + 2*16 + 4; peak > bound {
		t.Errorf("the server held up to %d sockets during the flood, want at most %d (%d accepted, 16 clients at a time)", peak, bound, exPerIP)
	}

	// The global cap: 50 from ::1 and from two more IPv4 addresses fill
	// it with 127.0.0.1's 50; the next, from anywhere, is refused.
	for _, src := range []string{"::1", "127.0.0.3", "127.0.0.4"} {
		addr := s.IMAP
		if src == "::1" {
			addr = s.IMAP6
		}
		for range exPerIP {
			c := dialFrom(t, src, addr)
			if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
				t.Fatalf("client from %s: greeting %q, %v", src, g, err)
			}
			accepted = append(accepted, c)
		}
	}
	for _, src := range []string{"127.0.0.5", "::1", "127.0.0.1"} {
		addr := s.IMAP
		if src == "::1" {
			addr = s.IMAP6
		}
		c := dialFrom(t, src, addr)
		// ::1 and 127.0.0.1 are at their own cap too: the global cap is
		// checked first.
		want := "* BYE [UNAVAILABLE] Too many connections to this server\r\n"
		if out, err := c.closedAfter(ioTimeout); out != want || err != nil {
			t.Errorf("client from %s with %d connections open: got %q, %v; want %q", src, exGlobal, out, err, want)
		}
	}
	// Closing one frees one slot, for anyone.
	accepted[0].Close()
	accepted[0].closedAfter(ioTimeout)
	waitSockets(t, pid, base+exGlobal-1)
	served(t, "127.0.0.6", s.IMAP)
	for _, c := range accepted {
		c.Close()
	}
}

// countSockets is socketCount without a test, for a sampling goroutine.
func countSockets(pid int) (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n, nil
}

// waitSockets waits (bounded by ioTimeout) until process pid has at most n
// sockets: a client's close reaches the server asynchronously.
func waitSockets(t *testing.T, pid, n int) {
	t.Helper()
	deadline := time.Now().Add(ioTimeout)
	for {
		got, err := countSockets(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got <= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still has %d sockets after %v, want at most %d", got, ioTimeout, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExhaustLiteral: literals announced and never finished, before and
// after login, synchronizing and LITERAL+ (RFC 7888), an APPEND of 60 MiB
// of which only a little comes: literal_timeout (or the login timeout)
// ends each with a BYE, and the server's memory does not grow with the
// sizes announced (8 clients announce 480 MiB in all).
func TestExhaustLiteral(t *testing.T) {
	s := startExhaustServer(t, exhaustLimits...)
	const big = 60 << 20
	tests := []struct {
		name  string
		login bool
		send  string
		// cont: the server must first answer a continuation request.
		cont  bool
		bytes int // octets of the literal actually sent
		want  string
	}{
		{"login literal", false, "a LOGIN {4}\r\n", true, 2, "* BYE Autologout; login took too long"},
		{"login literal+", false, "a LOGIN {4+}\r\n", false, 2, "* BYE Autologout; login took too long"},
		{"append sync", true, fmt.Sprintf("a APPEND INBOX {%d}\r\n", big), true, 0, "* BYE Autologout; command not completed in time"},
		{"append literal+", true, fmt.Sprintf("a APPEND INBOX {%d+}\r\n", big), false, 0, "* BYE Autologout; command not completed in time"},
		{"append sync partial", true, fmt.Sprintf("a APPEND INBOX {%d}\r\n", big), true, 1 << 20, "* BYE Autologout; command not completed in time"},
		{"append literal+ partial", true, fmt.Sprintf("a APPEND INBOX (\\Seen) {%d+}\r\n", big), false, 1 << 20, "* BYE Autologout; command not completed in time"},
		{"append literal+ 2", true, fmt.Sprintf("a APPEND INBOX {%d+}\r\n", big), false, 4 << 20, "* BYE Autologout; command not completed in time"},
		{"append literal+ 3", true, fmt.Sprintf("a APPEND INBOX {%d+}\r\n", big), false, 3 << 20, "* BYE Autologout; command not completed in time"},
		{"append sync 2", true, fmt.Sprintf("a APPEND INBOX {%d}\r\n", big), true, 2 << 20, "* BYE Autologout; command not completed in time"},
		{"list literal", true, "a LIST \"\" {60000}\r\n", true, 100, "* BYE Autologout; command not completed in time"},
		{"catenate", true, fmt.Sprintf("a APPEND INBOX CATENATE (TEXT {%d+}\r\n", big), false, 1 << 20, "* BYE Autologout; command not completed in time"},
	}
	var wg sync.WaitGroup
	announced := 0
	for _, tt := range tests {
		if strings.Contains(tt.send, strconv.Itoa(big)) {
			announced += big
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := unfinishedLiteral(s.IMAP, tt.login, tt.send, tt.cont, tt.bytes, tt.want); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}()
	}
	wg.Wait()
	served(t, "127.0.0.2", s.IMAP)
	// No partial message was delivered.
	c := dialRaw(t, s.IMAP, true)
	if u := c.mustOK("STATUS INBOX (MESSAGES)"); len(u) != 1 || u[0] != fmt.Sprintf("* STATUS INBOX (MESSAGES %d)", len(demoMessages)) {
		t.Errorf("STATUS INBOX after the unfinished APPENDs = %q, want the demo's %d messages", u, len(demoMessages))
	}
	peak, err := procStatusKiB(s.proc.Pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unfinished literals announcing %d MiB in all: daemon peak RSS (VmHWM) %.1f MiB", announced>>20, float64(peak)/1024)
	// Less than a single announced literal: nothing was sized by the
	// announcement, nor buffered whole.
	if peak*1024 >= big {
		t.Errorf("daemon peak RSS %d KiB, want under %d MiB, one literal's announced size", peak, big>>20)
	}
}

// unfinishedLiteral sends a command announcing a literal, then n octets of
// it, then nothing, and checks the server's last word and close.
func unfinishedLiteral(addr string, login bool, send string, cont bool, n int, want string) error {
	c, err := dialFromErr("127.0.0.1", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
		return fmt.Errorf("greeting %q, %v", g, err)
	}
	if login {
		io.WriteString(c, "l LOGIN demo demo\r\n")
		if l, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(l, "l OK") {
			return fmt.Errorf("LOGIN answered %q, %v", l, err)
		}
	}
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	io.WriteString(c, send)
	if cont {
		if l, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(l, "+ ") {
			return fmt.Errorf("after %q: %q, %v; want a continuation request", send, l, err)
		}
	}
	if _, err := c.Write(make([]byte, n)); err != nil {
		return fmt.Errorf("sending %d octets: %w", n, err)
	}
	out, err := c.closedAfter(exLiteral + exLoginTimeout + ioTimeout)
	if err != nil || out != want+"\r\n" {
		return fmt.Errorf("after %d octets of the literal and silence: %q, %v; want %q and a close", n, out, err, want)
	}
	return nil
}
