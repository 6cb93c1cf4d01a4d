package imapwire

import (
	"strings"
	"time"
)

var months = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// ExpectDateTime reads date-time (RFC 3501 §9): DQUOTE date-day-fixed "-"
// date-month "-" date-year SP time SP zone DQUOTE. Besides the grammar's
// " 2" and "02" it accepts a bare "2" for the day, as UW imapd did. The
// time is returned in a fixed zone of the given offset.
func (d *Decoder) ExpectDateTime(t *time.Time) bool {
	b, ok := d.peekByte()
	if !ok {
		return false
	}
	if b != '"' {
		return d.expected("date-time")
	}
	var s string
	if !d.Quoted(&s) {
		return false
	}
	v, reason := parseDateTime(s)
	if reason != "" {
		return d.syntax("invalid date-time %q: %s", s, reason)
	}
	*t = v
	return true
}

// ExpectDate reads date (RFC 3501 §9, SEARCH): date-text or DQUOTE
// date-text DQUOTE, where date-text = date-day "-" date-month "-"
// date-year and date-day is one or two digits. It is returned as midnight
// UTC of that day.
func (d *Decoder) ExpectDate(t *time.Time) bool {
	var s string
	if !d.Quoted(&s) {
		if d.err != nil {
			return false
		}
		var ok bool
		if s, ok = d.run(&dateChar); !ok {
			return d.err == nil && d.expected("date")
		}
	}
	v, reason := parseDate(s)
	if reason != "" {
		return d.syntax("invalid date %q: %s", s, reason)
	}
	*t = v
	return true
}

// parseDateTime parses the inside of a date-time; reason is "" on success.
func parseDateTime(s string) (t time.Time, reason string) {
	dayText, rest, ok := strings.Cut(s, "-")
	if !ok {
		return t, "expected dd-Mon-yyyy hh:mm:ss +zzzz"
	}
	if len(dayText) == 2 && dayText[0] == ' ' {
		dayText = dayText[1:]
	}
	if len(rest) != len("Jan-2006 15:04:05 -0700") || rest[8] != ' ' || rest[17] != ' ' ||
		rest[11] != ':' || rest[14] != ':' {
		return t, "expected dd-Mon-yyyy hh:mm:ss +zzzz"
	}
	date, reason := parseDate(dayText + "-" + rest[:8])
	if reason != "" {
		return t, reason
	}
	hour, ok1 := atoi(rest[9:11])
	minute, ok2 := atoi(rest[12:14])
	sec, ok3 := atoi(rest[15:17])
	if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || sec > 59 {
		return t, "invalid time"
	}
	zone := rest[18:]
	zh, ok1 := atoi(zone[1:3])
	zm, ok2 := atoi(zone[3:5])
	if zone[0] != '+' && zone[0] != '-' || !ok1 || !ok2 || zh > 23 || zm > 59 {
		return t, "invalid zone"
	}
	offset := (zh*60 + zm) * 60
	if zone[0] == '-' {
		offset = -offset
	}
	y, m, dd := date.Date()
	return time.Date(y, m, dd, hour, minute, sec, 0, time.FixedZone("", offset)), ""
}

// parseDate parses date-text: 1*2DIGIT "-" date-month "-" 4DIGIT, months
// in any case; reason is "" on success.
func parseDate(s string) (t time.Time, reason string) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) != 3 || len(parts[2]) != 4 {
		return t, "expected d-Mon-yyyy"
	}
	day, ok1 := atoi(parts[0])
	year, ok2 := atoi(parts[2])
	if !ok1 || !ok2 {
		return t, "expected d-Mon-yyyy"
	}
	month := 0
	for i, m := range months {
		if strings.EqualFold(parts[1], m) {
			month = i + 1
		}
	}
	if month == 0 {
		return t, "unknown month " + parts[1]
	}
	t = time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if day < 1 || t.Day() != day {
		return time.Time{}, "no such day"
	}
	return t, ""
}

// atoi parses a string of ASCII digits only.
func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
