package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// bigMessage is a message of about size octets whose every line says
// where it is, so that a misplaced or lost chunk shows; lf makes its lines
// end in bare LF (as some MTAs deliver), which FETCH sends as CRLF.
func bigMessage(n, size int, lf bool) string {
	eol := "\r\n"
	if lf {
		eol = "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender <s@example.org>%sSubject: big %d%sContent-Type: text/plain%s%s", eol, n, eol, eol, eol)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "message %d line %06d of a body that crosses many socket writes%s", n, i, eol)
	}
	return b.String()
}

// TestIMAPClientFetchBodies: FETCH BODY[] of messages of a few hundred
// KiB, as the client sees them over plain TCP (where the server sends the
// files with sendfile(2)) and over TLS (through a buffer): every octet in
// place, in whole and in part, CRLF stored or bare LF (issue 7).
func TestIMAPClientFetchBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	if err := c.Create("Big", nil).Wait(); err != nil {
		t.Fatalf("CREATE Big: %v", err)
	}
	msgs := []string{bigMessage(1, 300<<10, false), bigMessage(2, 200<<10, true), bigMessage(3, 5000, false), bigMessage(4, 1<<20, false)}
	for i, m := range msgs {
		cmd := c.Append("Big", int64(len(m)), nil)
		if _, err := cmd.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("APPEND message %d: %v", i+1, err)
		}
	}
	crlf := func(m string) string { return strings.ReplaceAll(strings.ReplaceAll(m, "\r\n", "\n"), "\n", "\r\n") }

	tlsClient, err := imapclient.DialTLS(s.IMAPS, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
		Dialer:    &net.Dialer{Timeout: ioTimeout},
	})
	if err != nil {
		t.Fatalf("TLS to %s: %v", s.IMAPS, err)
	}
	t.Cleanup(func() { tlsClient.Close() })
	if err := tlsClient.Login("demo", "demo").Wait(); err != nil {
		t.Fatalf("LOGIN over TLS: %v", err)
	}

	whole := &imap.FetchItemBodySection{Peek: true}
	text := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 70000, Size: 100000}}
	for _, conn := range []struct {
		name string
		c    *imapclient.Client
	}{{"plain", c}, {"TLS", tlsClient}} {
		t.Run(conn.name, func(t *testing.T) {
			selectMailbox(t, conn.c, "Big", true)
			// Twice: the first FETCH parses and caches the structures,
			// the second serves from the cache.
			for round := 1; round <= 2; round++ {
				got := fetch(t, conn.c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
					UID: true, BodySection: []*imap.FetchItemBodySection{whole, text, partial},
				})
				if len(got) != len(msgs) {
					t.Fatalf("round %d: FETCH 1:* gave %d messages, want %d", round, len(got), len(msgs))
				}
				for i, m := range got {
					want := crlf(msgs[i])
					body := want[strings.Index(want, "\r\n\r\n")+4:]
					part := ""
					if len(want) > 70000 {
						part = want[70000:min(len(want), 170000)]
					}
					for _, check := range []struct {
						sec  *imap.FetchItemBodySection
						want string
					}{{whole, want}, {text, body}, {partial, part}} {
						if b := string(m.FindBodySection(check.sec)); b != check.want {
							t.Errorf("round %d: message %d %s: %d octets, want %d; first difference at %s",
								round, i+1, sectionName(check.sec), len(b), len(check.want), firstDiff([]byte(b), []byte(check.want)))
						}
					}
				}
			}
		})
	}
}
