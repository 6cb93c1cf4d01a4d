package virtual

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Password schemes, named as Dovecot names them in a "{SCHEME}" prefix
// (Dovecot's doc "Password Schemes").
const (
	SchemeBcrypt      = "BCRYPT"
	SchemeBlfCrypt    = "BLF-CRYPT" // Dovecot's name for bcrypt
	SchemeSHA512Crypt = "SHA512-CRYPT"
	SchemeSHA256Crypt = "SHA256-CRYPT"
	SchemeCrypt       = "CRYPT" // crypt(3) string; the format picks the algorithm
	SchemePlain       = "PLAIN" // cleartext: demos and tests only
)

// errUnsupportedScheme marks a hash this package cannot check.
var errUnsupportedScheme = errors.New("virtual: unsupported password scheme")

// credential is a stored password: its scheme (upper case) and hash.
type credential struct {
	scheme string
	hash   string
}

// parseCredential splits "{SCHEME}hash". Without a prefix the scheme is
// CRYPT, as Dovecot's default_pass_scheme.
func parseCredential(s string) credential {
	if strings.HasPrefix(s, "{") {
		if end := strings.IndexByte(s, '}'); end > 0 {
			return credential{scheme: strings.ToUpper(s[1:end]), hash: s[end+1:]}
		}
	}
	return credential{scheme: SchemeCrypt, hash: s}
}

// plaintext reports whether the credential is stored in the clear.
func (c credential) plaintext() bool {
	switch c.scheme {
	case SchemePlain, "CLEAR", "CLEARTEXT", "PLAINTEXT":
		return true
	}
	return false
}

// validate reports whether check can handle the credential, without the
// cost of a check, so that load can log unusable lines once.
func (c credential) validate() error {
	if c.plaintext() {
		return nil
	}
	switch c.scheme {
	case SchemeBcrypt, SchemeBlfCrypt:
		return validateBcrypt(c.hash)
	case SchemeSHA512Crypt, SchemeSHA256Crypt:
		want := map[string]string{SchemeSHA512Crypt: "$6$", SchemeSHA256Crypt: "$5$"}[c.scheme]
		if !strings.HasPrefix(c.hash, want) {
			return fmt.Errorf("%w: {%s} hash does not start with %s", errShaCryptFormat, c.scheme, want)
		}
		_, err := parseShaSetting(c.hash)
		return err
	case SchemeCrypt:
		switch {
		case strings.HasPrefix(c.hash, "$2"):
			return validateBcrypt(c.hash)
		case strings.HasPrefix(c.hash, "$5$"), strings.HasPrefix(c.hash, "$6$"):
			_, err := parseShaSetting(c.hash)
			return err
		}
	}
	_, err := c.check("")
	return err
}

func validateBcrypt(hash string) error {
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return fmt.Errorf("virtual: bcrypt hash: %w", err)
	}
	return nil
}

// check reports whether password matches. Every branch but a malformed
// hash takes time independent of where the password differs.
func (c credential) check(password string) (bool, error) {
	if c.plaintext() {
		// Compared as SHA-256 digests: ConstantTimeCompare returns at once
		// on a length mismatch, which would tell the stored length.
		stored, given := sha256.Sum256([]byte(c.hash)), sha256.Sum256([]byte(password))
		return subtle.ConstantTimeCompare(stored[:], given[:]) == 1, nil
	}
	switch c.scheme {
	case SchemeBcrypt, SchemeBlfCrypt:
		return checkBcrypt(c.hash, password)
	case SchemeSHA512Crypt:
		if !strings.HasPrefix(c.hash, "$6$") {
			return false, fmt.Errorf("%w: {%s} hash does not start with $6$", errShaCryptFormat, c.scheme)
		}
		return checkShaCrypt(c.hash, password)
	case SchemeSHA256Crypt:
		if !strings.HasPrefix(c.hash, "$5$") {
			return false, fmt.Errorf("%w: {%s} hash does not start with $5$", errShaCryptFormat, c.scheme)
		}
		return checkShaCrypt(c.hash, password)
	case SchemeCrypt:
		switch {
		case strings.HasPrefix(c.hash, "$2"):
			return checkBcrypt(c.hash, password)
		case strings.HasPrefix(c.hash, "$5$"), strings.HasPrefix(c.hash, "$6$"):
			return checkShaCrypt(c.hash, password)
		}
		prefix, _, _ := strings.Cut(strings.TrimPrefix(c.hash, "$"), "$")
		return false, fmt.Errorf("%w: crypt format %q (supported: $2a$/$2b$/$2y$, $5$, $6$)", errUnsupportedScheme, "$"+prefix+"$")
	}
	return false, fmt.Errorf("%w: {%s} (supported: BCRYPT, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, CRYPT, PLAIN)", errUnsupportedScheme, c.scheme)
}

func checkBcrypt(hash, password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	case errors.Is(err, bcrypt.ErrPasswordTooLong):
		// Over 72 bytes cannot have been the stored password.
		return false, nil
	}
	return false, fmt.Errorf("virtual: bcrypt hash: %w", err)
}
