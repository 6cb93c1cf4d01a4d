package imapbackend

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/memconn"

	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
)

// errorLog records log lines at error level and any that mention a panic:
// a SERVERBUG is logged there.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (e *errorLog) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("level=ERROR")) || bytes.Contains(b, []byte("panic")) {
		e.mu.Lock()
		e.lines = append(e.lines, string(b))
		e.mu.Unlock()
	}
	return len(b), nil
}

// fetchFuzzCommands fetch everything a client can ask of one message
// (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 8970 PREVIEW) and search its text
// (§6.4.4), so every part of the MIME parser's output reaches the wire.
var fetchFuzzCommands = []string{
	"f1 FETCH 1 (ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE)",
	"f2 FETCH 1 (BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2.1.HEADER])",
	"f3 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From Subject Content-Type)] BODY.PEEK[1]<3.20>)",
	"f4 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[2.1])",
	"f5 FETCH 1 (PREVIEW)",
	"f6 SEARCH CHARSET UTF-8 TEXT \"x\"",
	"f7 SEARCH BODY a HEADER Subject b FROM c",
}

// FuzzFetchMessage stores an arbitrary message and has the real engine
// fetch and search it through the backend: no panic, no internal error
// (NO [SERVERBUG]), every command answered OK or, for a part that cannot
// be decoded, NO [UNKNOWN-CTE] (RFC 3516 §4.3), and the output framed so a
// client can read it: every line a response or a continuation, literals
// exactly as long as announced.
func FuzzFetchMessage(f *testing.F) {
	for _, m := range []string{
		simpleMsg(1),
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n",
		"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
		"From: \"a\\\"b\" <x@y>, group: c@d;\r\nSubject: =?utf-8?b?w6k=?= \x00\xff\r\n\r\n",
		"no header at all",
		"",
	} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		st := memstore.New(fixedClock)
		if _, _, err := st.Append(context.Background(), "INBOX", bytes.NewReader(msg), mailstore.AppendOptions{InternalDate: testTime}); err != nil {
			return // the store may refuse a message; nothing to fetch then
		}
		in := "L LOGIN alice secret\r\nS SELECT INBOX\r\n" + strings.Join(fetchFuzzCommands, "\r\n") + "\r\nZ LOGOUT\r\n"
		conn := memconn.New(in, 143)
		var log errorLog
		srv := imapserver.New(imapserver.Options{
			NewSession: newBackend(st, Options{}).NewSession,
			Logger:     slog.New(slog.NewTextHandler(&log, nil)),
		})
		srv.ServeConn(context.Background(), conn, false)
		if len(log.lines) > 0 {
			t.Fatalf("message %q: logged %s", msg, log.lines)
		}
		out := []byte(conn.Output())
		answered := map[string]bool{}
		for len(out) > 0 {
			i := bytes.Index(out, []byte("\r\n"))
			if i < 0 {
				t.Fatalf("message %q: output ends without CRLF: %q", msg, out)
			}
			line := string(out[:i])
			out = out[i+2:]
			if !strings.HasPrefix(line, "* ") && !strings.HasPrefix(line, "+ ") {
				tag, rest, _ := strings.Cut(line, " ")
				if !strings.HasPrefix(rest, "OK ") && !(strings.HasPrefix(rest, "NO [UNKNOWN-CTE]") && tag == "f4") {
					t.Fatalf("message %q: %q", msg, line)
				}
				answered[tag] = true
			}
			// A line may hold several literals; each is followed by the
			// rest of the line.
			for {
				m := literalAtEnd.FindStringSubmatch(line)
				if m == nil {
					break
				}
				n, _ := strconv.Atoi(m[1])
				if n > len(out) {
					t.Fatalf("message %q: literal of %d octets, %d left", msg, n, len(out))
				}
				out = out[n:]
				i := bytes.Index(out, []byte("\r\n"))
				if i < 0 {
					t.Fatalf("message %q: no line end after a literal", msg)
				}
				line = string(out[:i])
				out = out[i+2:]
			}
		}
		for _, c := range fetchFuzzCommands {
			tag, _, _ := strings.Cut(c, " ")
			if !answered[tag] {
				t.Fatalf("message %q: no answer to %s", msg, c)
			}
		}
	})
}

// literalAtEnd matches a line that ends in a literal's announcement.
var literalAtEnd = regexp.MustCompile(`~?\{(\d+)\}$`)

// TestBinarySizeMatchesData checks, through the real engine, that
// BINARY.SIZE announces what BINARY then sends (RFC 3516 §4.2) for a base64
// body with data after its padding, long enough to be decoded in several
// reads. The two passes must decode alike; the base64 decoder's output once
// depended on read sizes (internal/message testdata/fuzz/FuzzDecodedReader/
// crasher-base64-data-after-padding).
func TestBinarySizeMatchesData(t *testing.T) {
	body := "QUI=\r\n" + strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n", 2000)
	msg := "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body
	st := memstore.New(fixedClock)
	if _, _, err := st.Append(context.Background(), "INBOX", strings.NewReader(msg), mailstore.AppendOptions{InternalDate: testTime}); err != nil {
		t.Fatal(err)
	}
	in := "L LOGIN alice secret\r\nS SELECT INBOX\r\nB FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\nZ LOGOUT\r\n"
	conn := memconn.New(in, 143)
	imapserver.New(imapserver.Options{NewSession: newBackend(st, Options{}).NewSession}).ServeConn(context.Background(), conn, false)
	out := conn.Output()
	m := regexp.MustCompile(`\* 1 FETCH \(BINARY\.SIZE\[1\] (\d+) BINARY\[1\] ~?\{(\d+)\}\r\n`).FindStringSubmatchIndex(out)
	if m == nil {
		t.Fatalf("no BINARY answer in %q", out)
	}
	size, lit := out[m[2]:m[3]], out[m[4]:m[5]]
	if size != lit {
		t.Fatalf("BINARY.SIZE[1] %s, BINARY[1] literal of %s", size, lit)
	}
	n, _ := strconv.Atoi(lit)
	if rest := out[m[1]+n:]; !strings.HasPrefix(rest, ")\r\nB OK ") {
		t.Fatalf("after the %d-octet literal: %.80q", n, rest)
	}
}
