package memstore_test

import (
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
	"github.com/postern/postern/internal/mailstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) mailstore.Store { return memstore.New(nil) })
}

func TestPersistent(t *testing.T) {
	stores := map[string]*memstore.Store{}
	storetest.RunPersistent(t, func(t *testing.T, loc string) mailstore.Store {
		if stores[loc] == nil {
			stores[loc] = memstore.New(nil)
		}
		return stores[loc]
	})
}
