package maildir

import (
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/storetest"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{NoFsync: true})
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
