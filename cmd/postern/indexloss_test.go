package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/sqlindex"
)

// mailboxSnap is what a client caches of a mailbox: UIDVALIDITY, UIDNEXT
// and the UID of each message (by its Message-ID).
type mailboxSnap struct {
	uidValidity, uidNext uint32
	uids                 map[string]uint32
}

var messageIDRe = regexp.MustCompile(`(?im)^Message-ID:\s*(<[^>]*>)`)

func snapshot(t *testing.T, st mailstore.Store) map[string]mailboxSnap {
	t.Helper()
	ctx := context.Background()
	list, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]mailboxSnap{}
	for _, info := range list {
		mb, err := st.Open(ctx, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		state, err := mb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := mb.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snap := mailboxSnap{uidValidity: state.UIDValidity, uidNext: state.UIDNext, uids: map[string]uint32{}}
		for _, m := range msgs {
			r, err := mb.OpenMessage(ctx, m.UID)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			r.Close()
			id := messageIDRe.FindSubmatch(data)
			if id == nil {
				t.Fatalf("%s UID %d has no Message-ID:\n%s", info.Name, m.UID, data)
			}
			if old, dup := snap.uids[string(id[1])]; dup {
				t.Fatalf("%s: %s at UIDs %d and %d", info.Name, id[1], old, m.UID)
			}
			snap.uids[string(id[1])] = m.UID
		}
		mb.Close()
		out[info.Name] = snap
	}
	return out
}

