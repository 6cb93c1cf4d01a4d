package integration

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// deliverSearchCorpus fills INBOX with 300 messages for the SEARCH
// header-cache and parallel text tests: every 10th has "Quarterly" in an
// encoded-word Subject, every 7th "zeppelin" in a base64 body, every 25th
// an X-Foo field and two Subject fields, every 30th a folded To: group.
func deliverSearchCorpus(e *tsEnv) {
	for i := 1; i <= 300; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "From: Sender %d <s%d@example.org>\n", i%13, i%13)
		if i%30 == 0 {
			b.WriteString("To: team: a@example.org,\n b@example.org;\n")
		} else {
			b.WriteString("To: alice@example.org\n")
		}
		if i%10 == 0 {
			fmt.Fprintf(&b, "Subject: =?UTF-8?Q?R=C3=A9sultats_Quarterly?= %d\n", i)
		} else {
			fmt.Fprintf(&b, "Subject: note %d\n", i)
		}
		if i%25 == 0 {
			fmt.Fprintf(&b, "X-Foo: bar %d\nSubject: second subject\n", i)
		}
		if i%7 == 0 {
			b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n")
			b.WriteString(base64.StdEncoding.EncodeToString([]byte("the zeppelin has landed\r\n")) + "\n")
		} else {
			fmt.Fprintf(&b, "\nplain body %d\n", i)
		}
		e.deliver("INBOX", crlf(b.String()), day(1+i%28, 0))
	}
}

// TestIMAPClientSearchCache runs header and text searches with go-imap's
// imapclient twice on one connection (the first fills the header cache,
// the second is answered from it, BODY runs on the workers both times)
// and once more on a second connection with EXAMINE, against what the
// corpus holds.
func TestIMAPClientSearchCache(t *testing.T) {
	t.Parallel()
	addr := startTranscriptServer(t, deliverSearchCorpus)
	every := func(n int) []uint32 {
		var out []uint32
		for i := n; i <= 300; i += n {
			out = append(out, uint32(i))
		}
		return out
	}
	hdr := func(k, v string) *imap.SearchCriteria {
		return &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}}
	}
	var from7 []uint32
	for i := 1; i <= 300; i++ {
		if i%13 == 7 {
			from7 = append(from7, uint32(i))
		}
	}
	tests := []struct {
		name string
		c    *imap.SearchCriteria
		want []uint32
	}{
		{"SUBJECT résultats", hdr("Subject", "RÉSULTATS quarterly"), every(10)},
		{"SUBJECT second", hdr("Subject", "second subject"), every(25)},
		{"FROM s7@", hdr("From", "s7@example"), from7},
		{"TO team", hdr("To", "team: a@"), every(30)},
		{"HEADER X-Foo", hdr("X-Foo", ""), every(25)},
		{"HEADER X-Foo bar 50", hdr("X-Foo", "bar 50"), []uint32{50}},
		{"BODY zeppelin", &imap.SearchCriteria{Body: []string{"ZEPPELIN"}}, every(7)},
		{"TEXT quarterly", &imap.SearchCriteria{Text: []string{"quarterly"}}, every(10)},
		{"SUBJECT quarterly BODY zeppelin", &imap.SearchCriteria{Header: hdr("Subject", "quarterly").Header, Body: []string{"zeppelin"}}, every(70)},
	}
	login := func() *imapclient.Client {
		c := dialIMAP(t, addr, nil)
		if err := c.Login(tsUser, tsPassword).Wait(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := login()
	selectMailbox(t, c, "INBOX", false)
	for pass := 1; pass <= 2; pass++ {
		for _, tt := range tests {
			if got := searchSeq(t, c, tt.c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pass %d: SEARCH %s = %v, want %v", pass, tt.name, got, tt.want)
			}
		}
	}
	c2 := login()
	selectMailbox(t, c2, "INBOX", true)
	for _, tt := range tests {
		if got := searchSeq(t, c2, tt.c); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("EXAMINE: SEARCH %s = %v, want %v", tt.name, got, tt.want)
		}
	}
}
