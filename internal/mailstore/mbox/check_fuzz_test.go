package mbox

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerifyJournal: `postern fsck` reads the journals a crash left
// (verifyJournal) without applying them; any bytes give an answer, no
// panic, and only a journal whose length and checksum hold is complete.
func FuzzVerifyJournal(f *testing.F) {
	tail := []byte("From a@b Thu Nov 26 01:00:00 2026\nX-UID: 3\n\nbody\n\n")
	hdr := []byte(journalMagic)
	for _, v := range []uint64{42, 100, 300, uint64(len(tail))} {
		hdr = binary.BigEndian.AppendUint64(hdr, v)
	}
	sum := sha256.Sum256(append(append([]byte{}, hdr...), tail...))
	good := append(append(append([]byte{}, hdr...), tail...), sum[:]...)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(hdr)
	f.Add([]byte(journalMagic))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "j")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err := verifyJournal(p)
		if len(data) < 40+32 && err == nil {
			t.Errorf("verifyJournal(%d bytes) = nil, want an incomplete journal", len(data))
		}
		if string(data) == string(good) && err != nil {
			t.Errorf("verifyJournal(good) = %v", err)
		}
	})
}
