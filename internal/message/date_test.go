package message

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339, or "" for no date
	}{
		{"Mon, 23 Nov 2026 09:15:00 +0000", "2026-11-23T09:15:00Z"},
		{"Mon, 23 Nov 2026 10:30:40 +0100", "2026-11-23T10:30:40+01:00"},
		{"23 Nov 2026 10:30:40 -0500", "2026-11-23T10:30:40-05:00"},
		{"Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T10:52:37+02:00"},
		{"Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)", "1969-02-13T23:32:00-03:30"},
		{"25 Nov 2026 12:00 GMT", "2026-11-25T12:00:00Z"},
		{"Fri, 21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06Z"},
		{"Fri, 21 Nov 07 09:55:06 PST", "2007-11-21T09:55:06-08:00"},
		{"21 Nov 103 09:55:06 EDT", "2003-11-21T09:55:06-04:00"},
		{"Mon, 23 Nov 2026 09:15:00 UT", "2026-11-23T09:15:00Z"},
		{"Mon, 23 Nov 2026 09:15:00 A", "2026-11-23T09:15:00Z"},
		{"Mon, 23 Nov 2026 09:15:00", "2026-11-23T09:15:00Z"},
		{"Mon,23 Nov 2026 09:15:00 +0000", "2026-11-23T09:15:00Z"},
		{"  mon, 23   november 2026  09:15:00   +0000  ", "2026-11-23T09:15:00Z"},
		{"Wed, 02 Oct 2002 08:00:00 EST", "2002-10-02T08:00:00-05:00"},
		{"Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z"},
		{"Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z"},
		{"(comment) 1 Sept 2020 00:00 +0000", "2020-09-01T00:00:00Z"},
		{"Tue, 29 Feb 2028 00:00 +0000", "2028-02-29T00:00:00Z"},
		{"", ""},
		{"garbage", ""},
		{"31 Feb 2026 00:00 +0000", ""},
		{"23 Foo 2026 09:15:00 +0000", ""},
		{"23 Nov 2026 25:00:00 +0000", ""},
		{"23 Nov 2026 09:61 +0000", ""},
		{"23 Nov 2026 09:15 +0075", ""},
		{"Nov 2026", ""},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		gs := ""
		if ok {
			gs = got.Format(time.RFC3339)
		}
		if gs != tt.want {
			t.Errorf("ParseDate(%q) = %q, want %q", tt.in, gs, tt.want)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"Mon, 23 Nov 2026 09:15:00 +0000", "Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)",
		"Mon Jan  2 15:04:05 2006", "21 Nov 97 09:55:06 GMT", "31 Feb 2026", "1:2:3 4 jan 9999 +9999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		if !ok {
			return
		}
		if d.Year() < 1000 || d.Year() > 9999 {
			t.Fatalf("ParseDate(%q) = %v, year out of range", s, d)
		}
		// Parsing the normalized form gives the same instant.
		d2, ok := ParseDate(d.Format("Mon, 2 Jan 2006 15:04:05 -0700"))
		if !ok || !d2.Equal(d) {
			t.Fatalf("ParseDate(format(ParseDate(%q))) = %v, %v, want %v", s, d2, ok, d)
		}
	})
}
