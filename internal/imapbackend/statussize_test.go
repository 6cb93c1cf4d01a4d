package imapbackend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestStatusSizeCountsCRLF: STATUS SIZE is at least the sum of the
// messages' RFC822.SIZE (RFC 8438 §3), which counts each bare LF as CRLF:
// here exactly that sum, for mail stored with LF, CRLF and both, whether
// the structures are cached yet or not, selected or not.
func TestStatusSizeCountsCRLF(t *testing.T) {
	msgs := []string{
		"Subject: lf\n\nline one\nline two\n",
		"Subject: crlf\r\n\r\nbody\r\n",
		"Subject: mixed\r\nX-A: b\n\r\nz\n",
	}
	var want int64
	for _, m := range msgs {
		want += int64(len(m) + strings.Count(m, "\n") - strings.Count(m, "\r\n"))
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for _, m := range msgs {
			appendMsg(t, st, "INBOX", m)
		}
		s := login(t, st)
		status := func(when string) {
			t.Helper()
			d, err := s.Status(ctx, "INBOX", &imap.StatusOptions{Size: true, NumMessages: true})
			if err != nil {
				t.Fatal(err)
			}
			if d.Size == nil || *d.Size != want {
				t.Errorf("STATUS SIZE %s = %v, want %d", when, d.Size, want)
			}
		}
		status("before any FETCH")
		status("again, from the cached structures")
		selectBox(t, s, "INBOX", false)
		status("of the selected mailbox")
		fr := &fetchRec{}
		if err := s.Fetch(ctx, fr, imap.NumKindSeq, set(t, "1:*"), &imap.FetchOptions{RFC822Size: true}); err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, line := range strings.Split(fr.take(), "\n") {
			var seq, n int64
			if _, err := fmt.Sscanf(line, "* %d FETCH (RFC822.SIZE %d)", &seq, &n); err != nil {
				t.Fatalf("FETCH line %q: %v", line, err)
			}
			sum += n
		}
		if sum != want {
			t.Errorf("sum of FETCH RFC822.SIZE = %d, want %d", sum, want)
		}
	})
}
