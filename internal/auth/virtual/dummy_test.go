package virtual

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/internal/auth"
)

// SHA-512-crypt hashes of "Hello world!" (Drepper's test vectors) at
// 5000 rounds (the default) and at 10000.
const (
	sha512Secret   = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	sha512Rounds10 = "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
)

func TestDummyFor(t *testing.T) {
	bc := bcryptHash(t, "x")
	tests := []struct {
		name  string
		lines []string
		want  string // the dummy's hash; "" for the built-in one
	}{
		{"empty", nil, dummyHash},
		{"all unusable", []string{"a:{ARGON2ID}$argon2id$x"}, dummyHash},
		{"sha-crypt file", []string{"a:{PLAIN}p", "b:{SHA512-CRYPT}" + sha512Secret, "c:" + sha512Secret}, sha512Secret},
		{"bcrypt wins", []string{"a:{BCRYPT}" + bc, "b:" + sha512Secret, "c:{BLF-CRYPT}" + bc}, bc},
		{"rounds count", []string{"a:" + sha512Rounds10, "b:" + sha512Secret, "c:" + sha512Rounds10}, sha512Rounds10},
		{"tie: first line", []string{"a:" + sha512Rounds10, "b:" + sha512Secret}, sha512Rounds10},
		{"plaintext file", []string{"a:{PLAIN}p", "b:{PLAIN}q"}, "p"},
	}
	for _, tt := range tests {
		users, _ := parseFile([]byte(strings.Join(tt.lines, "\n")))
		if got := dummyFor(users).hash; got != tt.want {
			t.Errorf("%s: dummyFor = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestUnknownUserPaysTheHash checks that an unknown user and a wrong
// password get the same error, and that the unknown user's password is
// checked against the dummy (of the file's own scheme and cost), while a
// known user's is checked against the real hash only.
func TestUnknownUserPaysTheHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	writeFile(t, path, "carol:{SHA512-CRYPT}"+sha512Secret+"::::/home/carol\n")
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.dummy.hash != sha512Secret {
		t.Errorf("dummy = %q, want the file's SHA-512-crypt hash", f.dummy.hash)
	}
	ctx := context.Background()
	tests := []struct {
		user, pass string
		dummy      int64 // dummy checks it costs
		wantErr    error
	}{
		{"carol", "wrong", 0, auth.ErrInvalidCredentials},
		{"nobody", "wrong", 1, auth.ErrInvalidCredentials},
		{"nobody", "Hello world!", 1, auth.ErrInvalidCredentials}, // the dummy's own password does not log in
		{"bad name/..", "Hello world!", 1, auth.ErrInvalidCredentials},
		{"carol", "", 1, auth.ErrInvalidCredentials},
		{"carol", "Hello world!", 0, nil},
	}
	for _, tt := range tests {
		before := f.dummyChecks.Load()
		_, err := f.Authenticate(ctx, tt.user, tt.pass)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tt.user, tt.pass, err, tt.wantErr)
		}
		if got := f.dummyChecks.Load() - before; got != tt.dummy {
			t.Errorf("Authenticate(%q, %q) made %d dummy checks, want %d", tt.user, tt.pass, got, tt.dummy)
		}
	}
}
