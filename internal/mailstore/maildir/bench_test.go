package maildir

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// fillIndex puts n messages into a mailbox's index rows directly, without
// files: Messages, Changes and Status never open message files, and writing
// 100,000 files would dominate the benchmark's setup.
func fillIndex(tb testing.TB, s *Store, name string, n int) {
	tb.Helper()
	ctx := context.Background()
	err := s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(0, name)
		if err != nil {
			return err
		}
		if err := w.sync(&r); err != nil {
			return err
		}
		stmt, err := w.tx.PrepareContext(ctx, `INSERT INTO messages(mailbox_id, uid, modseq, sysflags, keywords, size, internaldate, tzoffset, base, info)
			VALUES (?, ?, ?, ?, ?, 1000, 1700000000, 0, ?, ':2,')`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := 0; i < n; i++ {
			r.modSeq++
			kw := ""
			if i%10 == 0 {
				kw = "$Forwarded Work"
			}
			if _, err := stmt.ExecContext(ctx, r.id, r.uidNext, r.modSeq, i%4, kw, fmt.Sprintf("bench%d", i)); err != nil {
				return err
			}
			r.uidNext++
		}
		return w.saveRow(&r)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkMessages100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	b.ResetTimer()
	for b.Loop() {
		msgs, err := mb.Messages(ctx)
		if err != nil || len(msgs) != 100_000 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
	}
}

func BenchmarkStatus100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	for b.Loop() {
		if st, err := s.Status(ctx, "INBOX"); err != nil || st.Messages != 100_000 {
			b.Fatalf("Status = %+v, %v", st, err)
		}
	}
}

func BenchmarkChangesNone100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	st, _ := mb.State(ctx)
	for b.Loop() {
		if _, _, _, err := mb.Changes(ctx, st.HighestModSeq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStoreFlags100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	// One real message to flip flags on (its file is renamed each time).
	_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	i := 0
	for b.Loop() {
		op := mailstore.FlagsAdd
		if i%2 == 1 {
			op = mailstore.FlagsRemove
		}
		i++
		if _, _, err := mb.StoreFlags(ctx, []uint32{uid}, op, []string{`\Seen`}, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{NoFsync: !fsync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			body := testMsg + strings.Repeat("body line of a typical message\r\n", 100)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, _, err := s.Append(ctx, "INBOX", strings.NewReader(body), mailstore.AppendOptions{Flags: []string{`\Seen`}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
