package maildir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

const testMsg = "From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n"

func appendT(t *testing.T, s *Store, name string, flags ...string) uint32 {
	t.Helper()
	_, uid, err := s.Append(context.Background(), name, strings.NewReader(testMsg), mailstore.AppendOptions{Flags: flags})
	if err != nil {
		t.Fatalf("Append(%q, %q) = %v", name, flags, err)
	}
	return uid
}

func openT(t *testing.T, s *Store, name string) mailstore.Mailbox {
	t.Helper()
	mb, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q) = %v", name, err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

// curNames returns the file names in dir/cur.
func curNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// curNamesByUID lists the files of cur/ in UID order, from the folder's
// uidlist: the unique names do not sort by delivery (their microsecond
// field is not zero-padded), so the order of names says nothing.
func curNamesByUID(t *testing.T, dir string) []string {
	t.Helper()
	ul, ok := readUIDList(dir)
	if !ok {
		t.Fatalf("no uidlist in %s", dir)
	}
	names := curNames(t, dir)
	uidOf := func(name string) uint32 {
		base, _ := splitName(name)
		return ul.uids[base]
	}
	slices.SortFunc(names, func(a, b string) int { return int(uidOf(a)) - int(uidOf(b)) })
	return names
}

func infos(names []string) []string {
	var out []string
	for _, n := range names {
		_, info := splitName(n)
		out = append(out, info)
	}
	slices.Sort(out)
	return out
}

func TestFlagsInFileNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	appendT(t, s, "INBOX", `\Seen`, `\Flagged`, "$Forwarded", "Work", `\Draft`)
	if got, want := infos(curNames(t, dir)), []string{":2,DFPSa"}; !slices.Equal(got, want) {
		t.Errorf("file infos = %q, want %q", got, want)
	}
	kw, _ := os.ReadFile(filepath.Join(dir, KeywordsName))
	if string(kw) != "0 Work\n" {
		t.Errorf("%s = %q, want %q", KeywordsName, kw, "0 Work\n")
	}
	mb := openT(t, s, "INBOX")
	steps := []struct {
		op    mailstore.FlagOp
		flags []string
		want  string
	}{
		{mailstore.FlagsRemove, []string{`\Seen`, `\Draft`}, ":2,FPa"},
		{mailstore.FlagsAdd, []string{`\Answered`, `\Deleted`, "Home"}, ":2,FPRTab"},
		{mailstore.FlagsSet, []string{"Home"}, ":2,b"},
		{mailstore.FlagsSet, nil, ":2,"},
	}
	for _, st := range steps {
		if _, _, err := mb.StoreFlags(ctx, []uint32{1}, st.op, st.flags, 0); err != nil {
			t.Fatal(err)
		}
		if got := infos(curNames(t, dir)); !slices.Equal(got, []string{st.want}) {
			t.Errorf("after StoreFlags(%v, %q): infos = %q, want %q", st.op, st.flags, got, st.want)
		}
	}
	// Past 26 keywords the letters run out; the index still keeps them.
	var many []string
	for i := 0; i < 30; i++ {
		many = append(many, "k"+string(rune('A'+i)))
	}
	changed, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsSet, many, 0)
	if err != nil || len(changed) != 1 || len(changed[0].Flags) != 30 {
		t.Fatalf("StoreFlags(30 keywords) = %v, %v", changed, err)
	}
	if got := infos(curNames(t, dir))[0]; len(got) != len(":2,")+24 {
		t.Errorf("info with 30 keywords = %q, want 24 letters (2 of 26 went to Work and Home)", got)
	}
	msgs, _ := mb.Messages(ctx)
	if len(msgs[0].Flags) != 30 {
		t.Errorf("Messages flags = %q, want 30 keywords", msgs[0].Flags)
	}
}

