package sqlindex

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openT(t *testing.T, path string) *DB {
	t.Helper()
	d, err := Open("file:"+path, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`CREATE TABLE IF NOT EXISTS t (x)`); err != nil {
		t.Fatal(err)
	}
	d.Ready()
	return d
}

// TestPool checks that handles on one index share a *sql.DB, that it
// outlives its last user for Linger, and that a replaced file gets new
// connections.
func TestPool(t *testing.T) {
	defer func(l time.Duration) { Linger = l }(Linger)
	Linger = time.Hour
	path := filepath.Join(t.TempDir(), "index.sqlite")

	a := openT(t, path)
	b := openT(t, path)
	if a.DB != b.DB {
		t.Fatal("two handles on one index do not share the *sql.DB")
	}
	a.Close()
	a.Close() // a second Close is harmless
	b.Close()
	c := openT(t, path)
	if c.DB != a.DB {
		t.Fatal("an index reopened within Linger got new connections")
	}
	if err := c.Ping(); err != nil {
		t.Fatalf("the lingering *sql.DB was closed: %v", err)
	}

	// The file is removed (a lost index): new connections, new file.
	os.Remove(path)
	d := openT(t, path)
	if d.DB == c.DB {
		t.Fatal("a removed index file was served by the old connections")
	}
	if err := c.Ping(); err != nil {
		t.Fatalf("the old *sql.DB was closed under its user: %v", err)
	}
	c.Close()
	if err := c.Ping(); err == nil {
		t.Error("the replaced *sql.DB is still open after its last user")
	}
	d.Close()
}

func TestPoolNoLinger(t *testing.T) {
	defer func(l time.Duration) { Linger = l }(Linger)
	Linger = 0
	path := filepath.Join(t.TempDir(), "index.sqlite")
	a := openT(t, path)
	a.Close()
	if err := a.Ping(); err == nil {
		t.Error("with Linger 0 the *sql.DB stays open after its last user")
	}
	b, err := Open("file:"+path, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Discard()
	if err := b.Ping(); err == nil {
		t.Error("Discard left the *sql.DB open")
	}
}
