//go:build !pam

package daemon

import (
	"errors"
	"log/slog"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/config"
)

// newPAM refuses: this build has no PAM (it needs cgo and libpam).
func newPAM(cfg *config.Config, log *slog.Logger) (auth.Authenticator, error) {
	return nil, errNoPAM
}

// errNoPAM is what a build without the pam tag says to auth = pam.
var errNoPAM = errors.New("daemon: auth = pam needs a build with PAM support (go build -tags pam, with libpam0g-dev installed)")
