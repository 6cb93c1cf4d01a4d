package mbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// TestConfinedLinks (issue 8 item 7): symbolic links under Root are
// followed only when they stay under it. Links out of it (to a file, a
// directory, nowhere) are mailboxes that do not exist: not listed, not
// opened, not created, renamed into or deleted through, and what they
// point at is never touched.
func TestConfinedLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	root := testOptions(dir).Root
	outside := filepath.Join(dir, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	secret := "From x@example.org Wed Nov 25 10:00:00 2026\nSubject: secret\n\nsecret\n\n"
	for _, f := range []string{filepath.Join(outside, "box"), filepath.Join(outside, "sub", "box"), filepath.Join(root, "real")} {
		if err := os.WriteFile(f, []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "realdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"out":      filepath.Join(outside, "box"),
		"outdir":   filepath.Join(outside, "sub"),
		"dangling": filepath.Join(outside, "made"),
		"up":       "..",
		"in":       "real",
		"indir":    "realdir",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, "own", ""); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		op   string
		err  error
		call func() error
	}{
		{"Status(out)", mailstore.ErrNotExist, func() error { _, err := s.Status(ctx, "out"); return err }},
		{"Open(out)", mailstore.ErrNotExist, func() error { _, err := s.Open(ctx, "out"); return err }},
		{"Status(outdir/box)", mailstore.ErrNotExist, func() error { _, err := s.Status(ctx, "outdir/box"); return err }},
		{"Status(outdir)", mailstore.ErrNotExist, func() error { _, err := s.Status(ctx, "outdir"); return err }},
		{"Status(up/outside/box)", mailstore.ErrNotExist, func() error { _, err := s.Status(ctx, "up/outside/box"); return err }},
		{"Append(out)", mailstore.ErrNotExist, func() error {
			_, _, err := s.Append(ctx, "out", strings.NewReader("Subject: x\r\n\r\nx\r\n"), mailstore.AppendOptions{})
			return err
		}},
		{"Create(outdir/new)", mailstore.ErrInvalidName, func() error { return s.Create(ctx, "outdir/new", "") }},
		{"Create(out/new)", mailstore.ErrInvalidName, func() error { return s.Create(ctx, "out/new", "") }},
		{"Create(dangling)", mailstore.ErrInvalidName, func() error { return s.Create(ctx, "dangling", "") }},
		{"Rename(own, outdir/x)", mailstore.ErrInvalidName, func() error { return s.Rename(ctx, "own", "outdir/x") }},
		{"Rename(out, moved)", mailstore.ErrNotExist, func() error { return s.Rename(ctx, "out", "moved") }},
		{"Delete(out)", mailstore.ErrNotExist, func() error { return s.Delete(ctx, "out") }},
		{"Delete(outdir)", mailstore.ErrNotExist, func() error { return s.Delete(ctx, "outdir") }},
		{"SetSubscribed(~user/x)", mailstore.ErrInvalidName, func() error { return s.SetSubscribed(ctx, "~user/x", true) }},
		{"Create(300 bytes)", mailstore.ErrInvalidName, func() error { return s.Create(ctx, strings.Repeat("z", 300), "") }},
		{"Status(in)", nil, func() error { _, err := s.Status(ctx, "in"); return err }},
		{"Create(indir/new)", nil, func() error { return s.Create(ctx, "indir/new", "") }},
	} {
		if err := tt.call(); !errors.Is(err, tt.err) {
			t.Errorf("%s = %v, want %v", tt.op, err, tt.err)
		}
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range list {
		if slices.Contains([]string{"out", "outdir", "dangling", "up"}, strings.Split(mb.Name, "/")[0]) {
			t.Errorf("List has %q, a link out of the root", mb.Name)
		}
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 2 {
		t.Errorf("outside holds %d entries, want its 2 (nothing made through a link)", len(ents))
	}
	for _, f := range []string{filepath.Join(outside, "box"), filepath.Join(outside, "sub", "box")} {
		if b, _ := os.ReadFile(f); string(b) != secret {
			t.Errorf("%s changed: %q", f, b)
		}
	}
	for _, l := range []string{"out", "outdir", "dangling"} {
		if fi, err := os.Lstat(filepath.Join(root, l)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("link %s was replaced or removed", l)
		}
	}
}

// TestHomeMboxLinkOut: UW's rule takes ~/mbox as INBOX, but not a ~/mbox
// that is a link out of the root (to another user's or root's file):
// INBOX is then the spool file.
func TestHomeMboxLinkOut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.HomeMboxInbox = true
	for _, d := range []string{opts.Root, filepath.Dir(opts.Inbox)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "other")
	msg := "From x@example.org Wed Nov 25 10:00:00 2026\nSubject: other\n\nother\n\n"
	if err := os.WriteFile(other, []byte(msg+msg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(opts.Inbox, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]uint32{other: 1, opts.Inbox: 1, "inroot": 2} {
		os.Remove(filepath.Join(opts.Root, "mbox"))
		if err := os.WriteFile(filepath.Join(opts.Root, "inroot"), []byte(msg+msg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(opts.Root, "mbox")); err != nil {
			t.Fatal(err)
		}
		s, err := mbox.OpenStore(opts)
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(ctx, "INBOX")
		s.Close()
		if err != nil || st.Messages != want {
			t.Errorf("~/mbox -> %s: INBOX has %d messages (%v), want %d", target, st.Messages, err, want)
		}
	}
}

// TestCreateUnderFileLink: a link to a mailbox file inside the root is
// not turned into a directory mailbox when a child is created under it
// (the file behind it would be moved): ErrInvalidName, both left alone.
func TestCreateUnderFileLink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	root := testOptions(dir).Root
	if err := s.Create(ctx, "real", ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "in/child", ""); !errors.Is(err, mailstore.ErrInvalidName) {
		t.Errorf("Create(in/child) under a link to a file = %v, want ErrInvalidName", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "in")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(root, "real")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the linked file was moved: %v", err)
	}
}
