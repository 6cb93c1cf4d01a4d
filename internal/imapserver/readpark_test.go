package imapserver

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	server.SetDeadline(time.Now().Add(safetyTimeout))
	return server, client
}

// TestWaitInput: a connection waiting for input with nothing buffered
// lends its read buffer out (parks) and reads what arrives afterwards,
// whole, even in pieces; with a pipelined command buffered it keeps the
// buffer; a passed deadline and the client's end are reported by the
// read that follows, as without the wait.
func TestWaitInput(t *testing.T) {
	ts := newTestServer(t, nil)
	sc, cc := tcpPair(t)
	cn := ts.srv.newConn(sc, false)
	readLine := func() string {
		t.Helper()
		cn.dec.Reset()
		line, err := cn.dec.ReadLine()
		if err != nil {
			t.Fatalf("ReadLine = %q, %v", line, err)
		}
		return line
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(cc, "a1 NO")
		time.Sleep(20 * time.Millisecond)
		io.WriteString(cc, "OP\r\na2 NOOP\r\n")
	}()
	cn.waitInput()
	if cn.parks != 1 {
		t.Errorf("waits that parked the read buffer = %d; want 1", cn.parks)
	}
	if got := readLine(); got != "a1 NOOP" {
		t.Errorf("first line = %q; want a1 NOOP", got)
	}
	cn.waitInput() // a2 is buffered: no parking, nothing lost
	if cn.parks != 1 {
		t.Errorf("parked with a command buffered (parks = %d)", cn.parks)
	}
	if got := readLine(); got != "a2 NOOP" {
		t.Errorf("pipelined line = %q; want a2 NOOP", got)
	}

	sc.SetReadDeadline(time.Now().Add(-time.Second))
	cn.waitInput()
	if _, err := cn.br.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Peek after a passed deadline = %v; want the deadline error", err)
	}
	sc.SetReadDeadline(time.Now().Add(safetyTimeout))

	cc.Close()
	cn.waitInput()
	if _, err := cn.br.Peek(1); err != io.EOF {
		t.Errorf("Peek after the client closed = %v; want EOF", err)
	}
	if cn.parks != 3 {
		t.Errorf("parks = %d; want 3", cn.parks)
	}
}
