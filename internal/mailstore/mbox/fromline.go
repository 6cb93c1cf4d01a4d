package mbox

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The "From " separator line (RFC 4155 §2, UW formats.txt "unix"):
//
//	From SENDER Www Mmm dd hh:mm:ss yyyy [+zzzz]
//
// UW's c-client accepts a line as a separator only when a date of that
// shape follows the sender (its VALID macro), which is what lets a body
// line such as "From the kitchen: soup" stand unquoted. We do the same,
// leniently as to the zone: a numeric zone or a zone name may follow the
// time or the year, or there may be none (then the date is local time, as
// MTAs write it).

var weekdays = map[string]bool{"Mon": true, "Tue": true, "Wed": true, "Thu": true, "Fri": true, "Sat": true, "Sun": true}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April,
	"May": time.May, "Jun": time.June, "Jul": time.July, "Aug": time.August,
	"Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// parseFromLine reports whether line (without its line end) is a "From "
// separator and returns the date it carries, in loc when it names no
// numeric zone.
func parseFromLine(line []byte, loc *time.Location) (time.Time, bool) {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return time.Time{}, false
	}
	f := strings.Fields(string(bytes.TrimRight(line[5:], "\r")))
	// The sender may be missing or (rarely) hold spaces: find the weekday.
	for i := 0; i+4 <= len(f); i++ {
		if !weekdays[f[i]] {
			continue
		}
		if t, ok := parseFromDate(f[i+1:], loc); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseFromDate parses "Mmm dd hh:mm[:ss] [zone] yyyy [zone]".
func parseFromDate(f []string, loc *time.Location) (time.Time, bool) {
	mon, ok := months[f[0]]
	if !ok || len(f) < 4 {
		return time.Time{}, false
	}
	day, err := strconv.Atoi(f[1])
	if err != nil || day < 1 || day > 31 {
		return time.Time{}, false
	}
	hms := strings.Split(f[2], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}, false
	}
	var clock [3]int
	for i, p := range hms {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 60 || len(p) != 2 {
			return time.Time{}, false
		}
		clock[i] = n
	}
	rest := f[3:]
	var zone *time.Location
	year := -1
	for _, tok := range rest {
		if n, err := strconv.Atoi(tok); err == nil && len(tok) == 4 && year < 0 && tok[0] != '+' && tok[0] != '-' {
			year = n
			continue
		}
		if z, ok := numericZone(tok); ok && zone == nil {
			zone = z
			continue
		}
		if year < 0 && isZoneName(tok) {
			continue // "hh:mm:ss PST yyyy": a name we cannot resolve; local time
		}
		break
	}
	if year < 0 {
		return time.Time{}, false
	}
	if zone == nil {
		zone = loc
	}
	return time.Date(year, mon, day, clock[0], clock[1], clock[2], 0, zone), true
}

func numericZone(tok string) (*time.Location, bool) {
	if len(tok) != 5 || (tok[0] != '+' && tok[0] != '-') {
		return nil, false
	}
	n, err := strconv.Atoi(tok[1:])
	if err != nil {
		return nil, false
	}
	off := (n/100)*3600 + (n%100)*60
	if tok[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), true
}

func isZoneName(tok string) bool {
	if len(tok) < 1 || len(tok) > 5 {
		return false
	}
	for _, c := range tok {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// formatFromLine returns the separator UW writes for an appended message:
// "From user@host Wed Nov 25 12:00:00 2026 +0000" (with the line end).
func formatFromLine(sender string, t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("From %s %s %c%02d%02d\n", sender, t.Format("Mon Jan _2 15:04:05 2006"), sign, off/3600, off/60%60)
}
