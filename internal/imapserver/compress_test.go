package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The client side of these tests is the standard library's compress/flate,
// an implementation independent of the server's, to show interoperability
// (RFC 4978: raw DEFLATE, RFC 1951).

// deflateConn is the client's end after COMPRESS: writes are compressed
// and sync-flushed (as zlib's Z_SYNC_FLUSH, what clients do per command),
// then sent in one write: the server may act on a block before the
// flush marker after it arrives (LOGOUT, then close), and a second write
// would meet the closed socket.
type deflateConn struct {
	net.Conn
	zw  *flate.Writer
	buf *bytes.Buffer // zw's output
}

func (d *deflateConn) Write(p []byte) (int, error) {
	n, err := d.zw.Write(p)
	if err != nil {
		return n, err
	}
	if err := d.zw.Flush(); err != nil {
		return n, err
	}
	_, err = d.Conn.Write(d.buf.Bytes())
	d.buf.Reset()
	return n, err
}

// compress sends COMPRESS DEFLATE, checks the OK and switches the client
// to DEFLATE. extra is sent compressed in the same write as the command
// (a client that pipelines against RFC 4978 §3's advice).
func (tc *testClient) compress(extra string) {
	tc.t.Helper()
	var b bytes.Buffer
	b.WriteString("z COMPRESS DEFLATE\r\n")
	zw, _ := flate.NewWriter(&b, flate.BestSpeed)
	if extra != "" {
		zw.Write([]byte(extra))
		zw.Flush()
	}
	if _, err := tc.c.Write(b.Bytes()); err != nil {
		tc.t.Fatal(err)
	}
	tc.expect("z OK DEFLATE active")
	// The server sends nothing after its OK until asked: tc.br holds no
	// compressed octets yet, and can be the decompressor's source.
	out := new(bytes.Buffer)
	zw.Reset(out)
	tc.c = &deflateConn{Conn: tc.c, zw: zw, buf: out}
	tc.br = bufio.NewReader(flate.NewReader(tc.br))
}

func TestCompress(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.greet()
	tc.send("a1 COMPRESS DEFLATE\r\n")
	tc.expect("a1 BAD Command not allowed before login")
	tc.send("L LOGIN alice secret\r\n")
	tc.until("L")
	tc.send("a2 COMPRESS GZIP\r\n")
	tc.expect("a2 BAD Unknown compression mechanism")
	tc.send("a3 COMPRESS\r\n")
	tc.expect("a3 BAD expected SP, found end of line")
	tc.compress("")
	tc.send("a4 NOOP\r\n")
	tc.expect("a4 OK NOOP completed")
	tc.send("a5 COMPRESS DEFLATE\r\n")
	tc.expect("a5 NO [COMPRESSIONACTIVE] DEFLATE is already active")
	tc.send("a6 SELECT INBOX\r\n")
	if got := tc.until("a6"); got[len(got)-1] != "a6 OK [READ-WRITE] SELECT completed" {
		t.Fatalf("SELECT: %q", got)
	}
	// A literal, synchronizing, through both directions.
	tc.send("a7 FETCH 1 BODY[]\r\n")
	lines := tc.until("a7")
	if !strings.HasPrefix(lines[0], "* 1 FETCH (BODY[] {") || lines[len(lines)-1] != "a7 OK FETCH completed" {
		t.Fatalf("FETCH: %q", lines)
	}
	tc.send("a8 LOGIN {5}\r\n")
	tc.expect("a8 BAD Command not allowed after login")
	tc.send("a9 LOGOUT\r\n")
	tc.expect("* BYE Logging out", "a9 OK LOGOUT completed")
	tc.expectEOF()
}

// TestCompressPipelined: octets the client sent compressed right behind
// COMPRESS, before the OK, are read through the decompressor.
func TestCompressPipelined(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	tc.compress("b NOOP\r\n")
	tc.expect("b OK NOOP completed")
	tc.send("c CAPABILITY\r\n")
	tc.expect("* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UIDPLUS UNSELECT IDLE NAMESPACE CHILDREN ENABLE MOVE ESEARCH WITHIN SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT ID UTF8=ACCEPT COMPRESS=DEFLATE LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE APPENDLIMIT=67108864 QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE BINARY MULTIAPPEND PREVIEW SAVEDATE OBJECTID",
		"c OK CAPABILITY completed")
}

// TestCompressIdle: updates pushed during IDLE reach the client while
// compressed, each flushed out of the compressor (no timing: the read
// blocks until the update arrives, and would fail at safetyTimeout if the
// compressor held it).
func TestCompressIdle(t *testing.T) {
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.selectInbox()
	tc.compress("")
	tc.send("i IDLE\r\n")
	tc.expect("+ idling")
	ts.store.deliver("INBOX", "Subject: x\r\n\r\nx\r\n")
	tc.expect("* 4 EXISTS")
	ts.store.expungeUID("INBOX", 1)
	tc.expect("* 1 EXPUNGE")
	tc.send("DONE\r\n")
	tc.expect("i OK IDLE terminated")
}

