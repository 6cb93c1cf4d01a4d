package imapbackend

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// mboxMessages splits a plain mbox file (testdata/inbox-delivered.mbox,
// copied from the UW comparison set) into messages: the "From " line is
// dropped and so is the empty line that separates messages, as UW does.
func mboxMessages(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, chunk := range regexp.MustCompile(`(?m)^From `).Split(string(data), -1)[1:] {
		_, body, _ := strings.Cut(chunk, "\n")
		msgs = append(msgs, strings.TrimSuffix(body, "\n"))
	}
	return msgs
}

// uwFetch is what UW imapd 2007f answered to FETCH 1:* (RFC822.SIZE
// ENVELOPE BODYSTRUCTURE) for those messages (/work/shared/uw-observed.md
// §3.1, FLAGS and UID left out). The mbox holds LF line ends; the sizes
// count CRLF, as the wire carries them.
var uwFetch = []string{
	`* 1 FETCH (RFC822.SIZE 521 ENVELOPE ("Mon, 23 Nov 2026 09:15:00 +0000" "Welcome to the test mailbox" (("Alice Example" NIL "alice" "example.org")) (("Alice Example" NIL "alice" "example.org")) (("Alice Example" NIL "alice" "example.org")) (("UW Test" NIL "uwtest" "localhost")) NIL NIL NIL "<welcome-1@example.org>") BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 81 6 NIL NIL NIL NIL))`,
	`* 2 FETCH (RFC822.SIZE 497 ENVELOPE ("Mon, 23 Nov 2026 10:30:40 +0100" "=?UTF-8?Q?Caf=C3=A9_menu?= for Friday" (("=?UTF-8?Q?Bj=C3=B6rn_Bob?=" NIL "bob" "example.net")) (("=?UTF-8?Q?Bj=C3=B6rn_Bob?=" NIL "bob" "example.net")) ((NIL NIL "bob-replies" "example.net")) ((NIL NIL "uwtest" "localhost")("Carol" NIL "carol" "example.com")) ((NIL NIL "dave" "example.com")) NIL NIL "<cafe-2@example.net>") BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 79 2 NIL NIL NIL NIL))`,
	`* 3 FETCH (RFC822.SIZE 629 ENVELOPE ("Tue, 24 Nov 2026 08:00:00 -0500" "Meeting notes (alternative parts)" (("Carol" NIL "carol" "example.com")) (("Carol" NIL "carol" "example.com")) (("Carol" NIL "carol" "example.com")) ((NIL NIL "uwtest" "localhost")) NIL NIL NIL "<notes-3@example.com>") BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 49 1 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 89 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "alt-boundary-3") NIL NIL NIL))`,
	`* 4 FETCH (RFC822.SIZE 707 ENVELOPE ("Tue, 24 Nov 2026 16:20:05 +0000" "Re: Meeting notes (alternative parts)" ((NIL NIL "dave" "example.com")) ((NIL NIL "dave" "example.com")) ((NIL NIL "dave" "example.com")) ((NIL NIL "uwtest" "localhost")) NIL NIL "<notes-3@example.com>" "<report-4@example.com>") BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 18 1 NIL ("INLINE" NIL) NIL NIL)("APPLICATION" "OCTET-STREAM" ("NAME" "report.bin") NIL NIL "BASE64" 50 NIL ("ATTACHMENT" ("FILENAME" "report.bin")) NIL NIL) "MIXED" ("BOUNDARY" "mix-boundary-4") NIL NIL NIL))`,
}

func TestUWFetch(t *testing.T) {
	msgs := mboxMessages(t, "testdata/inbox-delivered.mbox")
	if len(msgs) != 4 {
		t.Fatalf("mbox has %d messages, want 4", len(msgs))
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		for _, m := range msgs {
			appendMsg(t, st, "INBOX", m)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		// Twice: parsed the first time, from the cached structure after.
		for pass := 0; pass < 2; pass++ {
			fr := &fetchRec{}
			if err := s.Fetch(context.Background(), fr, imap.NumKindSeq, all, &imap.FetchOptions{RFC822Size: true, Envelope: true, BodyStructure: true}); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(fr.take(), "\n")
			for i := range uwFetch {
				if i >= len(got) || got[i] != uwFetch[i] {
					var g string
					if i < len(got) {
						g = got[i]
					}
					t.Errorf("pass %d: FETCH %d =\n%s\nwant (UW)\n%s", pass, i+1, g, uwFetch[i])
				}
			}
		}
		// BODY (no extension data) of the multipart.
		fr := &fetchRec{}
		s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "4"), &imap.FetchOptions{Body: true})
		want := `* 4 FETCH (BODY (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 18 1)("APPLICATION" "OCTET-STREAM" ("NAME" "report.bin") NIL NIL "BASE64" 50) "MIXED"))`
		if got := fr.take(); got != want {
			t.Errorf("FETCH 4 BODY =\n%s\nwant\n%s", got, want)
		}
	})
}
