package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache(time.Minute, 2, func() time.Time { return now })
	if c.Verified("a", "pw", 1) {
		t.Fatal("empty cache verified")
	}
	c.Remember("a", "pw", 1)
	for _, tt := range []struct {
		user, pass string
		gen        uint64
		want       bool
	}{
		{"a", "pw", 1, true},
		{"a", "pw2", 1, false},
		{"a", "", 1, false},
		{"a", "pw", 2, false}, // another generation of the database
		{"b", "pw", 1, false},
	} {
		if got := c.Verified(tt.user, tt.pass, tt.gen); got != tt.want {
			t.Errorf("Verified(%q, %q, %d) = %v, want %v", tt.user, tt.pass, tt.gen, got, tt.want)
		}
	}
	now = now.Add(time.Minute)
	if c.Verified("a", "pw", 1) {
		t.Error("verified after the TTL")
	}
	c.Remember("a", "pw", 1)
	c.Forget("a")
	if c.Verified("a", "pw", 1) {
		t.Error("verified after Forget")
	}

	// Bounded: never more than size users.
	for i := range 10 {
		c.Remember(fmt.Sprint("u", i), "pw", 1)
		if c.Len() > 2 {
			t.Fatalf("Len = %d after %d users, want at most 2", c.Len(), i+1)
		}
	}
	if !c.Verified("u9", "pw", 1) {
		t.Error("the newest user was not kept")
	}
}

func TestCacheOff(t *testing.T) {
	for _, c := range []*Cache{NewCache(0, 10, nil), NewCache(time.Hour, 0, nil), nil} {
		c.Remember("a", "pw", 1)
		if c.Verified("a", "pw", 1) || c.Len() != 0 {
			t.Errorf("a cache that is off remembered")
		}
		c.Forget("a")
	}
}

// The key is per Cache: another process (or Cache) cannot reuse a MAC.
func TestCacheKeyed(t *testing.T) {
	a, b := NewCache(time.Hour, 1, nil), NewCache(time.Hour, 1, nil)
	if a.mac("u", "p") == b.mac("u", "p") {
		t.Error("two caches share a key")
	}
	if a.mac("u", "p") == a.mac("up", "") {
		t.Error("user and password are not separated")
	}
}