// TestCompressTLS: COMPRESS under STARTTLS and under implicit TLS
// (RFC 4978 §3: compressed, then encrypted).
func TestCompressTLS(t *testing.T) {
	serverCfg, clientCfg := testTLSConfig(t)
	t.Run("STARTTLS", func(t *testing.T) {
		ts := newTestServer(t, func(o *Options) { o.TLSConfig = serverCfg })
		tc := ts.dial(t)
		tc.greet()
		tc.send("a STARTTLS\r\n")
		tc.expect("a OK Begin TLS negotiation now")
		tc.startTLS(clientCfg)
		tc.send("L LOGIN alice secret\r\n")
		tc.until("L")
		tc.compress("")
		tc.send("S SELECT INBOX\r\n")
		tc.until("S")
		tc.send("i IDLE\r\n")
		tc.expect("+ idling")
		ts.store.deliver("INBOX", "Subject: x\r\n\r\nx\r\n")
		tc.expect("* 4 EXISTS")
		tc.send("DONE\r\n")
		tc.expect("i OK IDLE terminated")
	})
	t.Run("implicit", func(t *testing.T) {
		st := newFakeStore()
		srv := New(Options{NewSession: newFakeSessionFunc(st, true), TLSConfig: serverCfg})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(tls.NewListener(l, serverCfg)) }()
		defer func() {
			srv.Shutdown(context.Background())
			<-done
		}()
		c, err := tls.Dial("tcp", l.Addr().String(), clientCfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(safetyTimeout))
		tc := &testClient{t: t, c: c, br: bufio.NewReader(c)}
		tc.login()
		tc.compress("")
		tc.send("a NAMESPACE\r\n")
		tc.expect(`* NAMESPACE (("" "/")) NIL NIL`, "a OK NAMESPACE completed")
		tc.send("b LOGOUT\r\n")
		tc.expect("* BYE Logging out", "b OK LOGOUT completed")
	})
}

// TestCompressBomb: the limits count decompressed octets. A few KiB of
// DEFLATE that expand to a 64 MiB line, or to a literal over the limit,
// are refused as the same plain text would be, and the server only ever
// holds its window.
func TestCompressBomb(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxAppendSize = 1 << 20 })
	tc := ts.dial(t)
	tc.login()
	tc.compress("")
	zc := tc.c.(*deflateConn)

	// A non-synchronizing literal of 8 MiB of zeros, over the APPEND
	// limit: read and dropped (RFC 7888 §4), then the next command runs.
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tc.send("a APPEND INBOX {8388608+}\r\n")
	zeros := make([]byte, 1<<20)
	for range 8 {
		zc.Write(zeros)
	}
	zc.Write([]byte("\r\n"))
	tc.expect("a NO [TOOBIG] Message too big")
	tc.send("b NOOP\r\n")
	tc.expect("b OK NOOP completed")

	// A 64 MiB line: BAD [TOOBIG], then, the rest of the line being far
	// past what the server skips looking for its end, BYE.
	tc.send("c NOOP ")
	line := bytes.Repeat([]byte("x"), 1<<20)
	go func() {
		for range 64 {
			if _, err := zc.Write(line); err != nil {
				return
			}
		}
		zc.Write([]byte("\r\n"))
	}()
	got, _ := tc.line()
	if !strings.HasPrefix(got, "c BAD [TOOBIG] ") && !strings.HasPrefix(got, "* BYE [TOOBIG] ") {
		t.Fatalf("64 MiB compressed line: %q", got)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Both ends run in this process: the client's compressor is the big
	// allocation. The server must not have buffered the 72 MiB.
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 16<<20 {
		t.Errorf("heap grew by %d octets while 72 MiB of decompressed input went by", grow)
	}
}

// BenchmarkCompressMemory reports the heap a server connection holds,
// idle, with and without COMPRESS (DESIGN.md §7: under 64 KiB per idle
// connection). Only the server's side is counted: the connections are
// made directly, over pipes nobody reads.
func BenchmarkCompressMemory(b *testing.B) {
	for _, compressed := range []bool{false, true} {
		name := "plain"
		if compressed {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			srv := New(Options{NewSession: newFakeSessionFunc(newFakeStore(), true)})
			const n = 200
			var conns []*conn
			var ends []net.Conn
			var before, after runtime.MemStats
			for i := 0; i < b.N; i++ {
				conns, ends = nil, nil
				runtime.GC()
				runtime.ReadMemStats(&before)
				for range n {
					s, c := net.Pipe()
					ends = append(ends, s, c)
					cn := srv.newConn(s, false)
					if compressed {
						cn.startCompress()
					}
					conns = append(conns, cn)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				for _, e := range ends {
					e.Close()
				}
			}
			per := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
			b.ReportMetric(per, "B/conn")
			runtime.KeepAlive(conns)
		})
	}
}

var _ io.Writer = (*deflateWriter)(nil)

// TestCompressTimers: the autologout timer and Shutdown still wake a
// connection whose reads go through the decompressor, and their BYE comes
// out compressed.
func TestCompressTimers(t *testing.T) {
	t.Run("autologout", func(t *testing.T) {
		// Long enough for LOGIN and COMPRESS on a loaded machine under
		// the race detector (50 ms was not), short enough to wait for.
		ts := newTestServer(t, func(o *Options) { o.IdleTimeout = time.Second })
		tc := ts.dial(t)
		tc.login()
		tc.compress("")
		tc.expect("* BYE Autologout; idle for too long")
		tc.expectEOF()
	})
	t.Run("shutdown", func(t *testing.T) {
		ts := newTestServer(t, nil)
		tc := ts.dial(t)
		tc.login()
		tc.compress("")
		tc.send("a NOOP\r\n")
		tc.expect("a OK NOOP completed")
		go ts.srv.Shutdown(context.Background())
		tc.expect("* BYE Server shutting down")
		tc.expectEOF()
	})
}
