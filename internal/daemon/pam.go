//go:build pam

package daemon

import (
	"fmt"
	"log/slog"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/system"
	"github.com/postern/postern/internal/config"
)

// newPAM checks passwords with PAM (service pam_service).
func newPAM(cfg *config.Config, log *slog.Logger) (auth.Authenticator, error) {
	p, err := system.NewPAM(cfg.PAMService, system.PAMOptions{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return p, nil
}
