package fanout

import "testing"

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
