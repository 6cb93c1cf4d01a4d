package integration

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestCoreExtIMAPClient covers ID (RFC 2971), ENABLE (RFC 5161) of
// UTF8=ACCEPT (RFC 6855) and IMAP4rev2 (RFC 9051) with go-imap v2's
// client against the daemon.
func TestCoreExtIMAPClient(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	t.Run("ID", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		// Before login: ID is valid in any state (RFC 2971 §3.1).
		d, err := c.ID(&imap.IDData{Name: "postern-test", Version: "1.0"}).Wait()
		if err != nil {
			t.Fatalf("ID: %v", err)
		}
		if d == nil || d.Name != "Postern" || d.OS != "" {
			t.Errorf("ID = %+v, want name Postern and nothing about the host", d)
		}
	})

	t.Run("UTF8Accept", func(t *testing.T) {
		c := loginIMAP(t, s.IMAP, nil)
		d, err := c.Enable(imap.CapUTF8Accept).Wait()
		if err != nil {
			t.Fatalf("ENABLE UTF8=ACCEPT: %v", err)
		}
		if !d.Caps.Has(imap.CapUTF8Accept) {
			t.Fatalf("ENABLED = %v, want UTF8=ACCEPT", d.Caps)
		}
		const name = "Ärger und Co/日本"
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatalf("CREATE %q: %v", name, err)
		}
		boxes, err := c.List("", "Ärger*", nil).Collect()
		if err != nil {
			t.Fatalf("LIST: %v", err)
		}
		var names []string
		for _, b := range boxes {
			names = append(names, b.Mailbox)
		}
		if strings.Join(names, "|") != "Ärger und Co|"+name {
			t.Errorf("LIST \"\" Ärger* = %q, want the parent and %q", names, name)
		}
		sel := selectMailbox(t, c, name, false)
		if sel.NumMessages != 0 {
			t.Errorf("SELECT %q: %d messages, want 0", name, sel.NumMessages)
		}
		// A second client without ENABLE sees the same mailbox, in
		// modified UTF-7 on the wire.
		c2 := loginIMAP(t, s.IMAP6, nil)
		st, err := c2.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || st.Mailbox != name {
			t.Errorf("STATUS %q from a rev1 client = %+v, %v", name, st, err)
		}
	})

	t.Run("IMAP4rev2", func(t *testing.T) {
		c := loginIMAP(t, s.IMAP, nil)
		d, err := c.Enable(imap.CapIMAP4rev2).Wait()
		if err != nil {
			t.Fatalf("ENABLE IMAP4rev2: %v", err)
		}
		if !d.Caps.Has(imap.CapIMAP4rev2) {
			t.Fatalf("ENABLED = %v, want IMAP4rev2", d.Caps)
		}
		sel := selectMailbox(t, c, "INBOX", true)
		if sel.NumMessages != uint32(len(demoMessages)) {
			t.Errorf("SELECT INBOX in rev2 mode: %d messages, want %d", sel.NumMessages, len(demoMessages))
		}
	})

	// The same over the raw wire, where the absence of RECENT and UNSEEN
	// can be seen.
	t.Run("IMAP4rev2Raw", func(t *testing.T) {
		c := dialRaw(t, s.IMAP, true)
		c.mustOK("ENABLE IMAP4rev2")
		for _, l := range c.mustOK("EXAMINE INBOX") {
			if strings.HasSuffix(l, " RECENT") || strings.Contains(l, "[UNSEEN ") || strings.Contains(l, `\Recent`) {
				t.Errorf("EXAMINE in rev2 mode said %q", l)
			}
		}
		for _, l := range c.mustOK("FETCH 1:* FLAGS") {
			if strings.Contains(l, `\Recent`) {
				t.Errorf("FETCH in rev2 mode said %q", l)
			}
		}
	})
}

