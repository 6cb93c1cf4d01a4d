package imapbackend

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// binaryMsg has a quoted-printable text part stored with bare LFs, a base64
// part holding NUL, an 8bit part and a part in an encoding nobody knows.
var binaryMsg = "From: a@example.org\n" +
	"Subject: binary\n" +
	"MIME-Version: 1.0\n" +
	"Content-Type: multipart/mixed; boundary=b\n" +
	"\n" +
	"--b\n" +
	"Content-Type: text/plain; charset=utf-8\n" +
	"Content-Transfer-Encoding: quoted-printable\n" +
	"\n" +
	"Gr=C3=BC=C3=9Fe,=\n" +
	" soft break\n" +
	"line two\n" +
	"--b\n" +
	"Content-Type: application/octet-stream\n" +
	"Content-Transfer-Encoding: base64\n" +
	"\n" +
	base64.StdEncoding.EncodeToString([]byte("\x00\x01\x02hello\n")) + "\n" +
	"--b\n" +
	"Content-Type: text/plain\n" +
	"Content-Transfer-Encoding: 8bit\n" +
	"\n" +
	"caf\xc3\xa9\n" +
	"--b\n" +
	"Content-Type: application/x-thing\n" +
	"Content-Transfer-Encoding: x-uuencode\n" +
	"\n" +
	"begin 644 x\n" +
	"--b--\n"

func bin(part ...int) *imap.FetchItemBinarySection {
	return &imap.FetchItemBinarySection{Part: part, Peek: true}
}

func lit8(s string) string { return fmt.Sprintf("~{%d}\r\n%s", len(s), s) }

// TestFetchBinary checks RFC 3516 §4.2-4.3: decoded content, CRLF line
// ends for text, literal8 for data with NUL, partials counted in decoded
// octets, BINARY.SIZE equal to what BINARY sends, UNKNOWN-CTE.
func TestFetchBinary(t *testing.T) {
	qp := "Grüße, soft break\r\nline two"
	tests := []struct {
		name string
		opts imap.FetchOptions
		want string
	}{
		{"qp", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin(1)}}, "BINARY[1] " + lit(qp)},
		{"qp size", imap.FetchOptions{BinarySize: []*imap.FetchItemBinarySection{bin(1)}}, fmt.Sprintf("BINARY.SIZE[1] %d", len(qp))},
		{"base64 with NUL", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin(2)}}, "BINARY[2] " + lit8("\x00\x01\x02hello\n")},
		{"base64 size", imap.FetchOptions{BinarySize: []*imap.FetchItemBinarySection{bin(2)}}, "BINARY.SIZE[2] 9"},
		{"8bit", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin(3)}}, "BINARY[3] " + lit("caf\xc3\xa9")},
		{"partial", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{2}, Peek: true, Partial: &imap.SectionPartial{Offset: 3, Size: 4}}}}, "BINARY[2]<3> " + lit8("hell")}, // the section holds NUL: literal8 for all of it,
		{"partial in decoded octets", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{1}, Peek: true, Partial: &imap.SectionPartial{Offset: 2, Size: 4}}}}, "BINARY[1]<2> " + lit("üß")},
		{"missing part", imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin(9)}}, "BINARY[9] " + lit("")},
		{"multipart body", imap.FetchOptions{BinarySize: []*imap.FetchItemBinarySection{bin()}}, fmt.Sprintf("BINARY.SIZE[] %d", len(binaryMsg)+countLF(binaryMsg))},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", binaryMsg)
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		for _, tt := range tests {
			fr := &fetchRec{}
			if err := s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1"), &tt.opts); err != nil {
				t.Errorf("%s: Fetch: %v", tt.name, err)
				continue
			}
			if got, want := fr.take(), "* 1 FETCH ("+tt.want+")"; got != want {
				t.Errorf("%s: Fetch = %q, want %q", tt.name, got, want)
			}
		}
		fr := &fetchRec{}
		err := s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin(4)}})
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.CodeUnknownCTE {
			t.Errorf("Fetch BINARY[4] (x-uuencode) = %v, want NO [UNKNOWN-CTE]", err)
		}
		if got := fr.take(); got != "" {
			t.Errorf("Fetch BINARY[4] wrote %q, want nothing", got)
		}
	})
}

// TestFetchBinarySetsSeen checks that BINARY, unlike BINARY.PEEK, sets
// \Seen (RFC 3516 §4.2).
func TestFetchBinarySetsSeen(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", binaryMsg)
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{BinarySize: []*imap.FetchItemBinarySection{bin(3)}, BinarySection: []*imap.FetchItemBinarySection{{Part: []int{3}}}})
		if got, want := fr.take(), "* 1 FETCH (FLAGS (\\Recent \\Seen) BINARY.SIZE[3] 5 BINARY[3] "+lit("caf\xc3\xa9")+")"; got != want {
			t.Errorf("Fetch = %q, want %q", got, want)
		}
	})
}

func countLF(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n++
		}
	}
	return n
}
