package daemon

import (
	"testing"

	"github.com/postern/postern/internal/config"
)

// TestServerID: server_id maps onto the engine's ID answer (RFC 2971).
func TestServerID(t *testing.T) {
	for _, tc := range []struct {
		serverID, hide bool
	}{{true, false}, {false, true}} {
		cfg := config.Default()
		cfg.ServerID = tc.serverID
		d := &Daemon{cfg: cfg}
		if got := d.serverOptions(nil, nil).HideID; got != tc.hide {
			t.Errorf("server_id = %v: HideID = %v, want %v", tc.serverID, got, tc.hide)
		}
	}
}
