package imapbackend

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore/maildir"
)

// bodyMaildir makes a Maildir of n messages of about size octets each,
// CRLF text as bench/gen-maildir.py writes them.
func bodyMaildir(b *testing.B, n, size int) *maildir.Store {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		b.Fatal(err)
	}
	line := strings.Repeat("alpha bravo charlie delta echo foxtrot ", 2) + "\r\n"
	for i := 0; i < n; i++ {
		var m strings.Builder
		fmt.Fprintf(&m, "From: Sender %d <s%d@example.org>\r\nTo: rcpt@example.net\r\nSubject: body %d\r\n"+
			"Date: Mon, 23 Nov 2026 09:15:00 +0000\r\nMessage-ID: <%d@example.org>\r\n"+
			"Content-Type: text/plain; charset=us-ascii\r\n\r\n", i, i, i, i)
		for m.Len() < size {
			m.WriteString(line)
		}
		name := filepath.Join(dir, "cur", fmt.Sprintf("1795630326.M%dP1.bench:2,", i))
		if err := os.WriteFile(name, []byte(m.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	st, err := maildir.Open(dir, maildir.Options{NoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// imapClient is the client side of a benchmark connection: it sends a
// command and reads to its tagged response, skipping literals.
type imapClient struct {
	c  net.Conn
	br *bufio.Reader
}

// run sends "tag cmd" and returns the octets read up to and including the
// tagged response, failing unless that response is OK.
func (c *imapClient) run(b *testing.B, tag, cmd string) int64 {
	if _, err := io.WriteString(c.c, tag+" "+cmd+"\r\n"); err != nil {
		b.Fatal(err)
	}
	var n int64
	for {
		line, err := c.br.ReadSlice('\n')
		n += int64(len(line))
		if err != nil {
			b.Fatalf("%s: %v", cmd, err)
		}
		s := string(line)
		if strings.HasPrefix(s, tag+" ") {
			if !strings.HasPrefix(s, tag+" OK") {
				b.Fatalf("%s: %q", cmd, s)
			}
			return n
		}
		if strings.HasSuffix(s, "}\r\n") {
			i := strings.LastIndexByte(s, '{')
			size, err := strconv.ParseInt(s[i+1:len(s)-3], 10, 64)
			if err != nil {
				b.Fatalf("%s: bad literal in %q", cmd, s)
			}
			k, err := c.br.Discard(int(size))
			n += int64(k)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// serveTCP runs an imapserver over the backend on a loopback TCP listener
// and returns a client connected to it, logged in as alice.
func serveTCP(b *testing.B, be *Backend) *imapClient {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := imapserver.New(imapserver.Options{NewSession: be.NewSession})
	go srv.Serve(l)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	c := &imapClient{c: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	if _, err := c.br.ReadSlice('\n'); err != nil {
		b.Fatal(err)
	}
	c.run(b, "L", "LOGIN alice secret")
	return c
}

// BenchmarkFetchBodiesTCP is FETCH 1:* (BODY.PEEK[]) of messages of 100
// KiB from a Maildir over loopback TCP, as compare-dovecot.sh's "bodies"
// figure (1,000 messages there; POSTERN_BENCH_BODIES sets the count here,
// 200 by default to keep the temporary Maildir small). The structures are
// cached by a first FETCH, as after the script's warm-up.
func BenchmarkFetchBodiesTCP(b *testing.B) {
	n := 200
	if v, err := strconv.Atoi(os.Getenv("POSTERN_BENCH_BODIES")); err == nil && v > 0 {
		n = v
	}
	st := bodyMaildir(b, n, 100<<10)
	c := serveTCP(b, newBackend(st, Options{}))
	c.run(b, "S", "SELECT INBOX")
	total := c.run(b, "W", "FETCH 1:* (BODY.PEEK[])")
	b.SetBytes(total)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.run(b, "F", "FETCH 1:* (BODY.PEEK[])")
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far, in
// nanoseconds: on a machine shared with other work it varies less than
// the wall time ns/op (both ends of the connection count here).
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
