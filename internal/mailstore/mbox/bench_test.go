package mbox_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// The benchmark: open, FETCH FLAGS of all and expunge one message
// in a 100 MiB mailbox of 20,000 messages, mbox against Maildir. Run with
//
//	go test -run XXX -bench Big -benchtime 5x ./internal/mailstore/mbox/
const (
	benchMsgs = 20_000
	benchBody = 5120 // bytes of body per message: about 100 MiB in all
)

func benchMessage(i int) string {
	line := fmt.Sprintf("Line of message %d, padded to a typical length of text.\n", i)
	body := strings.Repeat(line, benchBody/len(line)+1)[:benchBody]
	return fmt.Sprintf("From: sender%d@example.org\nTo: user@example.org\nSubject: message %d\nDate: Mon, 23 Nov 2026 09:15:00 +0000\nMessage-ID: <%d@example.org>\n\n%s", i, i, i, body)
}

// writeBigMbox writes the mailbox as UW leaves it: X-IMAPbase in the
// first message, a padded status block and X-UID in every one.
func writeBigMbox(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 1; i <= benchMsgs; i++ {
		msg := benchMessage(i)
		hdr, body, _ := strings.Cut(msg, "\n\n")
		fmt.Fprintf(w, "From sender%d@example.org Mon Nov 23 09:15:02 2026\n%s\n", i, hdr)
		if i == 1 {
			fmt.Fprintf(w, "X-IMAPbase: 1795630326 %d\n", benchMsgs)
		}
		fmt.Fprintf(w, "Status: RO\nX-Status: \nX-Keywords:               \nX-UID: %d\n\n%s\n", i, body)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

func BenchmarkBigMbox(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	opts := testOptions(dir)
	opts.NoFsync = false
	os.MkdirAll(filepath.Dir(opts.Inbox), 0o755)
	writeBigMbox(b, opts.Inbox)
	open := func() mailstore.Store {
		s, err := mbox.Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("FirstOpen", func(b *testing.B) {
		for b.Loop() {
			os.Remove(opts.IndexPath)
			os.Remove(opts.IndexPath + "-wal")
			os.Remove(opts.IndexPath + "-shm")
			s := open()
			mb, err := s.Open(ctx, "INBOX")
			if err != nil {
				b.Fatal(err)
			}
			if msgs, _ := mb.Messages(ctx); len(msgs) != benchMsgs {
				b.Fatalf("Messages = %d, want %d", len(msgs), benchMsgs)
			}
			mb.Close()
			s.Close()
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			s := open()
			mb, err := s.Open(ctx, "INBOX")
			if err != nil {
				b.Fatal(err)
			}
			mb.Close()
			s.Close()
		}
	})
	s := open()
	defer s.Close()
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	b.Run("FetchFlags", func(b *testing.B) {
		for b.Loop() {
			if msgs, _ := mb.Messages(ctx); len(msgs) < benchMsgs-100 {
				b.Fatalf("Messages = %d", len(msgs))
			}
		}
	})
	uid := uint32(benchMsgs / 2)
	b.Run("ExpungeOneMiddle", func(b *testing.B) {
		for b.Loop() {
			if got, err := mb.Expunge(ctx, []uint32{uid}); err != nil || len(got) != 1 {
				b.Fatalf("Expunge(%d) = %v, %v", uid, got, err)
			}
			uid++
		}
	})
	last := uint32(benchMsgs)
	b.Run("ExpungeOneLast", func(b *testing.B) {
		for b.Loop() {
			if got, err := mb.Expunge(ctx, []uint32{last}); err != nil || len(got) != 1 {
				b.Fatalf("Expunge(%d) = %v, %v", last, got, err)
			}
			last--
		}
	})
}

func BenchmarkBigMaildir(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := maildir.Open(dir, maildir.Options{NoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= benchMsgs; i++ {
		if _, _, err := s.Append(ctx, "INBOX", strings.NewReader(benchMessage(i)), mailstore.AppendOptions{Flags: []string{`\Seen`}}); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	open := func() *maildir.Store {
		s, err := maildir.Open(dir, maildir.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			s := open()
			mb, err := s.Open(ctx, "INBOX")
			if err != nil {
				b.Fatal(err)
			}
			mb.Close()
			s.Close()
		}
	})
	s = open()
	defer s.Close()
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	b.Run("FetchFlags", func(b *testing.B) {
		for b.Loop() {
			if msgs, _ := mb.Messages(ctx); len(msgs) < benchMsgs-100 {
				b.Fatalf("Messages = %d", len(msgs))
			}
		}
	})
	uid := uint32(benchMsgs / 2)
	b.Run("ExpungeOneMiddle", func(b *testing.B) {
		for b.Loop() {
			if got, err := mb.Expunge(ctx, []uint32{uid}); err != nil || len(got) != 1 {
				b.Fatalf("Expunge(%d) = %v, %v", uid, got, err)
			}
			uid++
		}
	})
}
