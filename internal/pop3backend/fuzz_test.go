package pop3backend

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
)

// FuzzMessage checks, for any stored message, the invariants POP3 clients
// rely on: the LIST size equals the octets Retr writes (from a fresh parse
// and from the cached structure), Retr writes no bare LF and is the stored
// message with bare LFs turned into CRLF, Top with more lines than the
// message has writes the same as Retr, and Top with fewer writes a prefix
// of it.
func FuzzMessage(f *testing.F) {
	for _, c := range sizeCases {
		f.Add([]byte(c.msg), uint8(1))
	}
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("\n"), uint8(1))
	f.Add([]byte("\r"), uint8(1))
	f.Add([]byte("\r\n\r\n\n"), uint8(2))
	f.Add([]byte("Subject: x\r\r\n\n\rbody\r"), uint8(3))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\n\nA\n--x--"), uint8(2))
	f.Fuzz(func(t *testing.T, msg []byte, lines uint8) {
		ctx := context.Background()
		st := memstore.New(fixedClock)
		if _, _, err := st.Append(ctx, "INBOX", bytes.NewReader(msg), mailstore.AppendOptions{InternalDate: testTime}); err != nil {
			t.Skip() // the store refuses it (empty); not ours to check
		}
		for pass := 0; pass < 2; pass++ {
			s := login(t, st)
			list, err := s.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %v, %v, want one message", list, err)
			}
			got := retr(t, s, 1)
			if int64(len(got)) != list[0].Size {
				t.Fatalf("pass %d: len(Retr(%q)) = %d, want List size %d", pass, msg, len(got), list[0].Size)
			}
			if want := toCRLF(string(msg)); got != want {
				t.Fatalf("pass %d: Retr(%q) = %q, want %q", pass, msg, got, want)
			}
			if all := top(t, s, 1, 1<<30); all != got {
				t.Fatalf("Top(%q, all) = %q, want Retr's %q", msg, all, got)
			}
			if some := top(t, s, 1, int(lines)); !strings.HasPrefix(got, some) {
				t.Fatalf("Top(%q, %d) = %q, not a prefix of Retr's %q", msg, lines, some, got)
			}
			s.Close()
		}
	})
}
