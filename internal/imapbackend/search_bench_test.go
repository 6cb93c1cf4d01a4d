package imapbackend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore/maildir"
)

// searchWords are the words of the generated bodies, as in
// bench/gen-maildir.py.
var searchWords = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo " +
	"lima mike november oscar papa quebec romeo sierra tango uniform " +
	"victor whiskey xray yankee zulu mail server index cache message " +
	"folder report meeting budget project review schedule")

// searchMaildir makes a Maildir of n messages of about 3 KiB shaped like
// bench/gen-maildir.py's search mailbox (what bench/compare-dovecot.sh
// measures against Dovecot): every 100th message has "quarterly" in its
// Subject and "zeppelin" in its body; every 10th has an X-Foo field.
func searchMaildir(b *testing.B, n int) *maildir.Store {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	word := func() string { return searchWords[rng.IntN(len(searchWords))] }
	for i := 1; i <= n; i++ {
		special := i%100 == 0
		topic := word() + " " + word()
		if special {
			topic = "quarterly results"
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "Return-Path: <sender%d@example.org>\r\nFrom: Sender %d <sender%d@example.org>\r\n"+
			"To: Bench User <user@example.net>\r\nSubject: Message %d: %s\r\n"+
			"Date: Mon, 23 Nov 2026 09:15:00 +0000\r\nMessage-ID: <%d@bench.example.org>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n", i%50, i%50, i%50, i, topic, i)
		if i%10 == 0 {
			fmt.Fprintf(&sb, "X-Foo: bar %d\r\n", i%7)
		}
		sb.WriteString("\r\n")
		var line []string
		for sb.Len() < 3072 {
			line = append(line, word())
			if len(line) == 12 {
				sb.WriteString(strings.Join(line, " ") + "\r\n")
				line = line[:0]
				if special && sb.Len() > 1500 {
					sb.WriteString("the zeppelin has landed\r\n")
					special = false
				}
			}
		}
		name := filepath.Join(dir, "cur", fmt.Sprintf("1700000000.M%dP1.bench:2,", i))
		if err := os.WriteFile(name, []byte(sb.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	st, err := maildir.Open(dir, maildir.Options{NoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkSearch10k is the second SEARCH of a selected 10,000-message
// Maildir (the first, unmeasured, parses and caches what it can), as
// bench/compare-dovecot.sh measures it, for header and text keys.
func BenchmarkSearch10k(b *testing.B) {
	hdr := func(k, v string) *imap.SearchCriteria {
		return &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}}
	}
	cases := []struct {
		name string
		c    *imap.SearchCriteria
		want int
	}{
		{"SUBJECT", hdr("Subject", "quarterly"), 100},
		{"FROM", hdr("From", "sender7@"), 200},
		{"HEADER", hdr("X-Foo", "bar 3"), 143},
		{"BODY", &imap.SearchCriteria{Body: []string{"zeppelin"}}, 100},
		{"TEXT", &imap.SearchCriteria{Text: []string{"zeppelin"}}, 100},
	}
	st := searchMaildir(b, 10000)
	for _, tc := range cases {
		b.Run("key="+tc.name, func(b *testing.B) {
			s := login(b, st)
			selectBox(b, s, "INBOX", false)
			ctx := context.Background()
			d, err := s.Search(ctx, imap.NumKindSeq, tc.c, nil)
			if err != nil || len(d.All) != tc.want {
				b.Fatalf("Search = %d matches, %v; want %d", len(d.All), err, tc.want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime(b)
			for i := 0; i < b.N; i++ {
				if _, err := s.Search(ctx, imap.NumKindSeq, tc.c, nil); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time (all threads, GC and workers included) beside the
			// wall time: on a shared machine it moves far less.
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}