// history gives a store mailboxes whose UIDs are not 1..n: appends,
// expunges (the highest UID too, so UIDNEXT is above every UID left),
// COPY, MOVE and flag changes, and mail delivered by another program (dir
// new/ for Maildir, an append to the file for mbox) picked up afterwards.
func history(t *testing.T, st mailstore.Store, deliver func(body string)) {
	t.Helper()
	ctx := context.Background()
	for _, n := range []string{"Work", "Archive"} {
		if err := st.Create(ctx, n, ""); err != nil {
			t.Fatal(err)
		}
	}
	add := func(mb string, i int) {
		msg := fmt.Sprintf("Message-ID: <%s.%d@test>\r\nSubject: %d\r\n\r\nbody %d\r\n", strings.ToLower(mb), i, i, i)
		if _, _, err := st.Append(ctx, mb, strings.NewReader(msg), mailstore.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 6; i++ {
		add("INBOX", i)
	}
	for i := 1; i <= 3; i++ {
		add("Work", i)
	}
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{2}, mailstore.FlagsAdd, []string{`\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, []uint32{3, 6}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := mb.MoveTo(ctx, []uint32{4}, "Archive"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := mb.CopyTo(ctx, []uint32{1}, "Work"); err != nil {
		t.Fatal(err)
	}
	mb.Close()
	deliver("Message-ID: <delivered@test>\nSubject: delivered\n\nhello\n")
	if _, err := st.Status(ctx, "INBOX"); err != nil { // picks it up: a UID
		t.Fatal(err)
	}
	add("INBOX", 7)
}

// TestIndexLossKeepsUIDs: deleting the index, truncating it, or filling
// parts of it with random bytes loses no UID assignment, on both stores:
// after `postern fsck --repair` (and, for a deleted or emptied index, after
// a plain reopen) every message has the UID it had, UIDVALIDITY is the
// same and UIDNEXT not lower; fsck is then clean.
func TestIndexLossKeepsUIDs(t *testing.T) {
	sqlindex.Linger = 0
	damages := []struct {
		name   string
		reopen bool // a plain Open must cope (no fsck)
		damage func(t *testing.T, path string)
	}{
		{"deleted", true, func(t *testing.T, p string) {
			for _, ext := range []string{"", "-wal", "-shm"} {
				os.Remove(p + ext)
			}
		}},
		{"truncated", true, func(t *testing.T, p string) {
			if err := os.Truncate(p, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated-half", false, func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			if err := os.Truncate(p, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"random-header", true, func(t *testing.T, p string) { scribble(t, p, 0, 100) }},
		{"random-pages", false, func(t *testing.T, p string) { scribble(t, p, 4096, 3*4096) }},
	}
	kinds := []struct {
		name  string
		open  func(dir string) (mailstore.Store, error)
		index func(dir string) string
		spec  func(dir string) string
		// deliver writes a message as another program would.
		deliver func(dir string) func(string)
	}{
		{"maildir",
			func(dir string) (mailstore.Store, error) { return maildir.Open(dir, maildir.Options{NoFsync: true}) },
			func(dir string) string { return filepath.Join(dir, maildir.IndexName) },
			func(dir string) string { return "maildir:" + dir },
			func(dir string) func(string) {
				return func(body string) {
					os.WriteFile(filepath.Join(dir, "new", "1700000000.M1P1.other"), []byte(body), 0o600)
				}
			}},
		{"mbox",
			func(dir string) (mailstore.Store, error) { return mbox.Open(mbox.Options{Root: dir, NoFsync: true}) },
			func(dir string) string { return filepath.Join(dir, mbox.IndexName) },
			func(dir string) string { return "mbox:" + dir },
			func(dir string) func(string) {
				return func(body string) {
					f, err := os.OpenFile(filepath.Join(dir, "mbox"), os.O_APPEND|os.O_WRONLY, 0)
					if err == nil {
						f.WriteString("From other@example.org Thu Nov 26 01:00:00 2026\n" + body + "\n")
						f.Close()
					}
				}
			}},
	}
	for _, k := range kinds {
		for _, d := range damages {
			for _, viaFsck := range []bool{true, false} {
				if !viaFsck && !d.reopen {
					continue
				}
				name := fmt.Sprintf("%s/%s/fsck=%v", k.name, d.name, viaFsck)
				t.Run(name, func(t *testing.T) {
					dir := filepath.Join(t.TempDir(), "mail")
					st, err := k.open(dir)
					if err != nil {
						t.Fatal(err)
					}
					history(t, st, k.deliver(dir))
					before := snapshot(t, st)
					if err := st.Close(); err != nil {
						t.Fatal(err)
					}
					d.damage(t, k.index(dir))
					if d.name == "random-header" && viaFsck {
						// A check alone reports the damage and changes nothing.
						damaged, _ := os.ReadFile(k.index(dir))
						if out, code := runFsck(t, k.spec(dir)); code != 1 || !strings.Contains(out, ": index: damaged: ") {
							t.Errorf("fsck of a damaged index: status %d\n%s", code, out)
						}
						if now, _ := os.ReadFile(k.index(dir)); !bytes.Equal(now, damaged) {
							t.Errorf("fsck without --repair changed the damaged index")
						}
					}
					if viaFsck {
						if out, code := runFsck(t, "--repair", k.spec(dir)); code != 0 {
							t.Fatalf("fsck --repair: status %d\n%s", code, out)
						}
					}
					st, err = k.open(dir)
					if err != nil {
						t.Fatalf("reopen: %v", err)
					}
					after := snapshot(t, st)
					st.Close()
					compareSnaps(t, before, after)
					if out, code := runFsck(t, k.spec(dir)); code != 0 || strings.Contains(out, "(pending)") {
						t.Errorf("fsck after recovery: status %d\n%s", code, out)
					}
				})
			}
		}
	}
}

// scribble overwrites n bytes of path at off with random bytes.
func scribble(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func compareSnaps(t *testing.T, before, after map[string]mailboxSnap) {
	t.Helper()
	for name, b := range before {
		a, ok := after[name]
		if !ok {
			t.Errorf("%s: gone", name)
			continue
		}
		if a.uidValidity != b.uidValidity {
			t.Errorf("%s: UIDVALIDITY %d, was %d", name, a.uidValidity, b.uidValidity)
		}
		if a.uidNext < b.uidNext {
			t.Errorf("%s: UIDNEXT %d, was %d", name, a.uidNext, b.uidNext)
		}
		for id, uid := range b.uids {
			if a.uids[id] != uid {
				t.Errorf("%s: %s has UID %d, had %d", name, id, a.uids[id], uid)
			}
		}
		if len(a.uids) != len(b.uids) {
			t.Errorf("%s: %d messages, had %d", name, len(a.uids), len(b.uids))
		}
	}
}
