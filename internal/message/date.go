package message

import (
	"strings"
	"time"
)

// ParseDate parses an RFC 5322 §3.3 date-time leniently, for SEARCH
// SENTBEFORE/SENTON/SENTSINCE (RFC 3501 §6.4.4) and sorting. It accepts the
// obsolete forms of RFC 5322 §4.3 (two- and three-digit years, named and
// military zones, comments), a missing day of week or seconds, a missing
// zone (taken as UTC), full month names, and the asctime layout
// "Mon Jan  2 15:04:05 2006". The result keeps the date's own zone offset,
// so its calendar date is the one written. ok is false when no date is
// found.
func ParseDate(s string) (time.Time, bool) {
	var (
		nums   []int // numbers that are not the time, in order
		month  = -1
		hh, mm int
		ss     int
		hasT   bool
		loc    *time.Location
	)
	lx := lexer{s: s}
	for {
		lx.skipCFWS()
		if lx.eof() {
			break
		}
		start := lx.i
		for lx.i < len(s) && !strings.ContainsRune(" \t\r\n,(", rune(s[lx.i])) {
			lx.i++
		}
		w := s[start:lx.i]
		if w == "" {
			lx.i++ // a comma
			continue
		}
		switch {
		case strings.ContainsRune(w, ':') && !hasT && isDigit(w[0]):
			var ok bool
			hh, mm, ss, ok = parseClock(w)
			if !ok {
				return time.Time{}, false
			}
			hasT = true
		case (w[0] == '+' || w[0] == '-') && len(w) == 5 && allDigits(w[1:]):
			if loc != nil {
				continue
			}
			h, m := atoi(w[1:3]), atoi(w[3:5])
			if m > 59 {
				return time.Time{}, false
			}
			off := (h*60 + m) * 60
			if w[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		case allDigits(w):
			if len(w) > 4 {
				return time.Time{}, false
			}
			nums = append(nums, atoi(w))
		default:
			lw := strings.ToLower(strings.TrimRight(w, "."))
			if m := monthIndex(lw); m >= 0 && month < 0 {
				month = m
				continue
			}
			if loc == nil {
				if off, ok := zoneOffset(lw); ok {
					loc = time.FixedZone(strings.ToUpper(lw), off)
				}
			}
			// Days of week and unknown words are ignored.
		}
	}
	if month < 0 || len(nums) < 2 {
		return time.Time{}, false
	}
	day, year := nums[0], nums[1]
	if day > 31 && year <= 31 {
		// "2006 Jan 02" style: year first.
		day, year = year, day
	}
	switch {
	case year < 50:
		year += 2000
	case year < 1000:
		year += 1900
	}
	if day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(year, time.Month(month+1), day, hh, mm, ss, 0, loc), true
}

// parseClock parses hh:mm or hh:mm:ss.
func parseClock(w string) (h, m, s int, ok bool) {
	parts := strings.Split(w, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i, p := range parts {
		if p == "" || len(p) > 2 || !allDigits(p) {
			return 0, 0, 0, false
		}
		v[i] = atoi(p)
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 60 {
		return 0, 0, 0, false
	}
	if v[2] == 60 {
		v[2] = 59 // leap second
	}
	return v[0], v[1], v[2], true
}

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// monthIndex matches a month's first three letters or its full name.
func monthIndex(w string) int {
	if len(w) < 3 {
		return -1
	}
	for i, m := range monthNames {
		if w[:3] == m {
			full := strings.ToLower(time.Month(i + 1).String())
			if len(w) == 3 || w == full || (i == 8 && w == "sept") {
				return i
			}
		}
	}
	return -1
}

// zoneOffset knows the zone names of RFC 5322 §4.3; military single letters
// other than Z are taken as +0000, as that section advises.
func zoneOffset(z string) (int, bool) {
	switch z {
	case "ut", "utc", "gmt", "z":
		return 0, true
	case "edt":
		return -4 * 3600, true
	case "est", "cdt":
		return -5 * 3600, true
	case "cst", "mdt":
		return -6 * 3600, true
	case "mst", "pdt":
		return -7 * 3600, true
	case "pst":
		return -8 * 3600, true
	}
	if len(z) == 1 && 'a' <= z[0] && z[0] <= 'z' && z[0] != 'j' {
		return 0, true
	}
	return 0, false
}

func daysIn(m, year int) int {
	return time.Date(year, time.Month(m+2), 0, 0, 0, 0, 0, time.UTC).Day()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
