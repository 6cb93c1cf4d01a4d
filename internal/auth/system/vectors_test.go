package system

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// vector is one line of testdata/vectors.txt: a hash made by Debian's own
// tools (mkpasswd from the whois package, openssl passwd) for a password.
type vector struct {
	method, password, hash string
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("testdata/vectors.txt: bad line %q", line)
		}
		vs = append(vs, vector{fields[0], fields[1], fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestVectors pins that every hash Debian's tools write verifies with its
// password and not with a near miss.
func TestVectors(t *testing.T) {
	h, err := newHasher()
	if err != nil {
		t.Fatal(err)
	}
	vs := readVectors(t)
	if len(vs) < 20 {
		t.Fatalf("only %d vectors read", len(vs))
	}
	for _, v := range vs {
		d, err := h.decode(v.hash)
		if err != nil {
			t.Errorf("decode(%s %q) = %v, want nil", v.method, v.hash, err)
			continue
		}
		for _, pw := range []struct {
			password string
			want     bool
		}{
			{v.password, true},
			{v.password + "x", false},
			{strings.ToUpper(v.password), strings.ToUpper(v.password) == v.password},
			{"", false},
		} {
			got, err := h.match(d, pw.password)
			if err != nil || got != pw.want {
				t.Errorf("match(%s %q, %q) = %v, %v; want %v, nil", v.method, v.hash, pw.password, got, err, pw.want)
			}
		}
	}
}

func TestUnsupportedHashes(t *testing.T) {
	h, err := newHasher()
	if err != nil {
		t.Fatal(err)
	}
	for _, hash := range []string{
		"",
		"x",
		"*",
		"!",
		"abJnggxhB/yWI",            // DES crypt
		"$plaintext$correct horse", // go-crypt plaintext: must never be honoured
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",  // not in shadow
		"$7$CU..../....abcdefgh$Xc3O6pqhGxV9NIIJTtdmbBQzjFJGq2x9mV4W1XYd4XA", // scrypt, not registered
		"$y$",
		"$y$j9T$",
		"$6$",
	} {
		if d, err := h.decode(hash); err == nil {
			t.Errorf("decode(%q) = %v, nil; want an error", hash, d)
		}
	}
}

func BenchmarkDummy(b *testing.B) {
	h, err := newHasher()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		h.burn("password")
	}
}
