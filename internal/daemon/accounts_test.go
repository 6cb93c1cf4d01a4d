package daemon

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mailstore"
)

// TestOpenStoreDefaultMailboxes: a new Maildir gets default_mailboxes with
// their special uses, subscribed; an existing one is left alone (a
// mailbox the user deleted is not made again); a new mbox store gets them
// only with mbox_default_mailboxes.
func TestOpenStoreDefaultMailboxes(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Auth = config.AuthVirtual
	cfg.MailStore = config.StoreMaildir
	u := &auth.User{Name: "alice", UID: -1, GID: -1, MailRoot: filepath.Join(dir, "alice", "Maildir")}

	list := func(st mailstore.Store) (uses map[string]string, subs []string) {
		t.Helper()
		infos, err := st.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		uses = map[string]string{}
		for _, in := range infos {
			uses[in.Name] = in.SpecialUse
		}
		if subs, err = st.Subscriptions(ctx); err != nil {
			t.Fatal(err)
		}
		return uses, subs
	}

	st, err := openStore(cfg, log)(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	uses, subs := list(st)
	want := map[string]string{"INBOX": "", "Drafts": `\Drafts`, "Sent": `\Sent`, "Trash": `\Trash`, "Junk": `\Junk`, "Archive": `\Archive`}
	if len(uses) != len(want) {
		t.Errorf("new Maildir has %v, want %v", uses, want)
	}
	for n, use := range want {
		if got, ok := uses[n]; !ok || got != use {
			t.Errorf("new Maildir: %s has special use %q (exists %v), want %q", n, got, ok, use)
		}
	}
	if w := []string{"Archive", "Drafts", "Junk", "Sent", "Trash"}; !slices.Equal(subs, w) {
		t.Errorf("new Maildir subscriptions = %q, want %q", subs, w)
	}
	if err := st.Delete(ctx, "Junk"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = openStore(cfg, log)(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if uses, _ := list(st); len(uses) != len(want)-1 {
		t.Errorf("reopened Maildir has %v: Junk was made again", uses)
	}
	st.Close()

	// mbox: off by default, then on.
	cfg.MailStore = config.StoreMbox
	for _, on := range []bool{false, true} {
		home := filepath.Join(dir, "mbox", map[bool]string{false: "off", true: "on"}[on])
		cfg.MboxDir, cfg.MboxInbox = home, filepath.Join(home, "inbox")
		cfg.MboxDefaultMailboxes = on
		st, err := openStore(cfg, log)(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		uses, _ := list(st)
		if _, made := uses["Sent"]; made != on {
			t.Errorf("mbox_default_mailboxes = %v: mailboxes %v", on, uses)
		}
		st.Close()
	}
}

// TestOwnedBy: a system user's Maildir root, followed through any link in
// its place, must belong to the user; a root not made yet passes.
func TestOwnedBy(t *testing.T) {
	dir := t.TempDir()
	uid := os.Getuid()
	if err := ownedBy(dir, uid); err != nil {
		t.Errorf("ownedBy(own dir) = %v", err)
	}
	if err := ownedBy(filepath.Join(dir, "missing"), uid); err != nil {
		t.Errorf("ownedBy(missing) = %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := ownedBy(link, uid+1); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("ownedBy(link to a directory of uid %d, uid %d) = %v, want fs.ErrPermission", uid, uid+1, err)
	}
}

// TestEnsureSpoolRootControlled: root makes a missing spool file only in
// a directory all of whose path is root's; through a link a user owns
// (mbox_inbox under the home, ~/mail -> elsewhere) it makes nothing.
func TestEnsureSpoolRootControlled(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it makes files of another owner")
	}
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		st, err := os.Stat(d)
		if err != nil || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Skipf("%s is not root's", d)
		}
	}
	target := filepath.Join(base, "target")
	home := filepath.Join(base, "home")
	for _, d := range []string{target, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	u := &auth.User{Name: "nobody", UID: 65534, GID: 65534}
	if err := os.Chown(home, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "mail")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	if err := ensureSpool(filepath.Join(link, "inbox"), u); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(target, "inbox")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ensureSpool through a user's link made %s (%v)", filepath.Join(target, "inbox"), err)
	}
	if err := ensureSpool(filepath.Join(target, "spool"), u); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(target, "spool")); err != nil || st.Sys().(*syscall.Stat_t).Uid != 65534 {
		t.Errorf("ensureSpool in a root-controlled directory: %v", err)
	}
}

// TestHeaderCacheMemory: search_cache_memory = 0 turns the header cache in
// memory off (imapbackend takes 0 as its default), any other value is the
// bound.
func TestHeaderCacheMemory(t *testing.T) {
	for in, want := range map[int64]int64{0: -1, 1 << 20: 1 << 20, 32 << 20: 32 << 20} {
		if got := headerCacheMemory(in); got != want {
			t.Errorf("headerCacheMemory(%d) = %d, want %d", in, got, want)
		}
	}
}
