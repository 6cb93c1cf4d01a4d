package daemon

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/internal/config"
)

// connLimiter caps connections in all and per client address; it is
// checked before any protocol byte is exchanged.
type connLimiter struct {
	maxTotal, maxPerIP int            // 0: no cap
	allow              []netip.Prefix // empty: every address
	log                *slog.Logger   // nil: refusals are not logged
	mem                *memGuard      // nil: no memory bound

	mu    sync.Mutex
	total int                // guarded by mu
	perIP map[netip.Addr]int // guarded by mu

	// Refusal log lines are rate-limited: a flood must not fill the
	// disk or syslog. Guarded by mu.
	logWindow  time.Time // start of the current second
	logged     int       // lines logged in it
	suppressed int       // refusals not logged since the last summary
}

// maxRefusalLogs is how many refusals are logged one by one per second;
// the rest are counted, and the count logged in the next second that has
// a refusal.
const maxRefusalLogs = 10

// logRefusal logs a refused connection, within maxRefusalLogs a second.
func (l *connLimiter) logRefusal(addr netip.Addr, reason string) {
	if l.log == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.logWindow) >= time.Second {
		if l.suppressed > 0 {
			l.log.Warn("connections refused, not logged one by one", "count", l.suppressed)
		}
		l.logWindow, l.logged, l.suppressed = now, 0, 0
	}
	ok := l.logged < maxRefusalLogs
	if ok {
		l.logged++
	} else {
		l.suppressed++
	}
	l.mu.Unlock()
	if ok {
		l.log.Warn("connection refused", "remote", addr.String(), "reason", reason)
	}
}

func newConnLimiter(maxTotal, maxPerIP int, allow []netip.Prefix) *connLimiter {
	return &connLimiter{maxTotal: maxTotal, maxPerIP: maxPerIP, allow: allow, perIP: map[netip.Addr]int{}}
}

// allowed reports whether addr (unmapped) may connect under allow_from.
// A peer that is not an IP endpoint (a pipe) always may.
func allowed(allow []netip.Prefix, addr netip.Addr) bool {
	if len(allow) == 0 || !addr.IsValid() {
		return true
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// reasonMemory is the refusal while the daemon's memory is near
// memory_limit (memguard.go).
const reasonMemory = "Server is short of memory, try again later"

// acquire reserves a slot for addr, reporting false (and the reason) when a
// cap is reached. Each successful acquire needs one release.
func (l *connLimiter) acquire(addr netip.Addr) (ok bool, reason string) {
	if !allowed(l.allow, addr) {
		return false, "Connections from " + addr.Unmap().String() + " are not allowed"
	}
	if l.mem.overLimit() {
		return false, reasonMemory
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxTotal > 0 && l.total >= l.maxTotal {
		return false, "Too many connections to this server"
	}
	if l.maxPerIP > 0 && l.perIP[addr] >= l.maxPerIP {
		return false, "Too many connections from your address"
	}
	l.total++
	l.perIP[addr]++
	return true, ""
}

func (l *connLimiter) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP[addr]--; l.perIP[addr] <= 0 {
		delete(l.perIP, addr)
	}
}

// limitedConn releases its slot once when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// SyscallConn gives the servers the socket beneath (imapserver waits for
// input without a read buffer through it); syscall.EINVAL when there is
// none.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, syscall.EINVAL
}

// refuse tells a client why it is dropped, in its protocol's words (IMAP
// BYE, RFC 3501 §7.1.5; POP3 -ERR with RFC 3206's [SYS/TEMP]), without
// waiting long for a slow reader. It runs before any TLS handshake, so on
// an implicit-TLS port the client sees a failed handshake instead.
func refuse(c net.Conn, svc config.Service, reason string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	line := "* BYE [UNAVAILABLE] " + reason + "\r\n"
	if svc.POP3() {
		line = "-ERR [SYS/TEMP] " + reason + "\r\n"
	}
	c.Write([]byte(line))
	c.Close()
}

// limitListener applies a connLimiter to every accepted connection.
type limitListener struct {
	net.Listener
	lim *connLimiter
	svc config.Service // for the refusal's wording
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := peerAddr(c)
		if ok, reason := l.lim.acquire(addr); !ok {
			l.lim.logRefusal(addr, reason)
			// A goroutine only while the short BYE is written (it fits
			// any socket buffer): the accept loop never waits on a client.
			go refuse(c, l.svc, reason)
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.lim.release(addr) }}, nil
	}
}

// peerAddr is the unmapped client address (DESIGN.md §2), or the zero
// address for non-IP connections.
func peerAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
