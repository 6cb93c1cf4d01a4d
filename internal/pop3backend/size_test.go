package pop3backend

import (
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// sizeCases are messages whose line ends and final newline vary.
var sizeCases = []struct {
	name, msg string
}{
	{"crlf", "From: a@example.org\r\nSubject: crlf\r\n\r\nLine one.\r\nLine two.\r\n"},
	{"lf", "From: a@example.org\nSubject: lf\n\nLine one.\nLine two.\n"},
	{"mixed", "From: a@example.org\r\nSubject: mixed\n\r\nLine one.\nLine two.\r\n"},
	{"no final newline lf", "From: a@example.org\nSubject: nofinal\n\nLast line without newline"},
	{"no final newline crlf", "From: a@example.org\r\nSubject: nofinal\r\n\r\nLast line without newline"},
	{"dots", "Subject: dots\n\n.\n..leading dots\n.\n"},
	{"header only", "Subject: header only\n"},
	{"lone cr", "Subject: cr\r\n\r\nA lone \r in a line\rand at the end\r\n"},
	{"multipart lf", "Subject: mp\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n--b\nContent-Type: text/plain\n\ntwo\n--b--\n"},
}

// TestSizesMatchRetr checks that LIST and STAT count exactly the octets
// Retr writes, that Retr writes no bare LF, and that the content is the
// stored message with bare LFs turned into CRLF. The second login reads the
// sizes from the structures the first one cached.
func TestSizesMatchRetr(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		for _, c := range sizeCases {
			appendMsg(t, st, c.msg)
		}
		stored := storedMessages(t, st)
		for pass := 0; pass < 2; pass++ {
			s := login(t, st)
			list, err := s.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(sizeCases) {
				t.Fatalf("pass %d: List has %d messages, want %d", pass, len(list), len(sizeCases))
			}
			var total int64
			for i, c := range sizeCases {
				got := retr(t, s, i+1)
				if int64(len(got)) != list[i].Size {
					t.Errorf("pass %d: %s: len(Retr) = %d, want List size %d", pass, c.name, len(got), list[i].Size)
				}
				if hasBareLF(got) {
					t.Errorf("pass %d: %s: Retr = %q, has a bare LF", pass, c.name, got)
				}
				if want := toCRLF(stored[i]); got != want {
					t.Errorf("pass %d: %s: Retr = %q, want %q", pass, c.name, got, want)
				}
				total += list[i].Size
			}
			n, size, err := s.Stat(context.Background())
			if err != nil || n != len(sizeCases) || size != total {
				t.Errorf("pass %d: Stat = %d, %d, %v, want %d, %d, nil", pass, n, size, err, len(sizeCases), total)
			}
			s.Close()
		}
	})
}

// storedMessages returns INBOX's messages as the store serves them (an
// mbox store may add a final newline to a message that had none).
func storedMessages(t testing.TB, st mailstore.Store) []string {
	t.Helper()
	ctx := context.Background()
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	metas, err := mb.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range metas {
		r, err := mb.OpenMessage(ctx, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, r.Size())
		r.ReadAt(b, 0)
		r.Close()
		out = append(out, string(b))
	}
	return out
}

func TestTop(t *testing.T) {
	const msg = "From: a@example.org\nSubject: top\n\nline 1\nline 2\r\nline 3\nline 4"
	const hdr = "From: a@example.org\r\nSubject: top\r\n\r\n"
	tests := []struct {
		lines int
		want  string
	}{
		{0, hdr},
		{1, hdr + "line 1\r\n"},
		{2, hdr + "line 1\r\nline 2\r\n"},
		{3, hdr + "line 1\r\nline 2\r\nline 3\r\n"},
		{4, hdr + "line 1\r\nline 2\r\nline 3\r\nline 4"},
		{1000, hdr + "line 1\r\nline 2\r\nline 3\r\nline 4"},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, msg)
		s := login(t, st)
		full := retr(t, s, 1)
		for _, tt := range tests {
			got := top(t, s, 1, tt.lines)
			want := tt.want
			if tt.lines >= 4 {
				want = full // the mbox store may have added a final newline
			} else if !strings.HasPrefix(full, want) {
				t.Fatalf("Retr(1) = %q, does not start with %q", full, want)
			}
			if got != want {
				t.Errorf("Top(1, %d) = %q, want %q", tt.lines, got, want)
			}
		}
	})
}
