package imapbackend

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCollapse(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  a \t\r\n b  ", 256, "a b"},
		{"abc def", 5, "abc d"},
		{"abc def", 4, "abc"}, // no trailing space
		{"ééé", 2, "éé"},
		{"a\x00b", 256, "a b"},
		{"", 256, ""},
	}
	for _, tt := range tests {
		if got := collapse(tt.in, tt.max); got != tt.want {
			t.Errorf("collapse(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestStripTags(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>Hello <b>Al</b>ice</p>", " Hello Alice "},
		{"<head><title>T</title></head>x", "x"},
		{"a<!-- c -->b", "ab"},
		{"<style>p{}</style>x<script>y</script>z", "xz"},
		{"1 &lt; 2 &amp;&amp; 3&nbsp;&gt; 2", "1 < 2 && 3 > 2"},
		{"<unclosed", " "},
		{"<script>never closed", ""},
		{"<br/>line<BR>two", " line two"},
	}
	for _, tt := range tests {
		if got := stripTags(tt.in); got != tt.want {
			t.Errorf("stripTags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzPreviewText checks that the preview text of any HTML is valid UTF-8
// of at most 256 characters without runs of whitespace (RFC 8970 §3).
func FuzzPreviewText(f *testing.F) {
	for _, s := range []string{"<p>Hello</p>", "<!--", "<style", "a &amp; b", "\xff\xfe<b>x", strings.Repeat("é ", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := collapse(strings.ToValidUTF8(stripTags(s), "\uFFFD"), maxPreview)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > maxPreview || strings.Contains(got, "  ") {
			t.Fatalf("preview of %q = %q", s, got)
		}
	})
}

func TestFirstMsgID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<a@b> <c@d>", "<a@b>"},
		{"  (comment) < a@b >", "<a@b>"},
		{"no id", ""},
		{"<>", ""},
		{"<unterminated", ""},
	}
	for _, tt := range tests {
		if got := firstMsgID(tt.in); got != tt.want {
			t.Errorf("firstMsgID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
