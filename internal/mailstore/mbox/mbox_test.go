package mbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
	"github.com/postern/postern/internal/mailstore/storetest"
)

// testOptions are the options of a test store in dir: no fsync, UTC, a
// fixed host and sender, a short poll.
func testOptions(dir string) mbox.Options {
	return mbox.Options{
		Root:         filepath.Join(dir, "home"),
		Inbox:        filepath.Join(dir, "spool", "user"),
		NoFsync:      true,
		Location:     time.UTC,
		Hostname:     "vm",
		Sender:       "uwtest@vm",
		PollInterval: 20 * time.Millisecond,
	}
}

func openTest(t testing.TB, dir string) *mbox.Store {
	t.Helper()
	return openTestWith(t, dir, testOptions(dir))
}

// mtaAppend appends text to the mailbox file as an MTA or MDA delivers:
// no lock of ours, no X-UID, no status headers.
func mtaAppend(t testing.TB, file, text string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// openTestWith is openTest with options of the caller's (testOptions(dir)
// changed).
func openTestWith(t testing.TB, dir string, opts mbox.Options) *mbox.Store {
	t.Helper()
	// The spool directory exists on a real system (/var/mail).
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := mbox.OpenStore(opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v", dir, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mailstore.Store { return openTest(t, t.TempDir()) })
}

func TestPersistent(t *testing.T) {
	storetest.RunPersistent(t, func(t *testing.T, loc string) mailstore.Store { return openTest(t, loc) })
}

// TestNotMbox: a file in the mail directory that is not an mbox (UW's home
// directory holds the user's other files too) is not listed and cannot be
// opened; opening it says it does not exist, as LIST implies.
func TestNotMbox(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	opts := testOptions(dir)
	if err := os.WriteFile(filepath.Join(opts.Root, "notes.txt"), []byte("just some notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Open(context.Background(), "notes.txt")
	if !errors.Is(err, mailstore.ErrNotExist) {
		t.Errorf("Open(notes.txt) = %v, want ErrNotExist", err)
	}
	list, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range list {
		if mb.Name == "notes.txt" {
			t.Errorf("List shows notes.txt: %+v", mb)
		}
	}
}
