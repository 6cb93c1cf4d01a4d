package virtual

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/postern/postern/internal/auth"
)

// BenchmarkAuthenticate is a login of a user whose hash is bcrypt at the
// default cost (10, as `postern user add` writes), without and with the
// cache of verified passwords (issue 7).
func BenchmarkAuthenticate(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "passwd")
	writeFile(b, path, "load1:{BCRYPT}"+string(h)+"\n")
	for _, bc := range []struct {
		name  string
		cache *auth.Cache
	}{
		{"nocache", nil},
		{"cache", auth.NewCache(time.Hour, 100, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := Open(path, Options{Cache: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// The first login pays the hash in both cases.
			if _, err := f.Authenticate(ctx, "load1", "secret"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := f.Authenticate(ctx, "load1", "secret"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
