package fanout

import (
	"testing"
	"time"
)

func pending(ch chan struct{}) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		default:
			return n
		}
	}
}

func TestWatchers(t *testing.T) {
	var w Watchers
	a, b, c := make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}, 1)
	w.Register(1, a)
	w.Register(1, b)
	w.Register(2, c)
	w.Notify(1)
	w.Notify(1) // coalesced, never blocks
	if got := [3]int{pending(a), pending(b), pending(c)}; got != [3]int{1, 1, 0} {
		t.Errorf("after two Notify(1): pending %v, want [1 1 0]", got)
	}
	w.Unregister(1, a)
	w.Notify(1)
	w.Notify(2)
	if got := [3]int{pending(a), pending(b), pending(c)}; got != [3]int{0, 1, 1} {
		t.Errorf("after Unregister(1, a): pending %v, want [0 1 1]", got)
	}
	w.Unregister(1, b)
	w.Unregister(2, c)
	if len(w.m) != 0 {
		t.Errorf("watchers left after unregistering all: %v", w.m)
	}
}

func TestRegistry(t *testing.T) {
	var r Registry[int]
	made := 0
	newInt := func() *int { made++; v := made; return &v }
	x := r.Acquire("a", newInt)
	y := r.Acquire("a", newInt)
	z := r.Acquire("b", newInt)
	if x != y || x == z || made != 2 {
		t.Fatalf("Acquire: same key gave different values or a key shared another's (made %d)", made)
	}
	r.Release("a")
	if r.Acquire("a", newInt) != x {
		t.Error("a value was dropped while still in use")
	}
	r.Release("a")
	r.Release("a")
	if r.Acquire("a", newInt) == x || made != 3 {
		t.Error("a value outlived its last Release")
	}
}

func TestRegistryReleaseLater(t *testing.T) {
	var r Registry[int]
	made := 0
	newInt := func() *int { made++; v := made; return &v }
	x := r.Acquire("a", newInt)
	r.ReleaseLater("a", time.Hour)
	if r.Acquire("a", newInt) != x || made != 1 {
		t.Fatal("a lingering value was not found again")
	}
	// Acquired again: the pending drop must not take it.
	e := r.m["a"]
	r.expire("a", e)
	if r.Acquire("a", newInt) != x {
		t.Fatal("a value in use was dropped when its linger ended")
	}
	r.ReleaseLater("a", time.Hour)
	r.ReleaseLater("a", time.Hour)
	r.expire("a", e) // the linger ends with no user
	if r.Acquire("a", newInt) == x || made != 2 {
		t.Error("a value outlived its linger")
	}
	r.Release("a")
	if len(r.m) != 0 {
		t.Errorf("entries left after the last Release: %v", r.m)
	}
}

func TestNotifyNew(t *testing.T) {
	var w Watchers
	a := make(chan struct{}, 1)
	if w.NotifyNew(1, 5) {
		t.Errorf("NotifyNew(1, 5) with no watcher = true, want false")
	}
	w.Register(1, a)
	w.NotifyAt(1, 7) // this process's commit
	if pending(a) != 1 {
		t.Fatalf("NotifyAt did not signal")
	}
	// The index watcher, woken by that same commit, finds 7: no second
	// signal.
	if w.NotifyNew(1, 7) || pending(a) != 0 {
		t.Errorf("NotifyNew(1, 7) after NotifyAt(1, 7) signalled again")
	}
	// Another process committed: 8 is news, once.
	if !w.NotifyNew(1, 8) || pending(a) != 1 {
		t.Errorf("NotifyNew(1, 8) did not signal")
	}
	if w.NotifyNew(1, 8) {
		t.Errorf("NotifyNew(1, 8) twice signalled twice")
	}
	w.Unregister(1, a)
	if len(w.seen) != 0 {
		t.Errorf("seen kept after the last watcher left: %v", w.seen)
	}
}