func TestOutsideDelivery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	appendT(t, s, "INBOX")
	mb := openT(t, s, "INBOX")
	if msgs, _ := mb.Messages(ctx); len(msgs) != 1 {
		t.Fatalf("Messages = %v, want 1", msgs)
	}
	// An MTA delivers to new/, another MUA drops a read message into cur/.
	if err := os.WriteFile(filepath.Join(dir, "new", "1700000000.M1P1.mta"), []byte("mta mail\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The internal date of outside mail is the file's mtime, as the MTA
	// left it (RFC 3501 §2.3.3: the date the message was received).
	os.Chtimes(filepath.Join(dir, "new", "1700000000.M1P1.mta"), time.Unix(1700000000, 0), time.Unix(1700000000, 0))
	if err := os.WriteFile(filepath.Join(dir, "cur", "1700000001.M1P1.mua:2,FS"), []byte("mua mail\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "new"), time.Unix(1, 0), time.Unix(1, 0)) // mtimes must differ from the stored ones
	os.Chtimes(filepath.Join(dir, "cur"), time.Unix(2, 0), time.Unix(2, 0))
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("Messages after outside delivery = %+v, %v, want 3", msgs, err)
	}
	if msgs[1].UID != 2 || msgs[2].UID != 3 || !slices.Equal(msgs[2].Flags, []string{`\Flagged`, `\Seen`}) || len(msgs[1].Flags) != 0 {
		t.Errorf("picked up messages = %+v, want UID 2 without flags (new/), UID 3 \\Flagged \\Seen", msgs)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "new")); len(ents) != 0 {
		t.Errorf("new/ still holds %d files, want them moved to cur/", len(ents))
	}
	r, err := mb.OpenMessage(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, r.Size())
	r.ReadAt(buf, 0)
	r.Close()
	if string(buf) != "mta mail\n" {
		t.Errorf("UID 2 content = %q, want %q", buf, "mta mail\n")
	}
	info, _ := mb.Info(ctx, []uint32{2})
	if want := time.Unix(1700000000, 0); len(info) != 1 || info[0].Size != 9 {
		t.Errorf("Info(2) = %+v, want Size 9", info)
	} else if !info[0].InternalDate.Equal(want) {
		t.Errorf("Info(2).InternalDate = %v, want the file's mtime %v", info[0].InternalDate, want)
	}
	if _, uid := appendAfter(t, s); uid != 4 {
		t.Errorf("Append after pick-up UID = %d, want 4", uid)
	}
}

func appendAfter(t *testing.T, s *Store) (uint32, uint32) {
	uv, uid, err := s.Append(context.Background(), "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return uv, uid
}

func TestOutsideChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	for i := 0; i < 3; i++ {
		appendT(t, s, "INBOX")
	}
	mb := openT(t, s, "INBOX")
	st, _ := mb.State(ctx)
	names := curNamesByUID(t, dir)
	// Another MUA deletes message 1 and marks message 2 \Deleted by rename.
	base2, _ := splitName(names[1])
	if err := os.Remove(filepath.Join(dir, "cur", names[0])); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "cur", names[1]), filepath.Join(dir, "cur", base2+":2,T")); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "cur"), time.Unix(3, 0), time.Unix(3, 0))
	changed, expunged, _, err := mb.Changes(ctx, st.HighestModSeq)
	if err != nil || !slices.Equal(expunged, []uint32{1}) || len(changed) != 1 || changed[0].UID != 2 ||
		!slices.Equal(changed[0].Flags, []string{`\Deleted`}) {
		t.Errorf("Changes = %+v, %v, %v, want UID 2 \\Deleted changed, [1] expunged", changed, expunged, err)
	}
}

func TestExpungedLeftoverNotNewMail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	appendT(t, s, "INBOX")
	appendT(t, s, "INBOX")
	names := curNamesByUID(t, dir)
	data, _ := os.ReadFile(filepath.Join(dir, "cur", names[0]))
	mb := openT(t, s, "INBOX")
	if _, err := mb.Expunge(ctx, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	// As if a crash had kept the file although the index commit happened.
	os.WriteFile(filepath.Join(dir, "cur", names[0]), data, 0o600)
	os.Chtimes(filepath.Join(dir, "cur"), time.Unix(4, 0), time.Unix(4, 0))
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].UID != 2 {
		t.Errorf("Messages = %+v, %v, want only UID 2", msgs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cur", names[0])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover expunged file still there: %v", err)
	}
}

