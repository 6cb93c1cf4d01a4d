package imapwire

import (
	"bufio"
	"strings"
	"sync"
	"testing"
)

// TestParkingEncoder: a parking encoder holds a write buffer only while
// something is buffered. Park gives it back to the pool (not with data
// in it), the next write takes one again and writes to the same
// destination, and Pin keeps it for good.
func TestParkingEncoder(t *testing.T) {
	// (The race detector drops some of a pool's Puts: the test does not
	// ask which buffer comes back.)
	pool := &sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64) }}
	var out strings.Builder
	e := NewParkingEncoder(&out, pool)
	if e.w != nil {
		t.Fatal("a new parking encoder holds a buffer before its first write")
	}
	if err := e.Flush(); err != nil || out.Len() != 0 {
		t.Fatalf("Flush with nothing written = %v, wrote %q", err, out.String())
	}
	e.Atom("*").SP().Atom("OK").CRLF()
	e.Park() // data buffered: kept
	if e.w == nil {
		t.Fatal("Park gave back a buffer holding unwritten data")
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	e.Park()
	if e.w != nil {
		t.Fatal("Park after Flush kept the buffer")
	}
	e.Atom("* BYE").CRLF()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "* OK\r\n* BYE\r\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
	pinned := e.Pin()
	e.Park()
	if e.w != pinned {
		t.Error("Park gave back a pinned buffer")
	}
}
