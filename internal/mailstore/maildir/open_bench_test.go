package maildir

import (
	"context"
	"testing"
)

// BenchmarkOpenSelect is what a login and SELECT INBOX cost the store: Open
// of an existing Maildir, its INBOX's messages, Close (issue 7: the logins
// profile).
func BenchmarkOpenSelect(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{NoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	fillIndex(b, s, "INBOX", 100)
	s.Close()
	ctx := context.Background()
	for b.Loop() {
		s, err := Open(dir, Options{NoFsync: true})
		if err != nil {
			b.Fatal(err)
		}
		mb, err := s.Open(ctx, "INBOX")
		if err != nil {
			b.Fatal(err)
		}
		if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 100 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		mb.Close()
		s.Close()
	}
}
