package imap

import (
	"slices"
	"testing"
)

func TestParseNumSet(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"1", "1", false},
		{"1:3,5,7:*", "1:3,5,7:*", false},
		{"*", "*", false},
		{"4:2", "4:2", false},
		{"$", "$", false},
		{"4294967295", "4294967295", false},
		{"0", "", true},
		{"1:", "", true},
		{":1", "", true},
		{"a", "", true},
		{"", "", true},
		{"1,,2", "", true},
		{"01", "", true},
		{"4294967296", "", true},
		{"1:2:3", "", true},
	}
	for _, tt := range tests {
		got, err := ParseNumSet(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseNumSet(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseNumSet(%q) = %q, want %q", tt.in, got.String(), tt.want)
		}
	}
}

func TestNumSetContains(t *testing.T) {
	s, _ := ParseNumSet("2:4,9:*,1")
	const max = 12
	var got []uint32
	for n := uint32(1); n <= max; n++ {
		if s.Contains(n, max) {
			got = append(got, n)
		}
	}
	want := []uint32{1, 2, 3, 4, 9, 10, 11, 12}
	if !slices.Equal(got, want) {
		t.Errorf("Contains over 1..%d = %v, want %v", max, got, want)
	}
	// "*:5" with max 3 is 3:5 (RFC 3501 §6.4.8), so 3 is in and 6 is not.
	s, _ = ParseNumSet("*:5")
	if !s.Contains(3, 3) || s.Contains(6, 3) {
		t.Errorf("*:5 with max 3: Contains(3)=%v Contains(6)=%v, want true false", s.Contains(3, 3), s.Contains(6, 3))
	}
	if !s.Dynamic() {
		t.Error("Dynamic(*:5) = false, want true")
	}
}

func TestNumSetOf(t *testing.T) {
	tests := []struct {
		in   []uint32
		want string
	}{
		{[]uint32{1, 2, 3, 5, 7, 8}, "1:3,5,7:8"},
		{[]uint32{4}, "4"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := NumSetOf(tt.in).String(); got != tt.want {
			t.Errorf("NumSetOf(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalFlag(t *testing.T) {
	tests := []struct{ in, want Flag }{
		{`\SEEN`, FlagSeen},
		{`\answered`, FlagAnswered},
		{`\*`, FlagWildcard},
		{`$Forwarded`, `$Forwarded`},
		{`\Custom`, `\Custom`},
	}
	for _, tt := range tests {
		if got := CanonicalFlag(tt.in); got != tt.want {
			t.Errorf("CanonicalFlag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseNumSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "$", "1,2:3", "0", "4294967295:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseNumSet(s)
		if err != nil {
			return
		}
		again, err := ParseNumSet(set.String())
		if err != nil || again.String() != set.String() {
			t.Errorf("round trip of %q: %q, %v", s, again.String(), err)
		}
	})
}
