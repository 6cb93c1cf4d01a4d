package system

import (
	"testing"
	"time"
)

func TestDay(t *testing.T) {
	tests := []struct {
		in   time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(secondsPerDay-1, 0), 0},
		{time.Unix(secondsPerDay, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Date(2024, 10, 4, 23, 59, 59, 0, time.UTC), 20000},
		{time.Date(2024, 10, 5, 0, 30, 0, 0, time.FixedZone("CEST", 2*60*60)), 20000}, // still 4 Oct in UTC
	}
	for _, tt := range tests {
		if got := day(tt.in); got != tt.want {
			t.Errorf("day(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		in        string
		wantState lockState
		wantHash  string
	}{
		{"$y$j9T$s$h", unlocked, "$y$j9T$s$h"},
		{"!$y$j9T$s$h", locked, "$y$j9T$s$h"},
		{"!!$6$s$h", locked, "$6$s$h"},
		{"!", noPassword, ""},
		{"!!", noPassword, ""},
		{"*", noPassword, ""},
		{"*LK*", noPassword, ""},
		{"*$6$s$h", noPassword, ""},
		{"!*", noPassword, ""},
		{"", emptyHash, ""},
		{"x", unlocked, "x"}, // not a hash: fails to decode later
	}
	for _, tt := range tests {
		state, hash := classify(tt.in)
		if state != tt.wantState || hash != tt.wantHash {
			t.Errorf("classify(%q) = %v, %q; want %v, %q", tt.in, state, hash, tt.wantState, tt.wantHash)
		}
	}
}

func TestAgeReason(t *testing.T) {
	const today = 20000
	entry := func(lastChg, max, inactive, expire int64) shadowEntry {
		return shadowEntry{lastChg: lastChg, min: 0, max: max, warn: 7, inactive: inactive, expire: expire}
	}
	tests := []struct {
		name       string
		e          shadowEntry
		wantReason string
		wantGrace  bool
	}{
		{"no aging", entry(-1, -1, -1, -1), "", false},
		{"usual Debian", entry(19000, 99999, -1, -1), "", false},
		{"expire tomorrow", entry(19000, 99999, -1, today+1), "", false},
		{"expire today", entry(19000, 99999, -1, today), reasonAccountExp, false},
		{"expire 0 (chage -E 0)", entry(19000, 99999, -1, 0), reasonAccountExp, false},
		{"last change 0", entry(0, 99999, -1, -1), reasonMustChange, false},
		{"last change 0, no max", entry(0, -1, -1, -1), reasonMustChange, false},
		{"expired account wins over must change", entry(0, -1, -1, 5), reasonAccountExp, false},
		{"max reached today", entry(today-90, 90, -1, -1), "", false},
		{"max passed, no inactive", entry(today-91, 90, -1, -1), reasonPasswordExp, false},
		{"max passed, inactive 0", entry(today-91, 90, 0, -1), reasonPasswordExp, false},
		{"in grace", entry(today-91, 90, 10, -1), "", true},
		{"last grace day", entry(today-100, 90, 10, -1), "", true},
		{"grace over", entry(today-101, 90, 10, -1), reasonPasswordExp, false},
		{"no max, unset last change", entry(-1, 90, -1, -1), "", false},
		{"last change in the future", entry(today+5, 90, -1, -1), "", false},
	}
	for _, tt := range tests {
		reason, grace := ageReason(tt.e, today)
		if reason != tt.wantReason || grace != tt.wantGrace {
			t.Errorf("ageReason(%s: %+v, %d) = %q, %v; want %q, %v", tt.name, tt.e, today, reason, grace, tt.wantReason, tt.wantGrace)
		}
	}
}
