package virtual

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func bcryptHash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestCredentialCheck(t *testing.T) {
	bc := bcryptHash(t, "secret") // "$2a$04$..."
	bc2y := "$2y$" + strings.TrimPrefix(bc, "$2a$")
	bc2b := "$2b$" + strings.TrimPrefix(bc, "$2a$")
	sha512 := "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	sha256 := "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
	tests := []struct {
		stored, password string
		want             bool
		wantErr          error
	}{
		{"{BCRYPT}" + bc, "secret", true, nil},
		{"{BCRYPT}" + bc, "Secret", false, nil},
		{"{BCRYPT}" + bc2y, "secret", true, nil},
		{"{BLF-CRYPT}" + bc2b, "secret", true, nil},
		{"{blf-crypt}" + bc2y, "secret", true, nil},
		{"{BCRYPT}" + bc, strings.Repeat("x", 100), false, nil},
		{"{SHA512-CRYPT}" + sha512, "Hello world!", true, nil},
		{"{SHA512-CRYPT}" + sha512, "Hello world", false, nil},
		{"{SHA256-CRYPT}" + sha256, "Hello world!", true, nil},
		{"{CRYPT}" + sha512, "Hello world!", true, nil},
		{sha512, "Hello world!", true, nil},
		{bc2y, "secret", true, nil},
		{"{PLAIN}secret", "secret", true, nil},
		{"{PLAIN}secret", "secret2", false, nil},
		{"{CLEAR}secret", "secret", true, nil},
		{"{SHA512-CRYPT}" + sha256, "Hello world!", false, errShaCryptFormat},
		{"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", "x", false, errUnsupportedScheme},
		{"{CRYPT}$1$salt$hash", "x", false, errUnsupportedScheme},
		{"{MD5-CRYPT}$1$salt$hash", "x", false, errUnsupportedScheme},
		{"abDES..hash", "x", false, errUnsupportedScheme},
	}
	for _, tt := range tests {
		c := parseCredential(tt.stored)
		got, err := c.check(tt.password)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("check(%q, %q) = %v, %v, want %v, %v", tt.stored, tt.password, got, err, tt.want, tt.wantErr)
		}
		if verr := c.validate(); (verr == nil) != (tt.wantErr == nil) {
			t.Errorf("validate(%q) = %v, want error %v", tt.stored, verr, tt.wantErr)
		}
	}
}

func TestDummyHash(t *testing.T) {
	cost, err := bcrypt.Cost([]byte(dummyHash))
	if err != nil || cost != DefaultCost {
		t.Errorf("bcrypt.Cost(dummyHash) = %d, %v, want %d, nil", cost, err, DefaultCost)
	}
}
