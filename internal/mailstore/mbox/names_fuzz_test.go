package mbox

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMailboxPath checks the one property that keeps a client inside its
// mail directory (uw-imap-docs/naming.txt, DESIGN.md §1): every name the
// store accepts maps to a path strictly under Root, or to the INBOX spool
// file, and never to the index, a dotfile or a dotlock.
func FuzzMailboxPath(f *testing.F) {
	for _, s := range []string{"INBOX", "inbox", "Sent", "a/b", "../etc/passwd", "a/../../x", "~root/x", "~/mail", "/etc/passwd",
		".index.sqlite", "a/.postern-mbox", "x.lock", "a/b.lock/c", "Entwürfe", "a\\..\\b", "...", "a/..b", "INBOX/x"} {
		f.Add(s)
	}
	const root, inbox, index = "/home/u/mail", "/var/mail/u", "/home/u/mail/.index.sqlite"
	s := &Store{opts: Options{Root: root, IndexPath: index}, inbox: inbox}
	f.Fuzz(func(t *testing.T, name string) {
		cn, err := s.canonical(name)
		if err != nil {
			return
		}
		p, err := s.nodePath(cn)
		if err != nil {
			t.Fatalf("nodePath(%q) after canonical(%q) = %q: %v", cn, name, cn, err)
		}
		if cn == "INBOX" {
			if p != inbox {
				t.Fatalf("nodePath(INBOX) = %q, want %q", p, inbox)
			}
			return
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("name %q maps to %q, outside %s", name, p, root)
		}
		if p == index || p == inbox {
			t.Fatalf("name %q maps to reserved %q", name, p)
		}
		for _, c := range strings.Split(rel, "/") {
			if strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock") {
				t.Fatalf("name %q maps to %q: component %q is reserved", name, p, c)
			}
		}
		if again, err := s.canonical(cn); err != nil || again != cn {
			t.Fatalf("canonical(canonical(%q)) = %q, %v; want %q", name, again, err, cn)
		}
	})
}
