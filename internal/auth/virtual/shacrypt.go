package virtual

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt ($5$ SHA-256, $6$ SHA-512) as specified by Ulrich Drepper,
// "Unix crypt using SHA-256 and SHA-512" (glibc 2.7, 2007): the formats of
// Dovecot's {SHA256-CRYPT} and {SHA512-CRYPT} and of most shadow files.

const (
	shaCryptRoundsDefault = 5000
	shaCryptRoundsMin     = 1000
	shaCryptRoundsMax     = 999999999
	shaCryptSaltMax       = 16
	cryptAlphabet         = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

var errShaCryptFormat = errors.New("virtual: malformed SHA-crypt hash")

// Byte orders of the final encoding, from the specification: groups of
// three digest bytes, each written as four characters.
var (
	sha256Order = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
	sha512Order = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
)

// checkShaCrypt reports whether password matches a "$5$..." or "$6$..."
// hash, comparing in constant time.
func checkShaCrypt(hashed, password string) (bool, error) {
	got, err := shaCrypt(hashed, password)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hashed)) == 1, nil
}

// shaCrypt computes the SHA-crypt string of password using the magic,
// rounds and salt of setting ("$6$[rounds=N$]salt[$...]").
func shaCrypt(setting, password string) (string, error) {
	st, err := parseShaSetting(setting)
	if err != nil {
		return "", err
	}
	newHash, order := sha512.New, sha512Order
	if st.magic == "$5$" {
		newHash, order = sha256.New, sha256Order
	}
	magic, rounds, customRounds, salt := st.magic, st.rounds, st.customRounds, st.salt
	p, s := []byte(password), []byte(salt)

	h := newHash()
	size := h.Size()
	// Digest B: password, salt, password.
	h.Write(p)
	h.Write(s)
	h.Write(p)
	b := h.Sum(nil)

	// Digest A.
	h.Reset()
	h.Write(p)
	h.Write(s)
	writeRepeated(h, b, len(p))
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(p)
		}
	}
	a := h.Sum(nil)

	// P sequence: digest of the password repeated len(p) times, stretched
	// to len(p) bytes.
	h.Reset()
	for range len(p) {
		h.Write(p)
	}
	pSeq := stretch(h.Sum(nil), len(p))

	// S sequence: digest of the salt repeated 16+A[0] times, stretched to
	// len(s) bytes.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(s)
	}
	sSeq := stretch(h.Sum(nil), len(s))

	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(pSeq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sSeq)
		}
		if i%7 != 0 {
			h.Write(pSeq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pSeq)
		}
		c = h.Sum(c[:0])
	}

	var out strings.Builder
	out.WriteString(magic)
	if customRounds {
		fmt.Fprintf(&out, "rounds=%d$", rounds)
	}
	out.WriteString(salt)
	out.WriteByte('$')
	for _, g := range order {
		encode24(&out, c[g[0]], c[g[1]], c[g[2]], 4)
	}
	if size == sha512.Size {
		encode24(&out, 0, 0, c[63], 2)
	} else {
		encode24(&out, 0, c[31], c[30], 3)
	}
	return out.String(), nil
}

// shaSetting is the parameter part of a SHA-crypt string.
type shaSetting struct {
	magic        string // "$5$" or "$6$"
	rounds       int
	customRounds bool // "rounds=N$" was given and is echoed in the output
	salt         string
}

// parseShaSetting parses "$6$[rounds=N$]salt[$hash]".
func parseShaSetting(setting string) (shaSetting, error) {
	var st shaSetting
	switch {
	case strings.HasPrefix(setting, "$5$"), strings.HasPrefix(setting, "$6$"):
		st.magic = setting[:3]
	default:
		return st, errShaCryptFormat
	}
	rest := setting[3:]
	st.rounds = shaCryptRoundsDefault
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, found := strings.Cut(r, "$")
		if !found {
			return st, fmt.Errorf("%w: no $ after rounds", errShaCryptFormat)
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return st, fmt.Errorf("%w: rounds %q", errShaCryptFormat, num)
		}
		// The specification clamps out-of-range counts rather than
		// refusing them.
		st.rounds = int(min(max(n, shaCryptRoundsMin), shaCryptRoundsMax))
		st.customRounds = true
		rest = after
	}
	st.salt, _, _ = strings.Cut(rest, "$")
	if len(st.salt) > shaCryptSaltMax {
		st.salt = st.salt[:shaCryptSaltMax]
	}
	return st, nil
}

// writeRepeated writes n bytes of b repeated.
func writeRepeated(h hash.Hash, b []byte, n int) {
	for ; n > len(b); n -= len(b) {
		h.Write(b)
	}
	h.Write(b[:n])
}

// stretch returns n bytes of d repeated.
func stretch(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}

// encode24 writes n characters of the 24-bit group b2 b1 b0, low bits first.
func encode24(out *strings.Builder, b2, b1, b0 byte, n int) {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for range n {
		out.WriteByte(cryptAlphabet[w&0x3f])
		w >>= 6
	}
}
