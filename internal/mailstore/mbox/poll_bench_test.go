package mbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// BenchmarkPollAndOpen50 is what a session does between two commands of
// the load tool's mixed profile on a 50-message INBOX (issue 7): the poll
// (Changes, nothing new) and the metadata and file of one message.
func BenchmarkPollAndOpen50(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	ctx := context.Background()
	for range 50 {
		if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: x\r\n\r\nbody\r\n"), mailstore.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 50 {
		b.Fatalf("Messages = %d, %v", len(msgs), err)
	}
	since := msgs[len(msgs)-1].ModSeq
	i := 0
	for b.Loop() {
		if _, _, _, err := mb.Changes(ctx, since); err != nil {
			b.Fatal(err)
		}
		uid := msgs[i%len(msgs)].UID
		i++
		if _, err := mb.Info(ctx, []uint32{uid}); err != nil {
			b.Fatal(err)
		}
		f, err := mb.OpenMessage(ctx, uid)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