// TestIndexLoss deletes the index and checks the uidlist gives back the
// same UIDVALIDITY and UIDs, with keywords and flags from the file names.
func TestIndexLoss(t *testing.T) {
	for _, how := range []string{"delete", "reindex"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s := openTest(t, dir)
			if err := s.Create(ctx, "Lists/go.dev", mailstore.SpecialArchive); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				appendT(t, s, "Lists/go.dev", `\Seen`, "Work")
			}
			if err := s.SetSubscribed(ctx, "Lists/go.dev", true); err != nil {
				t.Fatal(err)
			}
			mb := openT(t, s, "Lists/go.dev")
			if _, err := mb.Expunge(ctx, []uint32{2, 4}); err != nil {
				t.Fatal(err)
			}
			before, _ := mb.State(ctx)
			mb.Close()
			if how == "delete" {
				s.Close()
				for _, suf := range []string{"", "-wal", "-shm"} {
					os.Remove(filepath.Join(dir, IndexName+suf))
				}
				s = openTest(t, dir)
			} else if err := s.Reindex(ctx); err != nil {
				t.Fatalf("Reindex = %v", err)
			}
			defer s.Close()
			mb = openT(t, s, "Lists/go.dev")
			after, _ := mb.State(ctx)
			if after.UIDValidity != before.UIDValidity || after.UIDNext != 5 {
				t.Errorf("State after index loss = %+v, want UIDVALIDITY %d, UIDNEXT 5", after, before.UIDValidity)
			}
			msgs, _ := mb.Messages(ctx)
			if got := []uint32{msgs[0].UID, msgs[len(msgs)-1].UID}; len(msgs) != 2 || !slices.Equal(got, []uint32{1, 3}) {
				t.Errorf("UIDs after index loss = %+v, want [1 3]", msgs)
			}
			for _, m := range msgs {
				if !slices.Equal(m.Flags, []string{"Work", `\Seen`}) {
					t.Errorf("UID %d flags = %q, want [Work \\Seen]", m.UID, m.Flags)
				}
			}
			list, _ := s.List(ctx)
			for _, mi := range list {
				if mi.Name == "Lists/go.dev" && (mi.SpecialUse != mailstore.SpecialArchive || !mi.Subscribed) {
					t.Errorf("List entry %+v, want \\Archive, subscribed", mi)
				}
			}
			if _, uid := mustAppendTo(t, s, "Lists/go.dev"); uid != 5 {
				t.Errorf("Append after index loss UID = %d, want 5", uid)
			}
		})
	}
}

func mustAppendTo(t *testing.T, s *Store, name string) (uint32, uint32) {
	uv, uid, err := s.Append(context.Background(), name, strings.NewReader(testMsg), mailstore.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return uv, uid
}

func TestFolderLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	tests := []struct{ name, folder string }{
		{"Sent", ".Sent"},
		{"a/b", ".a.b"},
		{"v1.2", ".v1%2E2"},
		{"100%", ".100%25"},
		{"INBOX/x", ".INBOX.x"},
		{"..a/b..", ".%2E%2Ea.b%2E%2E"},
		{"tab\tname", ".tab%09name"},
	}
	for _, tt := range tests {
		if err := s.Create(ctx, tt.name, ""); err != nil {
			t.Fatalf("Create(%q) = %v", tt.name, err)
		}
		if !isFolder(filepath.Join(dir, tt.folder), false) {
			t.Errorf("Create(%q): no folder %q", tt.name, tt.folder)
		}
		if got, ok := nameOfFolder(tt.folder); !ok || got != tt.name {
			t.Errorf("nameOfFolder(%q) = %q, %v, want %q", tt.folder, got, ok, tt.name)
		}
	}
}

