package daemon

import (
	"testing"

	"github.com/postern/postern/internal/config"
)

func TestActivatedService(t *testing.T) {
	tests := []struct {
		name string
		port int
		want config.Service
	}{
		{"imap", 993, config.ServiceIMAP}, // the name wins over the port
		{"imaps", 143, config.ServiceIMAPS},
		{"unknown", 993, config.ServiceIMAPS},
		{"unknown", 143, config.ServiceIMAP},
		{"postern.socket", 41993, config.ServiceIMAP},
		{"connection", ServicePort("imaps"), config.ServiceIMAPS},
	}
	for _, tt := range tests {
		if got := activatedService(tt.name, tt.port); got != tt.want {
			t.Errorf("activatedService(%q, %d) = %q, want %q", tt.name, tt.port, got, tt.want)
		}
	}
}
