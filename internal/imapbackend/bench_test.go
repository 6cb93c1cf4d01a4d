package imapbackend

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/memstore"
)

// bulkMaildir makes a Maildir holding n messages by writing the files into
// cur/ directly and letting the store pick them up in one pass, which is
// far faster than n Appends.
func bulkMaildir(b *testing.B, n int) *maildir.Store {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nTo: rcpt@example.net\r\nSubject: message number %d\r\n"+
			"Date: Mon, 23 Nov 2026 09:15:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\nBody of message %d.\r\n", i, i, i, i, i)
		name := filepath.Join(dir, "cur", fmt.Sprintf("1795630326.M%dP1.bench:2,", i))
		if err := os.WriteFile(name, []byte(msg), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	st, err := maildir.Open(dir, maildir.Options{NoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := st.Status(context.Background(), "INBOX")
	if err != nil || s.Messages != uint32(n) {
		b.Fatalf("bulk load: %d messages, %v; want %d", s.Messages, err, n)
	}
	return st
}

// discardFetch is a FetchWriter that throws everything away.
type discardFetch struct{}

func (discardFetch) Message(uint32) imapserver.FetchMessageWriter { return discardMsg{} }

type discardMsg struct{}

func (discardMsg) WriteUID(uint32)                              {}
func (discardMsg) WriteFlags([]imap.Flag)                       {}
func (discardMsg) WriteInternalDate(time.Time)                  {}
func (discardMsg) WriteRFC822Size(int64)                        {}
func (discardMsg) WriteEnvelope(*imap.Envelope)                 {}
func (discardMsg) WriteBodyStructure(*imap.BodyStructure, bool) {}
func (discardMsg) WriteModSeq(uint64)                           {}
func (discardMsg) Close() error                                 { return nil }
func (discardMsg) WriteBodySection(*imap.FetchItemBodySection, int64) io.WriteCloser {
	return nopWriteCloser{io.Discard}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// benchStores are the stores each benchmark runs on: memstore is the
// baseline (no I/O, no SQL) that maildir's figures are read against.
var benchStores = []struct {
	name string
	make func(b *testing.B, n int) mailstore.Store
}{
	{"memstore", bulkMemstore},
	{"maildir", func(b *testing.B, n int) mailstore.Store { return bulkMaildir(b, n) }},
}

// bulkMemstore is bulkMaildir's messages in a memstore.
func bulkMemstore(b *testing.B, n int) mailstore.Store {
	b.Helper()
	st := memstore.New(nil)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("From: Sender %d <s%d@example.org>\r\nTo: rcpt@example.net\r\nSubject: message number %d\r\n"+
			"Date: Mon, 23 Nov 2026 09:15:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\nBody of message %d.\r\n", i, i, i, i, i)
		if _, _, err := st.Append(ctx, "INBOX", strings.NewReader(msg), mailstore.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkFetchFlagsEnvelope10k is FETCH 1:* (FLAGS ENVELOPE) on 10,000
// messages, with their structures already cached.
func BenchmarkFetchFlagsEnvelope10k(b *testing.B) {
	for _, bs := range benchStores {
		b.Run("store="+bs.name, func(b *testing.B) {
			s := login(b, bs.make(b, 10000))
			selectBox(b, s, "INBOX", false)
			ctx := context.Background()
			opts := &imap.FetchOptions{Flags: true, Envelope: true}
			if err := s.Fetch(ctx, discardFetch{}, imap.NumKindSeq, all, opts); err != nil { // parses and caches
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Fetch(ctx, discardFetch{}, imap.NumKindSeq, all, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUIDFetchFlags10k is UID FETCH 1:* (FLAGS) on 10,000 messages,
// what a client resynchronising a mailbox asks: per message, no more than
// the index's flags (issue 7).
func BenchmarkUIDFetchFlags10k(b *testing.B) {
	for _, bs := range benchStores {
		b.Run("store="+bs.name, func(b *testing.B) {
			s := login(b, bs.make(b, 10000))
			selectBox(b, s, "INBOX", false)
			ctx := context.Background()
			opts := &imap.FetchOptions{UID: true, Flags: true}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Fetch(ctx, discardFetch{}, imap.NumKindUID, all, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelect100k is SELECT of a 100,000-message mailbox (and the
// UNSELECT that ends it).
func BenchmarkSelect100k(b *testing.B) {
	if testing.Short() {
		b.Skip("100k messages")
	}
	for _, bs := range benchStores {
		b.Run("store="+bs.name, func(b *testing.B) {
			s := login(b, bs.make(b, 100000))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, err := s.Select(ctx, "INBOX", false)
				if err != nil || d.NumMessages != 100000 {
					b.Fatalf("Select = %+v, %v", d, err)
				}
				if err := s.Unselect(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendPoll is what an APPEND command costs the server beside
// the fsyncs (NoFsync): the session's Append into the selected INBOX of
// 1,000 messages, then the poll that reports the new message (EXISTS,
// RECENT), as imapserver runs after every command.
func BenchmarkAppendPoll(b *testing.B) {
	st := bulkMaildir(b, 1000)
	s := login(b, st)
	selectBox(b, s, "INBOX", false)
	ctx := context.Background()
	msg := "From: a@example.org\r\nTo: b@example.net\r\nSubject: appended\r\nDate: Mon, 23 Nov 2026 09:15:00 +0000\r\n\r\n" +
		strings.Repeat("body line of a typical message\r\n", 100)
	var u updates
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := s.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), &imap.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Poll(ctx, &u, true); err != nil {
			b.Fatal(err)
		}
		u.take()
	}
}
