package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchFlags: --help shows the profiles with their weights; bad
// flags are refused before any connection.
func TestBenchFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"bench", "--help"}, nil, &out, &errOut); err != nil {
		t.Fatalf("bench --help: %v", err)
	}
	for _, want := range []string{"mixed:", "FETCH FLAGS 10", "logins:", "read-heavy:", "-users", "-json"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("bench --help lacks %q:\n%s", want, errOut.String())
		}
	}
	for _, args := range [][]string{
		{"bench", "--profile", "nope"},
		{"bench", "--tls", "maybe"},
		{"bench", "--users", "nopassword"},
		{"bench", "extra"},
	} {
		if err := run(args, nil, &out, &errOut); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
