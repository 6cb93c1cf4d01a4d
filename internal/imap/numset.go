package imap

import (
	"fmt"
	"strconv"
	"strings"
)

// NumKind says whether the numbers of a NumSet are message sequence numbers
// or UIDs (RFC 3501 §2.3.1).
type NumKind int

// Number kinds.
const (
	NumKindSeq NumKind = iota
	NumKindUID
)

// NumRange is one element of a sequence set: Start:Stop, or a single number
// when Start == Stop. The value 0 stands for "*", the largest number in use
// (RFC 3501 §9 seq-number). Start may be greater than Stop: "4:2" means 2:4.
type NumRange struct {
	Start, Stop uint32
}

// NumSet is a sequence set (RFC 3501 §9 sequence-set), or the saved search
// result "$" (RFC 5182) when SearchRes is true (then Ranges is empty).
type NumSet struct {
	Ranges    []NumRange
	SearchRes bool
}

// IsStar reports whether n is the "*" placeholder.
func IsStar(n uint32) bool { return n == 0 }

// Contains reports whether num is in the set, with "*" standing for max.
// It is false for a "$" set; resolve those first.
func (s NumSet) Contains(num, max uint32) bool {
	for _, r := range s.Ranges {
		lo, hi := r.resolve(max)
		if num >= lo && num <= hi {
			return true
		}
	}
	return false
}

// resolve returns the range with "*" replaced by max and bounds ordered.
func (r NumRange) resolve(max uint32) (lo, hi uint32) {
	lo, hi = r.Start, r.Stop
	if lo == 0 {
		lo = max
	}
	if hi == 0 {
		hi = max
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Resolved returns the ranges with "*" replaced by max and each range ordered
// low to high (RFC 3501 §6.4.8: "*" in a UID set with an empty mailbox means
// the largest UID in use, which callers pass as max).
func (s NumSet) Resolved(max uint32) []NumRange {
	out := make([]NumRange, len(s.Ranges))
	for i, r := range s.Ranges {
		lo, hi := r.resolve(max)
		out[i] = NumRange{lo, hi}
	}
	return out
}

// Dynamic reports whether the set uses "*".
func (s NumSet) Dynamic() bool {
	for _, r := range s.Ranges {
		if r.Start == 0 || r.Stop == 0 {
			return true
		}
	}
	return false
}

// String formats the set in IMAP syntax ("1:3,5,7:*", or "$").
func (s NumSet) String() string {
	if s.SearchRes {
		return "$"
	}
	var b strings.Builder
	for i, r := range s.Ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fmtNum(r.Start))
		if r.Start != r.Stop {
			b.WriteByte(':')
			b.WriteString(fmtNum(r.Stop))
		}
	}
	return b.String()
}

func fmtNum(n uint32) string {
	if n == 0 {
		return "*"
	}
	return strconv.FormatUint(uint64(n), 10)
}

// NumSetOf returns a compact set holding the given numbers, which must be in
// ascending order (used for COPYUID, APPENDUID and SEARCH results).
func NumSetOf(nums []uint32) NumSet {
	var s NumSet
	for _, n := range nums {
		if l := len(s.Ranges); l > 0 && s.Ranges[l-1].Stop+1 == n {
			s.Ranges[l-1].Stop = n
			continue
		}
		s.Ranges = append(s.Ranges, NumRange{n, n})
	}
	return s
}

// ParseNumSet parses a sequence set such as "1:3,5,7:*" or "$".
func ParseNumSet(s string) (NumSet, error) {
	if s == "$" {
		return NumSet{SearchRes: true}, nil
	}
	if s == "" {
		return NumSet{}, fmt.Errorf("imap: empty sequence set")
	}
	var set NumSet
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		start, err := parseSeqNum(lo)
		if err != nil {
			return NumSet{}, err
		}
		stop := start
		if isRange {
			if stop, err = parseSeqNum(hi); err != nil {
				return NumSet{}, err
			}
		}
		set.Ranges = append(set.Ranges, NumRange{start, stop})
	}
	return set, nil
}

func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' || len(s) > 10 {
		return 0, fmt.Errorf("imap: invalid number %q in sequence set", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("imap: invalid number %q in sequence set", s)
	}
	return uint32(n), nil
}
