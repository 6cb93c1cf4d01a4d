package maildir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// openIsolated opens dir with its own process-wide state, as another
// process would: no shared metadata cache, no commit signals.
func openIsolated(t *testing.T, dir string) *Store {
	t.Helper()
	s := openTest(t, dir)
	releaseShared(s.shID)
	s.shID = s.shID + "#" + t.Name() + "#isolated"
	s.sh = acquireShared(s.shID)
	s.blobMin = 1 // exercise the blobs too
	return s
}

// wantState is what the index says about a mailbox, read without the cache.
func wantState(t *testing.T, s *Store, name string) ([]mailstore.MessageMeta, mailstore.Status) {
	t.Helper()
	ctx := context.Background()
	r, ok, err := s.rowBy(ctx, s.db, 0, name)
	if err != nil || !ok {
		t.Fatalf("rowBy(%q) = %v, %v", name, ok, err)
	}
	msgs, err := s.metas(ctx, `mailbox_id = ?`, r.id)
	if err != nil {
		t.Fatal(err)
	}
	st := mailstore.Status{MailboxState: r.state()}
	for _, m := range msgs {
		if !slices.Contains(m.Flags, mailstore.FlagSeen) {
			st.Unseen++
		}
		if slices.Contains(m.Flags, mailstore.FlagDeleted) {
			st.Deleted++
		}
		if m.UID > r.recentUID {
			st.Recent++
		}
	}
	st.Messages = uint32(len(msgs))
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM messages WHERE mailbox_id = ?`, r.id).Scan(&st.Size); err != nil {
		t.Fatal(err)
	}
	return msgs, st
}

// checkCache compares what a store answers (through its cache) with the
// index itself.
func checkCache(t *testing.T, step string, s *Store, name string, cold bool) {
	t.Helper()
	ctx := context.Background()
	mb, err := s.Open(ctx, name)
	if err != nil {
		t.Fatalf("%s: Open(%q) = %v", step, name, err)
	}
	defer mb.Close()
	// A cold first pass starts as a new process would (from the blob, if
	// any); a warm one from the copy in memory, brought up to date. Info
	// before Messages reads SQLite when the mailbox is not in memory, after
	// it the copy. All must agree with the index.
	if cold {
		s.sh.meta.forget(mb.(*mailbox).id)
	}
	for pass := 0; pass < 2; pass++ {
		got, err := mb.Messages(ctx)
		if err != nil {
			t.Fatalf("%s: Messages(%q) = %v", step, name, err)
		}
		want, wantSt := wantState(t, s, name)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: Messages(%q) = %v, want %v", step, name, got, want)
		}
		st, err := s.Status(ctx, name)
		if err != nil || st != wantSt {
			t.Errorf("%s: Status(%q) = %+v, %v, want %+v", step, name, st, err, wantSt)
		}
		uids := []uint32{}
		for _, m := range want {
			uids = append(uids, m.UID)
		}
		uids = append(uids, 99999)
		infos, err := mb.Info(ctx, uids)
		if err != nil || len(infos) != len(want) {
			t.Fatalf("%s: Info(%q) = %d infos, %v, want %d", step, name, len(infos), err, len(want))
		}
		for i, in := range infos {
			if fmt.Sprint(in.MessageMeta) != fmt.Sprint(want[i]) || in.Size != int64(len(testMsg)) {
				t.Errorf("%s: Info(%q)[%d] = %v size %d, want %v size %d", step, name, i, in.MessageMeta, in.Size, want[i], len(testMsg))
			}
			var wantCache []byte
			err := s.db.QueryRowContext(ctx, `SELECT data FROM cache WHERE uid = ? AND mailbox_id = (SELECT id FROM mailboxes WHERE name = ?)`,
				in.UID, name).Scan(&wantCache)
			if err != nil && !isNoRows(err) {
				t.Fatal(err)
			}
			if string(in.Cache) != string(wantCache) || (in.Cache == nil) != (wantCache == nil) {
				t.Errorf("%s: Info(%q)[%d].Cache = %q, want %q", step, name, i, in.Cache, wantCache)
			}
		}
	}
}

// TestMetaCacheTwoProcesses changes a Maildir through two stores that share
// nothing but the files, as two processes would, and checks after every
// step that each store's cached answers are the index's.
func TestMetaCacheTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	a, b := openIsolated(t, dir), openIsolated(t, dir)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	add := func(s *Store, name string, flags ...string) uint32 {
		_, uid, err := s.Append(ctx, name, strings.NewReader(testMsg), mailstore.AppendOptions{Flags: flags})
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := s.Open(ctx, name)
		defer mb.Close()
		if uid%2 == 1 {
			if err := mb.SetCache(ctx, []mailstore.CacheEntry{{UID: uid, Data: fmt.Appendf(nil, "c%d", uid)}}); err != nil {
				t.Fatal(err)
			}
		}
		return uid
	}
	with := func(s *Store, name string, fn func(mb mailstore.Mailbox) error) error {
		mb, err := s.Open(ctx, name)
		if err != nil {
			return err
		}
		defer mb.Close()
		return fn(mb)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"append", func() error {
			for i := 0; i < 40; i++ {
				add([]*Store{a, b}[i%2], "INBOX")
			}
			return a.Create(ctx, "Other", "")
		}},
		{"flags by b", func() error {
			return with(b, "INBOX", func(mb mailstore.Mailbox) error {
				_, _, err := mb.StoreFlags(ctx, []uint32{1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, mailstore.FlagsAdd, []string{`\Seen`, "Work"}, 0)
				return err
			})
		}},
		{"expunge by a", func() error {
			return with(a, "INBOX", func(mb mailstore.Mailbox) error {
				_, err := mb.Expunge(ctx, []uint32{2, 3, 4, 30})
				return err
			})
		}},
		{"move by b", func() error {
			return with(b, "INBOX", func(mb mailstore.Mailbox) error {
				_, _, _, err := mb.MoveTo(ctx, []uint32{5, 6, 7, 8, 9}, "Other")
				return err
			})
		}},
		{"copy back by a", func() error {
			return with(a, "Other", func(mb mailstore.Mailbox) error {
				_, _, _, err := mb.CopyTo(ctx, []uint32{1, 2, 3}, "INBOX")
				return err
			})
		}},
		{"claim recent by b", func() error {
			return with(b, "INBOX", func(mb mailstore.Mailbox) error {
				_, err := mb.ClaimRecent(ctx)
				return err
			})
		}},
		{"outside delivery and rename", func() error {
			if err := os.WriteFile(filepath.Join(dir, "new", "outside1"), []byte(testMsg), 0o600); err != nil {
				return err
			}
			names, _ := filepath.Glob(filepath.Join(dir, "cur", "*:2,"))
			if len(names) == 0 {
				return fmt.Errorf("no unflagged file")
			}
			return os.Rename(names[0], names[0]+"FT")
		}},
		{"outside delete", func() error {
			names, _ := filepath.Glob(filepath.Join(dir, "cur", "*:2,S*"))
			if len(names) == 0 {
				return fmt.Errorf("no seen file")
			}
			return os.Remove(names[0])
		}},
		{"flags then reindex by b", func() error {
			// Reindex starts MODSEQs again when it cannot read the old
			// index: a copy at the same HIGHESTMODSEQ must not be taken
			// for current (the epoch tells them apart).
			if err := with(b, "INBOX", func(mb mailstore.Mailbox) error {
				_, _, err := mb.StoreFlags(ctx, []uint32{40, 41}, mailstore.FlagsAdd, []string{`\Flagged`}, 0)
				return err
			}); err != nil {
				return err
			}
			return b.Reindex(ctx)
		}},
		{"delete and re-create Other by a", func() error {
			if err := a.Delete(ctx, "Other"); err != nil {
				return err
			}
			if err := a.Create(ctx, "Other", ""); err != nil {
				return err
			}
			add(b, "Other", `\Seen`)
			return nil
		}},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for j, s := range []*Store{a, b} {
			for _, name := range []string{"INBOX", "Other"} {
				if st.name == "append" && name == "Other" {
					continue
				}
				checkCache(t, st.name, s, name, (i+j)%2 == 0)
			}
		}
	}
}

func TestMetaCacheReindexSameModSeq(t *testing.T) {
	dir := t.TempDir()
	a, b := openIsolated(t, dir), openIsolated(t, dir)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	uid := appendT(t, a, "INBOX")
	checkCache(t, "loaded", a, "INBOX", false) // a holds INBOX at MODSEQ 1
	mb := openT(t, b, "INBOX")
	if _, _, err := mb.StoreFlags(ctx, []uint32{uid}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	// Reindex keeps HIGHESTMODSEQ rising when it can read the old index,
	// but not when it cannot: the epoch, not the MODSEQ, must mark a's
	// copy stale.
	if err := b.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	checkCache(t, "after reindex", a, "INBOX", false)
}

func TestMergeCached(t *testing.T) {
	m := func(uids ...uint32) []cachedMsg {
		var out []cachedMsg
		for _, u := range uids {
			out = append(out, cachedMsg{uid: u, modSeq: uint64(u)})
		}
		return out
	}
	changed := func(uids ...uint32) []cachedMsg {
		out := m(uids...)
		for i := range out {
			out[i].modSeq = 100
		}
		return out
	}
	tests := []struct {
		msgs, changed []cachedMsg
		expunged      []uint32
		want          string
	}{
		{nil, nil, nil, "[]"},
		{m(1, 2, 3), nil, nil, "1:1 2:2 3:3"},
		{m(1, 2, 3), changed(2), nil, "1:1 2:100 3:3"},
		{m(1, 2, 3), changed(4, 5), []uint32{1, 3}, "2:2 4:100 5:100"},
		{m(1, 3, 5), changed(2, 5, 6), []uint32{0, 3, 9}, "1:1 2:100 5:100 6:100"},
		{nil, changed(1), []uint32{1}, "1:100"},
	}
	for _, tt := range tests {
		got := mergeCached(tt.msgs, tt.changed, tt.expunged)
		var parts []string
		for _, c := range got {
			parts = append(parts, fmt.Sprintf("%d:%d", c.uid, c.modSeq))
		}
		s := strings.Join(parts, " ")
		if len(parts) == 0 {
			s = "[]"
		}
		if s != tt.want {
			t.Errorf("mergeCached(%v, %v, %v) = %s, want %s", tt.msgs, tt.changed, tt.expunged, s, tt.want)
		}
	}
}

func TestParseCached(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "[]"},
		{"7 9 1 100 1700000000 -18000 ", "[{7 -18000 1 9 [\\Seen] 100 1700000000}]"},
		{"7 9 0 100 -5 3600 $Forwarded Work\n8 10 8 5 0 0 ",
			"[{7 3600 0 9 [$Forwarded Work] 100 -5} {8 0 8 10 [\\Deleted] 5 0}]"},
	}
	for _, tt := range tests {
		got, err := parseCached(tt.in)
		if s := fmt.Sprint(got); err != nil || s != tt.want {
			t.Errorf("parseCached(%q) = %s, %v, want %s", tt.in, s, err, tt.want)
		}
	}
	for _, bad := range []string{"7", "7 9 1 100 1700000000", "-7 9 1 100 1 1 ", "7 9 1 1 x 1 ", "7 9 1 1 1 1\n"} {
		if got, err := parseCached(bad); err == nil {
			t.Errorf("parseCached(%q) = %v, nil, want an error", bad, got)
		}
	}
}

func TestBatchUIDs(t *testing.T) {
	seq := func(lo, hi, step uint32) []uint32 {
		var out []uint32
		for u := lo; u <= hi; u += step {
			out = append(out, u)
		}
		return out
	}
	tests := []struct {
		name string
		in   []uint32
		want string // per batch: R (range) or I (IN list), first-last/count
	}{
		{"empty", nil, ""},
		{"few", []uint32{5, 1, 3, 3}, "I1-5/3"},
		{"dense", seq(1, 10000, 1), "R1-10000/10000"},
		{"every fourth", seq(1, 400, 4), "R1-397/100"},
		{"sparse", seq(1, 100000, 100), "I1-49901/500 I50001-99901/500"},
		{"mixed", append(seq(1, 50, 1), 1000, 2000), "R1-50/50 I1000-2000/2"},
		{"short run between", append(append([]uint32{1}, seq(100, 200, 1)...), 5000), "I1-1/1 R100-200/101 I5000-5000/1"},
	}
	for _, tt := range tests {
		var parts []string
		for _, b := range batchUIDs(tt.in) {
			k := "I"
			if b.ranged {
				k = "R"
			}
			parts = append(parts, fmt.Sprintf("%s%d-%d/%d", k, b.want[0], b.want[len(b.want)-1], len(b.want)))
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("batchUIDs(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzBatchUIDs(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 9})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Each byte is a gap to the next UID, so runs and holes both occur.
		var uids []uint32
		u := uint32(0)
		for _, d := range data {
			u += uint32(d%16) + 1
			if d >= 240 {
				u += 1000
			}
			uids = append(uids, u)
		}
		slices.Reverse(uids)
		var got []uint32
		for _, b := range batchUIDs(uids) {
			if len(b.want) == 0 || (!b.ranged && len(b.want) > chunk) {
				t.Fatalf("batchUIDs: bad batch %+v", b)
			}
			keep := b.keeper()
			for _, w := range b.want {
				if !keep(w) {
					t.Fatalf("batchUIDs: keeper drops %d", w)
				}
			}
			got = append(got, b.want...)
		}
		if want := sortedUIDs(uids); !slices.Equal(got, want) {
			t.Fatalf("batchUIDs(%v) covers %v, want %v", uids, got, want)
		}
	})
}

func FuzzParseCached(f *testing.F) {
	f.Add("7 9 1 100 1700000000 -18000 \n8 10 8 5 0 0 a b")
	f.Add("1 1 1 1 1 1")
	f.Fuzz(func(t *testing.T, p string) {
		msgs, err := parseCached(p)
		if err != nil {
			return
		}
		// What parses prints back to the same rows.
		var lines []string
		for _, m := range msgs {
			_, kws := splitFlags(m.flags)
			lines = append(lines, fmt.Sprintf("%d %d %d %d %d %d %s", m.uid, m.modSeq, m.sys, m.size, m.date, m.tzoff, kws))
		}
		again, err := parseCached(strings.Join(lines, "\n"))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(msgs) {
			t.Fatalf("parseCached(%q) = %v; printed and parsed again: %v, %v", p, msgs, again, err)
		}
	})
}

// TestMetaCacheConcurrent runs flag changes, expunges and reads of one
// mailbox at once (for -race) and checks the final answers.
func TestMetaCacheConcurrent(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	var uids []uint32
	for i := 0; i < 60; i++ {
		uids = append(uids, appendT(t, s, "INBOX"))
	}
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			mb, err := s.Open(ctx, "INBOX")
			if err != nil {
				done <- err
				return
			}
			defer mb.Close()
			for i := 0; i < 20; i++ {
				switch (g + i) % 4 {
				case 0:
					_, _, err = mb.StoreFlags(ctx, uids[i:i+10], mailstore.FlagsAdd, []string{fmt.Sprintf("k%d", g)}, 0)
				case 1:
					_, err = mb.Expunge(ctx, []uint32{uids[g*15+i%15]})
				case 2:
					_, err = mb.Messages(ctx)
				default:
					_, err = mb.Info(ctx, uids)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	checkCache(t, "concurrent", s, "INBOX", false)
}

func TestBlobRoundTrip(t *testing.T) {
	msgs := []cachedMsg{
		{uid: 1, modSeq: 5, sys: 0, flags: joinFlags(0, ""), size: 10, date: 1700000000, tzoff: -18000},
		{uid: 7, modSeq: 1 << 40, sys: 31, flags: joinFlags(31, "$Forwarded Work"), size: 1 << 33, date: -5, tzoff: 3600},
		{uid: 1<<32 - 1, modSeq: 2, sys: 8, flags: joinFlags(8, "a"), size: 0, date: 0, tzoff: 0},
	}
	for n := 0; n <= len(msgs); n++ {
		got, err := decodeBlob(encodeBlob(msgs[:n]))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(msgs[:n]) {
			t.Errorf("decodeBlob(encodeBlob(%v)) = %v, %v", msgs[:n], got, err)
		}
	}
	b := encodeBlob(msgs)
	for _, bad := range [][]byte{nil, {2}, b[:len(b)-1], append(slices.Clone(b), 0)} {
		if got, err := decodeBlob(bad); err == nil {
			t.Errorf("decodeBlob(%x) = %v, nil, want an error", bad, got)
		}
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add(encodeBlob([]cachedMsg{{uid: 3, modSeq: 4, sys: 1, flags: joinFlags(1, "x y"), size: 9, date: 8, tzoff: -60}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := decodeBlob(b)
		if err != nil {
			return
		}
		// What decodes encodes back to a blob that decodes the same.
		again, err := decodeBlob(encodeBlob(msgs))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(msgs) {
			t.Fatalf("decodeBlob(%x) = %v; encoded and decoded again: %v, %v", b, msgs, again, err)
		}
		if !slices.IsSortedFunc(msgs, func(a, b cachedMsg) int { return int(a.uid) - int(b.uid) }) {
			t.Fatalf("decodeBlob(%x): UIDs not ascending", b)
		}
	})
}
