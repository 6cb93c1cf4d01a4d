package mailstore

import (
	"errors"
	"slices"
	"testing"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"INBOX", "INBOX", false},
		{"inbox", "INBOX", false},
		{"Inbox/Sub", "INBOX/Sub", false},
		{"Sent", "Sent", false},
		{"a/b/c", "a/b/c", false},
		{"Entwürfe", "Entwürfe", false},
		{"", "", true},
		{"/a", "", true},
		{"a/", "", true},
		{"a//b", "", true},
		{"..", "", true},
		{"a/../b", "", true},
		{"./a", "", true},
		{"a\x00b", "", true},
		{"\xff", "", true},
	}
	for _, tt := range tests {
		got, err := CanonicalName(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("CanonicalName(%q) error = %v, want ErrInvalidName", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeFlags(t *testing.T) {
	got, err := NormalizeFlags([]string{`\SEEN`, "Work", `\Recent`, `\seen`, "$Label1", `\Flagged`})
	want := []string{"$Label1", "Work", `\Flagged`, `\Seen`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("NormalizeFlags = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", "a b", "x\x00"} {
		if _, err := NormalizeFlags([]string{bad}); err == nil {
			t.Errorf("NormalizeFlags(%q) succeeded, want an error", bad)
		}
	}
}
