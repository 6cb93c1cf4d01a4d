// Package memconn is a test helper: a net.Conn on loopback addresses that
// reads a fixed input and records what is written, so that a protocol
// engine's whole command loop can run (and be fuzzed) without sockets. It
// imports the standard library only.
package memconn

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// Conn reads its input, then io.EOF; writes are kept for Output. It is
// safe for concurrent use (IMAP IDLE reads from its own goroutine).
type Conn struct {
	port int // the local port LocalAddr reports (143, 110...)

	mu  sync.Mutex // guards in and out
	in  *bytes.Reader
	out bytes.Buffer
}

// New returns a Conn that reads input and claims to be a connection from
// 127.0.0.1:40000 to 127.0.0.1:port.
func New(input string, port int) *Conn {
	return &Conn{port: port, in: bytes.NewReader([]byte(input))}
}

// Output returns everything written so far.
func (c *Conn) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func (c *Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in.Read(p)
}

func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

// Close does nothing: the input simply ends.
func (c *Conn) Close() error { return nil }

// LocalAddr is 127.0.0.1 at the port given to New.
func (c *Conn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.port} }

// RemoteAddr is 127.0.0.1:40000, a loopback client (plaintext logins allowed).
func (c *Conn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }

// SetDeadline and the two below do nothing: reads never block.
func (c *Conn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing.
func (c *Conn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }
