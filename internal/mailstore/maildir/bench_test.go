package maildir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// fillIndex puts n messages into a mailbox's index rows directly, without
// files: Messages, Changes and Status never open message files, and writing
// 100,000 files would dominate the benchmark's setup.
func fillIndex(tb testing.TB, s *Store, name string, n int) {
	tb.Helper()
	ctx := context.Background()
	// Directories older than the racy window, so that a later sync
	// trusts their recorded mtimes and keeps these file-less rows.
	past := time.Now().Add(-time.Hour)
	for _, d := range []string{"cur", "new"} {
		if err := os.Chtimes(filepath.Join(s.root, d), past, past); err != nil {
			tb.Fatal(err)
		}
	}
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
	run := func(cold bool) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if cold {
					s.sh.meta.forget(mb.(*mailbox).id)
				}
				msgs, err := mb.Messages(ctx)
				if err != nil || len(msgs) != 100_000 {
					b.Fatalf("Messages = %d, %v", len(msgs), err)
				}
			}
		}
	}
	// cold is the first SELECT of a process (or after a change by another
	// process); warm every later one.
	b.Run("cold", run(true))
	b.Run("warm", run(false))
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
		op := flipOp(i)
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

// fillCache stores a cache blob of size bytes for UIDs 1..n, as the IMAP
// adapter does after the first FETCH of ENVELOPE or BODYSTRUCTURE.
func fillCache(tb testing.TB, s *Store, name string, n, size int) {
	tb.Helper()
	ctx := context.Background()
	blob := []byte(strings.Repeat("x", size))
	err := s.write(ctx, func(w *wtx) error {
		r, err := w.ensureRow(0, name)
		if err != nil {
			return err
		}
		for uid := 1; uid <= n; uid++ {
			if err := w.exec(`INSERT OR REPLACE INTO cache(mailbox_id, uid, data) VALUES (?, ?, ?)`, r.id, uid, blob); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkInfo10k is the store side of FETCH 1:* (FLAGS ENVELOPE) on a
// 10,000-message mailbox whose structures are cached.
func BenchmarkInfo10k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 10_000)
	fillCache(b, s, "INBOX", 10_000, 300)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	uids := make([]uint32, 10_000)
	for i := range uids {
		uids[i] = uint32(i + 1)
	}
	run := func(b *testing.B) {
		for b.Loop() {
			infos, err := mb.Info(ctx, uids)
			if err != nil || len(infos) != 10_000 || infos[9_999].Cache == nil {
				b.Fatalf("Info = %d, %v", len(infos), err)
			}
		}
	}
	// Before any Messages call the metadata comes from SQLite; once the
	// mailbox is selected, from the process's copy.
	b.Run("unselected", run)
	if _, err := mb.Messages(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("selected", run)
}

// BenchmarkInfoSparse is Info of every 100th UID of a 100,000-message
// mailbox: a requested set much smaller than its UID range.
func BenchmarkInfoSparse(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close()
	var uids []uint32
	for u := uint32(1); u <= 100_000; u += 100 {
		uids = append(uids, u)
	}
	for b.Loop() {
		infos, err := mb.Info(ctx, uids)
		if err != nil || len(infos) != len(uids) {
			b.Fatalf("Info = %d, %v", len(infos), err)
		}
	}
}

// BenchmarkSelectCalls100k is what the IMAP adapter's SELECT asks of the
// store: Open, State, Messages, ClaimRecent, State, Close.
func BenchmarkSelectCalls100k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	fillIndex(b, s, "INBOX", 100_000)
	ctx := context.Background()
	for b.Loop() {
		mb, err := s.Open(ctx, "INBOX")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mb.State(ctx); err != nil {
			b.Fatal(err)
		}
		if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 100_000 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		if _, err := mb.ClaimRecent(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := mb.State(ctx); err != nil {
			b.Fatal(err)
		}
		mb.Close()
	}
}

// appendN appends n small messages to INBOX and returns their UIDs.
func appendN(tb testing.TB, s *Store, n int) []uint32 {
	tb.Helper()
	ctx := context.Background()
	uids := make([]uint32, n)
	for i := range uids {
		_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		uids[i] = uid
	}
	return uids
}

// BenchmarkStoreFlags1k is STORE 1:1000 +FLAGS (\Seen) and back.
func BenchmarkStoreFlags1k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	uids := appendN(b, s, 1000)
	ctx := context.Background()
	mb, _ := s.Open(ctx, "INBOX")
	defer mb.Close()
	i := 0
	for b.Loop() {
		op := flipOp(i)
		i++
		if ch, _, err := mb.StoreFlags(ctx, uids, op, []string{`\Seen`}, 0); err != nil || len(ch) != len(uids) {
			b.Fatalf("StoreFlags = %d, %v", len(ch), err)
		}
	}
}

// BenchmarkMoveBack1k moves 1,000 messages to another mailbox and back.
func BenchmarkMoveBack1k(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	uids := appendN(b, s, 1000)
	ctx := context.Background()
	if err := s.Create(ctx, "Other", ""); err != nil {
		b.Fatal(err)
	}
	inbox, _ := s.Open(ctx, "INBOX")
	defer inbox.Close()
	other, _ := s.Open(ctx, "Other")
	defer other.Close()
	for b.Loop() {
		_, _, dst, err := inbox.MoveTo(ctx, uids, "Other")
		if err != nil || len(dst) != len(uids) {
			b.Fatalf("MoveTo = %d, %v", len(dst), err)
		}
		if _, _, uids, err = other.MoveTo(ctx, dst, "INBOX"); err != nil || len(uids) != len(dst) {
			b.Fatalf("MoveTo back = %d, %v", len(uids), err)
		}
	}
}

// BenchmarkFirstIndex10k is the first SELECT of a Maildir of 10,000
// messages no index knew (compare-dovecot.sh's "first SELECT" on 100,000):
// each iteration removes the index and indexes the folder again.
func BenchmarkFirstIndex10k(b *testing.B) {
	dir := b.TempDir()
	cur := filepath.Join(dir, "cur")
	if err := os.MkdirAll(cur, 0o700); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 10_000; i++ {
		name := filepath.Join(cur, fmt.Sprintf("1795630326.M%dP1.bench:2,%s", i, []string{"", "S"}[i%2]))
		if err := os.WriteFile(name, []byte(testMsg), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(filepath.Join(dir, IndexName+suffix))
		}
		os.Remove(filepath.Join(dir, UIDListName))
		s := openTest(b, dir)
		mb, err := s.Open(ctx, "INBOX")
		if err != nil {
			b.Fatal(err)
		}
		if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 10_000 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		mb.Close()
		s.Close()
	}
}

// BenchmarkSelectRelogin100k is a user's SELECT of 100,000 messages in a
// new login after the last session logged out (the last Store closed), as
// compare-dovecot.sh's "second SELECT": the process's metadata cache of
// the previous session is still there (sharedLinger).
func BenchmarkSelectRelogin100k(b *testing.B) {
	dir := b.TempDir()
	s := openTest(b, dir)
	fillIndex(b, s, "INBOX", 100_000)
	s.Close()
	ctx := context.Background()
	for b.Loop() {
		s := openTest(b, dir)
		mb, err := s.Open(ctx, "INBOX")
		if err != nil {
			b.Fatal(err)
		}
		if msgs, err := mb.Messages(ctx); err != nil || len(msgs) != 100_000 {
			b.Fatalf("Messages = %d, %v", len(msgs), err)
		}
		mb.Close()
		s.Close()
	}
}

// flipOp is the flag change of round i of a benchmark that sets a flag and
// clears it again: add on even rounds, remove on odd ones.
func flipOp(i int) mailstore.FlagOp {
	if i%2 == 1 {
		return mailstore.FlagsRemove
	}
	return mailstore.FlagsAdd
}
