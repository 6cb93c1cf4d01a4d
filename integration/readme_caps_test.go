package integration

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECapabilities keeps the README's CAPABILITY list (the first
// code block of "### CAPABILITY") equal to what the demo server says
// before login on a plaintext loopback connection, and checks that the
// list after login is the same without the login-only items.
func TestREADMECapabilities(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "### CAPABILITY")
	if i < 0 {
		t.Fatal("README.md has no ### CAPABILITY section")
	}
	block := text[i:]
	start := strings.Index(block, "```\n")
	end := strings.Index(block[start+4:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md's CAPABILITY section has no code block")
	}
	want := strings.Join(strings.Fields(block[start+4:start+4+end]), " ")

	s := startServer(t)
	c := dialRaw(t, s.IMAP, false)
	untagged := c.mustOK("CAPABILITY")
	if len(untagged) != 1 {
		t.Fatalf("CAPABILITY gave %q, want one line", untagged)
	}
	if got := strings.TrimPrefix(untagged[0], "* CAPABILITY "); got != want {
		t.Errorf("CAPABILITY before login =\n%s\nREADME says\n%s", got, want)
	}

	c.mustOK("LOGIN demo demo")
	untagged = c.mustOK("CAPABILITY")
	var wantAfter []string
	for _, cp := range strings.Fields(want) {
		if cp != "STARTTLS" && cp != "LOGINDISABLED" && !strings.HasPrefix(cp, "AUTH=") {
			wantAfter = append(wantAfter, cp)
		}
	}
	if len(untagged) != 1 || strings.TrimPrefix(untagged[0], "* CAPABILITY ") != strings.Join(wantAfter, " ") {
		t.Errorf("CAPABILITY after login = %q, want %q", untagged, strings.Join(wantAfter, " "))
	}
}
