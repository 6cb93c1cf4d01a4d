package tlsconfig

import (
	"os"
	"path/filepath"
)

// Where UW imapd and ipop3d, as Debian built them, looked for certificates
// (uw-imap-docs/SSLBUILD: "imapd.pem" and "ipop3d.pem", key and certificate
// in one file unless a separate key file exists).
const (
	UWCertDir = "/etc/ssl/certs"
	UWKeyDir  = "/etc/ssl/private"
)

// UWDefaultPaths returns the certificate and key files UW would use for
// program ("imapd" or "ipop3d"; a path is reduced to its base name):
// /etc/ssl/certs/PROGRAM.pem and /etc/ssl/private/PROGRAM.pem, or the
// certificate file again for the key when the private one does not exist
// (the combined file of SSLBUILD). It only computes paths; Load checks them.
func UWDefaultPaths(program string) (cert, key string) {
	return uwPaths(UWCertDir, UWKeyDir, program)
}

func uwPaths(certDir, keyDir, program string) (cert, key string) {
	name := filepath.Base(program) + ".pem"
	cert = filepath.Join(certDir, name)
	key = filepath.Join(keyDir, name)
	if _, err := os.Stat(key); err != nil {
		key = cert
	}
	return cert, key
}
