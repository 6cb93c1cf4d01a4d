// Package internal holds no code; its test enforces the import direction
// between Postern's packages (STYLE.md "Layout"), the way the Go tree's
// go/build deps_test.go keeps the standard library's.
package internal

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/postern/postern/"

// allowed maps each package (path under internal/) to the internal packages
// its non-test files may import. Wiring packages (cmd/*, daemon, demo) may
// import anything and are not listed. A package missing here fails the test,
// so a new package must declare its place.
var allowed = map[string][]string{
	"imap":                {},
	"imapwire":            {"imap"},
	"imapserver":          {"imap", "imapwire", "auth/sasl", "connserve"},
	"imapbackend":         {"imap", "imapserver", "mailstore", "message", "auth", "sortthread"},
	"pop3server":          {"auth/sasl", "connserve"},
	"connserve":           {},
	"pop3backend":         {"pop3server", "mailstore", "message", "auth"},
	"mailstore":           {},
	"mailstore/maildir":   {"mailstore", "mailstore/fanout", "mailstore/fswatch", "mailstore/sqlindex"},
	"mailstore/mbox":      {"mailstore", "mailstore/fanout", "mailstore/fswatch", "mailstore/sqlindex"},
	"mailstore/fanout":    {},
	"mailstore/fswatch":   {}, // inotify via golang.org/x/sys/unix, polling elsewhere
	"mailstore/sqlindex":  {},
	"mailstore/memstore":  {"mailstore"},
	"mailstore/migrate":   {"mailstore"},
	"mailstore/storetest": {"mailstore"},
	"message":             {},
	"sortthread":          {"message"}, // pure SORT/THREAD algorithms (RFC 5256)
	"auth":                {},
	"auth/sasl":           {},
	"auth/virtual":        {"auth"},
	"auth/system":         {"auth"},
	"privdrop":            {}, // standard library and golang.org/x/sys/unix only
	"listen":              {},
	"tlsconfig":           {},
	"config":              {},
	"systemd":             {}, // sd_listen_fds/sd_notify: standard library only
	"netns":               {}, // test helper: standard library only
	"memconn":             {}, // test helper: standard library only
	"loadgen":             {}, // an IMAP client: no server package, so it measures any server
}

// wiring packages choose concrete drivers; STYLE.md allows them any import.
var wiring = []string{"daemon", "demo", "dropin"}

// forbiddenInTests keeps test files of storage and codec packages free of
// protocol packages too (storage never imports a protocol, even in tests).
var forbiddenInTests = map[string][]string{
	"mailstore":           {"imap", "imapwire", "imapserver", "imapbackend"},
	"mailstore/maildir":   {"imap", "imapwire", "imapserver", "imapbackend"},
	"mailstore/memstore":  {"imap", "imapwire", "imapserver", "imapbackend"},
	"mailstore/mbox":      {"imap", "imapwire", "imapserver", "imapbackend", "pop3server", "pop3backend"},
	"mailstore/storetest": {"imap", "imapwire", "imapserver", "imapbackend"},
	"message":             {"imap", "imapwire", "imapserver", "imapbackend", "mailstore"},
	"imapserver":          {"mailstore", "mailstore/maildir", "message", "imapbackend"},
}

func TestImportDirection(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(p))
		if pkg == "." {
			return nil
		}
		isTest := strings.HasSuffix(p, "_test.go")
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		top := strings.Split(pkg, "/")[0]
		if slices.Contains(wiring, top) {
			return nil
		}
		allow, known := allowed[pkg]
		if !known {
			t.Errorf("package internal/%s is not in the layering table; add it to allowed", pkg)
			return nil
		}
		seen[pkg] = true
		for _, imp := range f.Imports {
			ip := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(ip, module+"internal/") {
				continue
			}
			dep := strings.TrimPrefix(ip, module+"internal/")
			if dep == pkg {
				continue
			}
			if isTest {
				if slices.Contains(forbiddenInTests[pkg], dep) {
					t.Errorf("%s (test) imports internal/%s: forbidden for internal/%s", p, dep, pkg)
				}
				continue
			}
			if !slices.Contains(allow, dep) {
				t.Errorf("%s imports internal/%s; internal/%s may import only %v", p, dep, pkg, allow)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, core := range []string{"imap", "imapwire", "imapserver", "mailstore"} {
		if !seen[core] {
			t.Errorf("no files found for internal/%s: is the test running in the right directory?", path.Clean(core))
		}
	}
}
