package system

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-crypt/crypt"
	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/md5crypt"
	"github.com/go-crypt/crypt/algorithm/scrypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// dummyHash is what a login is checked against when there is no hash to
// check (no such user, locked or empty password, unusable hash), so that
// every attempt costs one yescrypt computation at Debian's default cost
// ("j9T", YESCRYPT_COST_FACTOR 5) and timing does not tell which names
// exist. Its password is random and was thrown away.
const dummyHash = "$y$j9T$ahWpifAZNZrAgR8dPakNw1$L6H0SGequpW8asRxxWlLd0y5APFEBrT4MQD.UGvIUV8"

// errUnsupportedHash is returned for a hash no registered decoder reads,
// such as a 13-character DES crypt.
var errUnsupportedHash = errors.New("system: unsupported password hash")

// hasher checks crypt(3) strings with the decoders Debian's shadow may
// hold: yescrypt ($y$, the default since Debian 11), SHA-512-crypt ($6$),
// SHA-256-crypt ($5$), MD5-crypt ($1$) and bcrypt ($2b$, $2a$, $2y$).
// Nothing else is registered on purpose: go-crypt's plaintext and other
// decoders must never turn a shadow field into a cleartext comparison.
type hasher struct {
	dec   *crypt.Decoder
	dummy algorithm.Digest // the built-in one, until pickDummy replaces it
	// shadow is the file pickDummy reads, once, at the first burn; ""
	// keeps the built-in dummy.
	shadow    string
	dummyOnce sync.Once
	// dummyHash is the crypt(3) string of dummy, for tests.
	dummyHash string
	// computed counts hash computations, so that tests can assert that
	// every login costs exactly one whatever its outcome.
	computed atomic.Int64
}

func newHasher() (*hasher, error) {
	dec := crypt.NewDecoder()
	for _, reg := range []func(algorithm.DecoderRegister) error{
		scrypt.RegisterDecoderYescrypt,
		shacrypt.RegisterDecoder,
		md5crypt.RegisterDecoder,
		bcrypt.RegisterDecoderStandard,
	} {
		if err := reg(dec); err != nil {
			return nil, fmt.Errorf("system: registering password decoders: %w", err)
		}
	}
	dummy, err := dec.Decode(dummyHash)
	if err != nil {
		return nil, fmt.Errorf("system: decoding the dummy hash: %w", err)
	}
	return &hasher{dec: dec, dummy: dummy, dummyHash: dummyHash}, nil
}

// pickDummy replaces the built-in dummy by a hash of the shadow file's
// most common algorithm and cost (shadowDummy), so that unknown users
// cost what known ones do on this system. Read lazily, at the first
// login that needs it, as New reads no file.
func (h *hasher) pickDummy() {
	if h.shadow == "" {
		return
	}
	hash := shadowDummy(h.shadow)
	if hash == "" {
		return
	}
	if d, err := h.dec.Decode(hash); err == nil {
		h.dummy, h.dummyHash = d, hash
	}
}

// decode parses a crypt(3) string. It fails for hashes no decoder reads.
func (h *hasher) decode(hash string) (algorithm.Digest, error) {
	d, err := h.dec.Decode(hash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnsupportedHash, err)
	}
	return d, nil
}

// match reports whether password matches d. A decoded digest can still
// fail to compute (parameters out of range); that counts as no match.
func (h *hasher) match(d algorithm.Digest, password string) (bool, error) {
	h.computed.Add(1)
	ok, err := d.MatchAdvanced(password)
	if err != nil {
		return false, fmt.Errorf("system: checking password: %w", err)
	}
	return ok, nil
}

// burn spends one dummy verification, the cost of checking a real
// password; the result means nothing and is dropped.
func (h *hasher) burn(password string) {
	h.dummyOnce.Do(h.pickDummy)
	h.computed.Add(1)
	_, _ = h.dummy.MatchAdvanced(password)
}
