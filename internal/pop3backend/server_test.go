package pop3backend

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/pop3server"
)

// TestThroughServer runs a session through the real pop3server engine over
// loopback TCP: the octet counts it announces must match the bytes of the
// message that arrive (after undoing the byte-stuffing), for a message
// without a final newline and one with lines starting with dots.
func TestThroughServer(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		msgs := []string{
			"Subject: dots\n\n.\n..two\n.three\n",
			"Subject: no final newline\r\n\r\nlast line",
		}
		for _, m := range msgs {
			appendMsg(t, st, m)
		}
		stored := storedMessages(t, st)
		b := newBackend(st, nil, Options{})
		srv := pop3server.New(pop3server.Options{NewSession: b.NewSession})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := l.Accept()
			if err != nil {
				return
			}
			srv.ServeConn(context.Background(), c, false)
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		line := func() string {
			s, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v (got %q)", err, s)
			}
			return s
		}
		// multi reads a dot-terminated body and undoes the byte-stuffing.
		multi := func() string {
			var b strings.Builder
			for {
				s := line()
				if s == ".\r\n" {
					return b.String()
				}
				b.WriteString(strings.TrimPrefix(s, "."))
			}
		}
		cmd := func(s string) string {
			if _, err := c.Write([]byte(s + "\r\n")); err != nil {
				t.Fatal(err)
			}
			l := line()
			if !strings.HasPrefix(l, "+OK") {
				t.Fatalf("%s: %q, want +OK", s, l)
			}
			return l
		}
		line() // greeting
		cmd("USER alice")
		cmd("PASS secret")
		cmd("LIST")
		list := multi()
		for i := range msgs {
			want := toCRLF(stored[i])
			if !strings.HasSuffix(want, "\r\n") {
				want += "\r\n" // RFC 1939 §3: the server ends the last line
			}
			ok := cmd("RETR " + strconv.Itoa(i+1))
			got := multi()
			if got != want {
				t.Errorf("RETR %d = %q, want %q", i+1, got, want)
			}
			size := len(toCRLF(stored[i]))
			if wantOK := "+OK " + strconv.Itoa(size) + " octets\r\n"; ok != wantOK {
				t.Errorf("RETR %d answer = %q, want %q", i+1, ok, wantOK)
			}
			if !strings.Contains(list, strconv.Itoa(i+1)+" "+strconv.Itoa(size)+"\r\n") {
				t.Errorf("LIST = %q, want message %d of %d octets", list, i+1, size)
			}
		}
		cmd("DELE 1")
		cmd("QUIT")
		<-done
		if got := inbox(t, st); !slices.Equal(got, []string{`2:\Seen`}) {
			t.Errorf("INBOX after QUIT = %q, want [2:\\Seen]", got)
		}
	})
}
