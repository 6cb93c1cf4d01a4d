package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Defaults of a Cache, as the auth_cache_ttl and auth_cache_size
// configuration keys give them.
const (
	// DefaultCacheTTL is how long a verified password is remembered: as
	// Dovecot's auth_cache_ttl. A changed password file invalidates
	// everything at once, so the TTL only bounds how long a password's
	// keyed hash stays in memory for an account nobody changed.
	DefaultCacheTTL = time.Hour
	// DefaultCacheSize is how many users are remembered at most: about a
	// megabyte of memory.
	DefaultCacheSize = 10000
)

// Cache remembers, per user, the password that last verified, so that a
// client logging in again and again (a phone, a webmail, a load test) does
// not pay a slow password hash (bcrypt: about 100 ms of CPU) every time.
// Dovecot does the same with its auth cache.
//
// It is safe by construction:
//   - it holds no password nor the account's hash, only HMAC-SHA-256 of
//     the password under a random key made when the Cache is, which never
//     leaves the process;
//   - only successes are remembered: a wrong password always costs the
//     full hash and gets the failure delay and throttling as before;
//   - an entry is valid only for the generation of the account database
//     it was verified against (the caller bumps it when the file changes:
//     a changed password, a removed user) and for the TTL;
//   - comparisons are constant-time (hmac.Equal);
//   - its size is bounded; when full, an arbitrary entry is dropped.
//
// A Cache is safe for concurrent use. The nil *Cache remembers nothing.
type Cache struct {
	key  [32]byte
	ttl  time.Duration
	max  int
	now  func() time.Time
	mu   sync.Mutex
	seen map[string]cacheEntry // guarded by mu
}

type cacheEntry struct {
	mac     [sha256.Size]byte
	gen     uint64
	expires time.Time
}

// NewCache returns a Cache remembering up to size users for ttl each, or
// nil (caching off) when either is not positive. now is the clock (nil:
// time.Now).
func NewCache(ttl time.Duration, size int, now func() time.Time) *Cache {
	if ttl <= 0 || size <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	c := &Cache{ttl: ttl, max: size, now: now, seen: make(map[string]cacheEntry)}
	if _, err := rand.Read(c.key[:]); err != nil {
		// crypto/rand does not fail on supported systems; without a key
		// the cache would be unsafe, so it stays off.
		return nil
	}
	return c
}

// mac is the keyed hash of user and password. The user is part of it so
// that no two users' entries can ever be swapped.
func (c *Cache) mac(user, password string) [sha256.Size]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Verified reports whether password is the one that last verified for
// user in generation gen of the account database, within the TTL.
func (c *Cache) Verified(user, password string, gen uint64) bool {
	if c == nil {
		return false
	}
	mac := c.mac(user, password)
	c.mu.Lock()
	e, ok := c.seen[user]
	c.mu.Unlock()
	if !ok || e.gen != gen || !c.now().Before(e.expires) {
		return false
	}
	return hmac.Equal(e.mac[:], mac[:])
}

// Remember records that password verified for user in generation gen.
// Call it only after a successful check.
func (c *Cache) Remember(user, password string, gen uint64) {
	if c == nil {
		return
	}
	e := cacheEntry{mac: c.mac(user, password), gen: gen, expires: c.now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[user]; !ok && len(c.seen) >= c.max {
		for k := range c.seen {
			delete(c.seen, k)
			break
		}
	}
	c.seen[user] = e
}

// Forget drops what is remembered of user, e.g. after an account is found
// disabled.
func (c *Cache) Forget(user string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.seen, user)
	c.mu.Unlock()
}

// Len reports how many users are remembered.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
