package virtual

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
)

// TestCache checks that a password that verified skips the hash on the next
// login, that wrong passwords are never remembered, and that a changed
// file or the TTL ends what is remembered.
func TestCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "passwd")
	writeFile(t, path, "bob:{BCRYPT}"+bcryptHash(t, "one")+"\ndave:{PLAIN}dpass:::::: nologin\n")
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cache := auth.NewCache(time.Hour, 10, clk.Now)
	f, err := Open(path, Options{Now: clk.Now, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(step, user, pass string, want error) {
		t.Helper()
		if _, err := f.Authenticate(ctx, user, pass); !errors.Is(err, want) {
			t.Errorf("%s: Authenticate(%s, %q) = %v, want %v", step, user, pass, err, want)
		}
	}

	check("wrong", "bob", "two", auth.ErrInvalidCredentials)
	if cache.Len() != 0 {
		t.Fatalf("a failure was remembered: Len = %d", cache.Len())
	}
	check("first", "bob", "one", nil)
	if cache.Len() != 1 {
		t.Fatalf("after a success Len = %d, want 1", cache.Len())
	}

	// Swap bob's hash in memory for one of another password without
	// bumping the generation: the remembered password still logs in,
	// which shows the hash was skipped; a wrong one still pays the hash
	// (and fails against it).
	f.mu.Lock()
	f.users["bob"].cred = parseCredential("{PLAIN}other")
	f.mu.Unlock()
	check("cached", "bob", "one", nil)
	check("wrong while cached", "bob", "two", auth.ErrInvalidCredentials)

	// A disabled account is refused even with its password remembered.
	check("disabled", "dave", "dpass", auth.ErrDisabled)
	check("disabled again", "dave", "dpass", auth.ErrDisabled)

	// The TTL ends it: the hash (now {PLAIN}other) is checked again.
	clk.t = clk.t.Add(time.Hour)
	check("expired", "bob", "one", auth.ErrInvalidCredentials)
	check("expired, new hash", "bob", "other", nil)

	// A changed file ends it at once (after the reload interval): the old
	// password no longer logs in.
	writeFile(t, path, "bob:{PLAIN}three\n")
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(path, old, old)
	clk.t = clk.t.Add(time.Second)
	check("changed file", "bob", "other", auth.ErrInvalidCredentials)
	check("changed file, new password", "bob", "three", nil)
}