// TestCoreExtPythonUTF8 runs Python's imaplib with ENABLE UTF8=ACCEPT
// (imaplib then sends commands in UTF-8) and a UTF-8 mailbox name.
func TestCoreExtPythonUTF8(t *testing.T) {
	t.Parallel()
	python := pythonInterpreter(t)
	s := startServer(t)
	host, port, err := net.SplitHostPort(s.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import imaplib, json, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("demo", "demo")
out = {}
typ, data = m.enable("UTF8=ACCEPT")
out["enable"] = [typ] + [d.decode() for d in data if d]
typ, data = m.create('"Überprüfung"')
out["create"] = typ
typ, data = m.list('""', '"Über*"')
out["list"] = [typ] + [d.decode("utf-8") for d in data if d]
typ, data = m.select('"Überprüfung"')
out["select"] = [typ] + [d.decode() for d in data]
typ, data = m.search(None, "SUBJECT", '"Grüße"')
out["search"] = [typ] + [d.decode() for d in data]
m.logout()
print(json.dumps(out, ensure_ascii=False))
`
	out := runProgram(t, nil, python, "-c", script, host, port)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("imaplib output is not JSON: %v\n%s", err, out)
	}
	want := map[string]any{
		"enable": []any{"OK", "ENABLE completed"},
		"create": "OK",
		"list":   []any{"OK", `(\HasNoChildren) "/" "Überprüfung"`},
		"select": []any{"OK", "0"},
		"search": []any{"OK", ""},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Errorf("imaplib with UTF8=ACCEPT:\n\t%s\nwant\n\t%s", gj, wj)
	}
}

// zconn is a client connection after COMPRESS DEFLATE, with the standard
// library's compress/flate (not the server's implementation): commands
// go out compressed and sync-flushed in one write, responses come in
// through the decompressor.
type zconn struct {
	t   *testing.T
	c   net.Conn
	zw  *flate.Writer
	out bytes.Buffer
	r   *bufio.Reader
}

func (z *zconn) send(s string) {
	z.t.Helper()
	z.zw.Write([]byte(s))
	z.zw.Flush()
	z.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := z.c.Write(z.out.Bytes()); err != nil {
		z.t.Fatal(err)
	}
	z.out.Reset()
}

func (z *zconn) line() string {
	z.t.Helper()
	z.c.SetReadDeadline(time.Now().Add(ioTimeout))
	l, err := z.r.ReadString('\n')
	if err != nil {
		z.t.Fatalf("reading compressed response: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// until reads up to the tagged line of tag and returns all lines.
func (z *zconn) until(tag string) []string {
	z.t.Helper()
	var lines []string
	for {
		l := z.line()
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

// startCompress logs in on c (plain lines through r) and turns on
// COMPRESS DEFLATE.
func startCompress(t *testing.T, c net.Conn) *zconn {
	t.Helper()
	r := bufio.NewReader(c)
	read := func() string {
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return strings.TrimSuffix(l, "\r\n")
	}
	if g := read(); !strings.HasPrefix(g, "* OK ") || !strings.Contains(g, "COMPRESS=DEFLATE") {
		t.Fatalf("greeting = %q, want COMPRESS=DEFLATE in it", g)
	}
	io.WriteString(c, "a LOGIN demo demo\r\nb COMPRESS DEFLATE\r\n")
	if l := read(); !strings.HasPrefix(l, "a OK ") {
		t.Fatalf("LOGIN: %q", l)
	}
	if l := read(); l != "b OK DEFLATE active" {
		t.Fatalf("COMPRESS: %q", l)
	}
	z := &zconn{t: t, c: c, r: bufio.NewReader(flate.NewReader(r))}
	z.zw, _ = flate.NewWriter(&z.out, flate.DefaultCompression)
	return z
}

// TestCoreExtCompress: COMPRESS=DEFLATE against the daemon over implicit
// TLS and STARTTLS, with a FETCH of a whole message, and an IDLE update
// pushed by another session's APPEND while compressed.
func TestCoreExtCompress(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tlsConf := &tls.Config{InsecureSkipVerify: true}
	dial := map[string]func(t *testing.T) net.Conn{
		"IMAPS": func(t *testing.T) net.Conn {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", s.IMAPS, tlsConf)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		"STARTTLS": func(t *testing.T) net.Conn {
			raw, err := net.DialTimeout("tcp", s.IMAP, ioTimeout)
			if err != nil {
				t.Fatal(err)
			}
			raw.SetDeadline(time.Now().Add(ioTimeout))
			r := bufio.NewReader(raw)
			r.ReadString('\n')
			io.WriteString(raw, "s STARTTLS\r\n")
			if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "s OK") {
				t.Fatalf("STARTTLS: %q", l)
			}
			c := tls.Client(raw, tlsConf)
			if err := c.Handshake(); err != nil {
				t.Fatal(err)
			}
			// The server greets only once: hand the TLS side a fake
			// greeting so startCompress reads the same shape.
			return &greetConn{Conn: c, greeting: "* OK [CAPABILITY COMPRESS=DEFLATE] after STARTTLS\r\n"}
		},
	}
	for _, name := range []string{"IMAPS", "STARTTLS"} {
		t.Run(name, func(t *testing.T) {
			c := dial[name](t)
			t.Cleanup(func() { c.Close() })
			z := startCompress(t, c)
			z.send("c SELECT INBOX\r\n")
			if l := z.until("c"); l[len(l)-1] != "c OK [READ-WRITE] SELECT completed" {
				t.Fatalf("SELECT: %q", l)
			}
			z.send("d FETCH 1 BODY.PEEK[]\r\n")
			head := z.line()
			if !strings.HasPrefix(head, "* 1 FETCH (") || !strings.HasSuffix(head, "}") {
				t.Fatalf("FETCH: %q", head)
			}
			body := make([]byte, len(demoMessages[0]))
			if _, err := io.ReadFull(z.r, body); err != nil || !bytes.Equal(body, demoMessages[0]) {
				t.Fatalf("FETCH 1 BODY[] through DEFLATE: %v, %d octets differ from the demo's", err, len(body))
			}
			z.until("d")
			z.send("e COMPRESS DEFLATE\r\n")
			if l := z.line(); l != "e NO [COMPRESSIONACTIVE] DEFLATE is already active" {
				t.Errorf("second COMPRESS: %q", l)
			}
			z.send("f IDLE\r\n")
			if l := z.line(); l != "+ idling" {
				t.Fatalf("IDLE: %q", l)
			}
			other := loginIMAP(t, s.IMAP6, nil)
			cmd := other.Append("INBOX", int64(len(demoMessages[1])), nil)
			cmd.Write(demoMessages[1])
			cmd.Close()
			d, err := cmd.Wait()
			if err != nil {
				t.Fatalf("APPEND from another session: %v", err)
			}
			// The update must come out of the compressor by itself: the
			// read blocks until it does (ioTimeout only stops a hang).
			if l := z.line(); !strings.HasSuffix(l, " EXISTS") {
				t.Errorf("during compressed IDLE: %q, want EXISTS (UID %d appended)", l, d.UID)
			}
			z.send("DONE\r\n")
			z.until("f")
			z.send("g LOGOUT\r\n")
			if l := z.until("g"); l[len(l)-1] != "g OK LOGOUT completed" {
				t.Errorf("LOGOUT: %q", l)
			}
		})
	}
}

// greetConn replays a greeting before the connection's own data.
type greetConn struct {
	net.Conn
	greeting string
}

func (g *greetConn) Read(p []byte) (int, error) {
	if g.greeting != "" {
		n := copy(p, g.greeting)
		g.greeting = g.greeting[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}