func TestPathEscape(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	dir := filepath.Join(parent, "Maildir")
	s := openTest(t, dir)
	defer s.Close()
	outside := filepath.Join(parent, "outside")
	os.MkdirAll(filepath.Join(outside, "cur"), 0o700)
	// A symbolic link posing as a folder is not followed.
	if err := os.Symlink(outside, filepath.Join(dir, ".evil")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"evil", "../outside", "/etc", "a/../../outside", "x\x00y"} {
		if _, err := s.Status(ctx, n); !errors.Is(err, mailstore.ErrNotExist) && !errors.Is(err, mailstore.ErrInvalidName) {
			t.Errorf("Status(%q) = %v, want ErrNotExist or ErrInvalidName", n, err)
		}
		if _, _, err := s.Append(ctx, n, strings.NewReader(testMsg), mailstore.AppendOptions{}); err == nil {
			t.Errorf("Append(%q) = nil, want an error", n)
		}
		if err := s.Create(ctx, n, ""); n != "evil" && !errors.Is(err, mailstore.ErrInvalidName) {
			t.Errorf("Create(%q) = %v, want ErrInvalidName", n, err)
		}
	}
	list, _ := s.List(ctx)
	for _, mi := range list {
		if mi.Name == "evil" {
			t.Errorf("List shows the symlinked folder %+v", mi)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(outside, "cur")); len(ents) != 0 {
		t.Errorf("a message was written outside the root: %d files", len(ents))
	}
	// Every folder the store made is a direct child of the root.
	ents, _ := os.ReadDir(parent)
	if len(ents) != 2 {
		t.Errorf("root's parent holds %d entries, want Maildir and outside", len(ents))
	}
}

// TestWatchOutside checks the poller notices a delivery by another program.
func TestWatchOutside(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{NoFsync: true, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mb := openT(t, s, "INBOX")
	ch := mb.Watch()
	if _, err := mb.Messages(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "new", "1.M1P1.mta"), []byte("x\n"), 0o600)
	os.Chtimes(filepath.Join(dir, "new"), time.Unix(5, 0), time.Unix(5, 0))
	<-ch
	msgs, _ := mb.Messages(context.Background())
	if len(msgs) != 1 {
		t.Errorf("Messages after Watch = %+v, want 1", msgs)
	}
}

// TestTwoStores opens the same Maildir twice, as two processes would, and
// checks they hand out distinct UIDs and see each other's changes.
func TestTwoStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openTest(t, dir), openTest(t, dir)
	defer a.Close()
	defer b.Close()
	done := make(chan []uint32)
	for _, s := range []*Store{a, b} {
		go func() {
			var uids []uint32
			for i := 0; i < 10; i++ {
				_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(testMsg), mailstore.AppendOptions{})
				if err != nil {
					t.Error(err)
					break
				}
				uids = append(uids, uid)
			}
			done <- uids
		}()
	}
	all := append(<-done, <-done...)
	slices.Sort(all)
	if len(slices.Compact(all)) != 20 {
		t.Errorf("UIDs = %v, want 20 distinct", all)
	}
	mb := openT(t, b, "INBOX")
	if msgs, _ := mb.Messages(ctx); len(msgs) != 20 {
		t.Errorf("Messages = %d, want 20", len(msgs))
	}
}

// TestDeliveryDuringWrite is an MTA delivering into new/ while a write
// (here a STORE's transaction) runs: the message must be picked up at the
// next look, not hidden until some later delivery changes new/ again.
func TestDeliveryDuringWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	appendT(t, s, "INBOX")
	mbx := openT(t, s, "INBOX")
	mb := mbx.(*mailbox)
	// new/ untouched for a while, so the sync starting the write trusts
	// its mtime.
	os.Chtimes(filepath.Join(dir, "new"), time.Unix(4, 0), time.Unix(4, 0))
	err := mb.writeSynced(ctx, func(w *wtx, r *mboxRow) error {
		name := filepath.Join(dir, "new", "1700000000.M1P1.during")
		if err := os.WriteFile(name, []byte("Subject: during\r\n\r\nx\r\n"), 0o600); err != nil {
			return err
		}
		// Make new/'s mtime old enough to be trusted, as on a slow write.
		os.Chtimes(filepath.Join(dir, "new"), time.Unix(5, 0), time.Unix(5, 0))
		r.modSeq++
		w.stamp(r)
		return w.saveRow(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := mbx.Messages(ctx)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Messages after a delivery during a write = %+v, %v; want 2 messages", msgs, err)
	}
}
