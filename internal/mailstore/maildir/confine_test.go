package maildir

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// TestSubdirLinks (issue 8 item 7): a folder whose cur/, new/ or tmp/ is
// a symbolic link is not a folder: its messages would be read from, and
// new/'s moved out of, wherever the link points (another user's Maildir,
// in a data directory all virtual users share).
func TestSubdirLinks(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	dir := filepath.Join(parent, "Maildir")
	s := openTest(t, dir)
	defer s.Close()
	other := filepath.Join(parent, "other")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(other, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"cur/1.M1P1.h:2,S", "new/2.M2P2.h"} {
		if err := os.WriteFile(filepath.Join(other, f), []byte(testMsg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, linked := range []string{"cur", "new", "tmp"} {
		f := filepath.Join(dir, ".l"+linked)
		for _, sub := range []string{"", "cur", "new", "tmp"} {
			if sub == linked {
				if err := os.Symlink(filepath.Join(other, sub), filepath.Join(f, sub)); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Mkdir(filepath.Join(f, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		name := "l" + linked
		if _, err := s.Status(ctx, name); !errors.Is(err, mailstore.ErrNotExist) {
			t.Errorf("Status(%q) with %s/ a link = %v, want ErrNotExist", name, linked, err)
		}
		if _, err := s.Open(ctx, name); !errors.Is(err, mailstore.ErrNotExist) {
			t.Errorf("Open(%q) with %s/ a link = %v, want ErrNotExist", name, linked, err)
		}
		if _, _, err := s.Append(ctx, name, strings.NewReader(testMsg), mailstore.AppendOptions{}); err == nil {
			t.Errorf("Append(%q) with %s/ a link succeeded", name, linked)
		}
	}
	list, _ := s.List(ctx)
	for _, mi := range list {
		if strings.HasPrefix(mi.Name, "l") {
			t.Errorf("List shows %q, whose subdirectory is a link", mi.Name)
		}
	}
	for sub, want := range map[string]int{"cur": 1, "new": 1, "tmp": 0} {
		if ents, _ := os.ReadDir(filepath.Join(other, sub)); len(ents) != want {
			t.Errorf("the other Maildir's %s/ holds %d files, want %d", sub, len(ents), want)
		}
	}
}

// TestMessageLink: a message file that is a symbolic link is not a
// message (the scan takes regular files only), and one replaced by a link
// after it was indexed is not followed (O_NOFOLLOW): ErrNotExist.
func TestMessageLink(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	dir := filepath.Join(parent, "Maildir")
	s := openTest(t, dir)
	defer s.Close()
	secret := filepath.Join(parent, "secret")
	if err := os.WriteFile(secret, []byte("Subject: secret\r\n\r\nsecret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "new", "9.M9P9.h")); err != nil {
		t.Fatal(err)
	}
	uid := appendT(t, s, "INBOX")
	mb := openT(t, s, "INBOX")
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages with a link in new/ = %d, %v; want the 1 appended", len(msgs), err)
	}
	names := curNames(t, dir)
	if len(names) != 1 {
		t.Fatalf("cur/ = %q, want the appended message alone", names)
	}
	p := filepath.Join(dir, "cur", names[0])
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, p); err != nil {
		t.Fatal(err)
	}
	r, err := mb.OpenMessage(ctx, uid)
	if err == nil {
		b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		t.Fatalf("OpenMessage of a message replaced by a link = %q, want ErrNotExist", b)
	}
	if !errors.Is(err, mailstore.ErrNotExist) {
		t.Errorf("OpenMessage of a message replaced by a link = %v, want ErrNotExist", err)
	}
}
