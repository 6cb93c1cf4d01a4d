package maildir

import (
	"context"
	"testing"
)

// BenchmarkStoreThenPoll50 is what a session of the load tool's mixed
// profile does to a 50-message mailbox (issue 7): a flag change, then the
// polls that follow the next commands (Changes after each of them). The
// flag change leaves cur/'s mtime too recent to trust (racyWindow), so
// each poll must make sure nothing else changed cur/.
func BenchmarkStoreThenPoll50(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	uids := appendN(b, s, 50)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	i := 0
	for b.Loop() {
		op := flipOp(i)
		k := i / 2 % len(uids) // flagged, then unflagged
		i++
		ch, _, err := mb.StoreFlags(ctx, uids[k:k+1], op, []string{`\Flagged`}, 0)
		if err != nil || len(ch) != 1 {
			b.Fatalf("StoreFlags = %d, %v", len(ch), err)
		}
		since := ch[0].ModSeq
		for range 8 {
			if ch, exp, _, err := mb.Changes(ctx, since); err != nil || len(ch)+len(exp) != 0 {
				b.Fatalf("Changes = %d, %d, %v", len(ch), len(exp), err)
			}
		}
	}
}

// BenchmarkOpenMessage50 opens each message of a 50-message mailbox, as
// SEARCH on a header does (issue 7).
func BenchmarkOpenMessage50(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	uids := appendN(b, s, 50)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	for b.Loop() {
		for _, uid := range uids {
			f, err := mb.OpenMessage(ctx, uid)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	}
}

// BenchmarkStoreFlagDurable is STORE of one flag, on and off, on an index
// with fsync as in production (openTest has none): the commit's cost.
func BenchmarkStoreFlagDurable(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	uids := appendN(b, s, 1)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	i := 0
	for b.Loop() {
		op := flipOp(i)
		i++
		if ch, _, err := mb.StoreFlags(ctx, uids, op, []string{`\Flagged`}, 0); err != nil || len(ch) != 1 {
			b.Fatalf("StoreFlags = %d, %v", len(ch), err)
		}
	}
}
