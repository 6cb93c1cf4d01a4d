package sqlindex

import (
	"os"
	"path/filepath"
	"strings"
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

// TestStmts checks that queries outside transactions are prepared once per
// index, shared by its handles, and bounded.
func TestStmts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.sqlite")
	a, b := openT(t, path), openT(t, path)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	for i := range 3 {
		if _, err := a.ExecContext(ctx, `INSERT INTO t VALUES (?)`, i); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := b.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE x <= ?`, i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("count = %d, %v; want %d", n, err, i+1)
		}
	}
	if got := len(a.p.stmts.m); got != 2 {
		t.Errorf("%d statements prepared, want 2", got)
	}
	for i := range maxStmts + 10 {
		q := `SELECT x FROM t WHERE x = ` + string(rune('0'+i%10)) + ` LIMIT ` + string(rune('1'+i/10%9)) + strings.Repeat(" ", i)
		rows, err := a.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if got := len(a.p.stmts.m); got > maxStmts {
		t.Errorf("%d statements kept, want at most %d", got, maxStmts)
	}
	// A statement that cannot be prepared gives its error when run.
	if _, err := a.QueryContext(ctx, `SELECT nope FROM nowhere`); err == nil {
		t.Error("a bad query ran")
	}
}
