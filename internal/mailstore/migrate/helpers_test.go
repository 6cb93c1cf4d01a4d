package migrate_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// msgView is a message as seen through the mailstore contract.
type msgView struct {
	UID   uint32
	Flags []string
	Date  int64 // Unix seconds of the internal date
	Body  string
}

// boxView is a mailbox as seen through the contract.
type boxView struct {
	UIDValidity, UIDNext uint32
	Msgs                 []msgView
}

// snapshot reads every selectable mailbox of a store.
func snapshot(t *testing.T, s mailstore.Store) map[string]boxView {
	t.Helper()
	ctx := context.Background()
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]boxView{}
	for _, mi := range list {
		if mi.NoSelect {
			continue
		}
		mb, err := s.Open(ctx, mi.Name)
		if err != nil {
			t.Fatalf("Open(%q) = %v", mi.Name, err)
		}
		st, err := mb.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		metas, err := mb.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var uids []uint32
		for _, m := range metas {
			uids = append(uids, m.UID)
		}
		infos, err := mb.Info(ctx, uids)
		if err != nil {
			t.Fatal(err)
		}
		bv := boxView{UIDValidity: st.UIDValidity, UIDNext: st.UIDNext}
		for _, in := range infos {
			r, err := mb.OpenMessage(ctx, in.UID)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			bv.Msgs = append(bv.Msgs, msgView{UID: in.UID, Flags: slices.Clone(in.Flags), Date: in.InternalDate.Unix(), Body: string(b)})
		}
		mb.Close()
		out[mi.Name] = bv
	}
	return out
}

// diffViews reports the first differences between two snapshots.
func diffViews(t *testing.T, what string, got, want map[string]boxView) {
	t.Helper()
	var gn, wn []string
	for n := range got {
		gn = append(gn, n)
	}
	for n := range want {
		wn = append(wn, n)
	}
	slices.Sort(gn)
	slices.Sort(wn)
	if !slices.Equal(gn, wn) {
		t.Errorf("%s: mailboxes = %q, want %q", what, gn, wn)
		return
	}
	for _, n := range wn {
		g, w := got[n], want[n]
		if g.UIDValidity != w.UIDValidity || g.UIDNext != w.UIDNext {
			t.Errorf("%s: %s UIDVALIDITY, UIDNEXT = %d, %d, want %d, %d", what, n, g.UIDValidity, g.UIDNext, w.UIDValidity, w.UIDNext)
		}
		if len(g.Msgs) != len(w.Msgs) {
			t.Errorf("%s: %s has %d messages, want %d", what, n, len(g.Msgs), len(w.Msgs))
			continue
		}
		for i := range w.Msgs {
			gm, wm := g.Msgs[i], w.Msgs[i]
			if gm.UID != wm.UID || !slices.Equal(gm.Flags, wm.Flags) || gm.Date != wm.Date {
				t.Errorf("%s: %s message %d = UID %d flags %q date %d, want UID %d flags %q date %d", what, n, i+1,
					gm.UID, gm.Flags, gm.Date, wm.UID, wm.Flags, wm.Date)
			}
			if gm.Body != wm.Body {
				t.Errorf("%s: %s UID %d body differs:\n got %q\nwant %q", what, n, wm.UID, gm.Body, wm.Body)
			}
		}
	}
}

// copyFile copies src to dst, making dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// needProgram fails the test for a missing program unless
// POSTERN_SKIP_PROGRAMS=1, in which case it skips.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("POSTERN_SKIP_PROGRAMS") == "1" {
		t.Skipf("%s not installed (POSTERN_SKIP_PROGRAMS=1)", name)
	}
	t.Fatalf("%s not installed (apt-get install uw-mailutils, or set POSTERN_SKIP_PROGRAMS=1)", name)
	return ""
}

// uwCheck runs UW's "mailutil check" on a copy of the mbox file at path
// (Debian's c-client takes names relative to HOME and, as root, ignores
// HOME, so it then runs as nobody) and returns its total.
func uwCheck(t *testing.T, path string) string {
	t.Helper()
	prog := needProgram(t, "mailutil")
	home := t.TempDir()
	copyFile(t, path, filepath.Join(home, "box"))
	cmd := exec.Command(prog, "check", "box")
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "USER=uwtest", "PATH=/usr/bin:/bin"}
	if os.Geteuid() == 0 {
		const nobody = 65534
		filepath.Walk(home, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, nobody, nobody) })
		for d := home; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mailutil check %s: %v\n%s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// failingStore wraps a source store so that reading the content of the
// failAt-th message it is asked for fails: an import interrupted midway.
type failingStore struct {
	mailstore.Store
	failAt int
	n      *int
}

func (f failingStore) Open(ctx context.Context, name string) (mailstore.Mailbox, error) {
	mb, err := f.Store.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return failingMailbox{mb, f}, nil
}

type failingMailbox struct {
	mailstore.Mailbox
	f failingStore
}

func (m failingMailbox) OpenMessage(ctx context.Context, uid uint32) (mailstore.MessageReader, error) {
	*m.f.n++
	if *m.f.n == m.f.failAt {
		return nil, fmt.Errorf("injected failure at UID %d", uid)
	}
	return m.Mailbox.OpenMessage(ctx, uid)
}

var testDate = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
