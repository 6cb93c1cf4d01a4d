package message

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestSection(t *testing.T) {
	nested, _ := parseFile(t, "testdata/nested3.eml")
	fwd, _ := parseFile(t, "testdata/rfc822-inside.eml")
	plain, _ := parseFile(t, "testdata/uw1-plain.eml")
	digest, _ := parseFile(t, "testdata/digest.eml")
	preamble, _ := parseFile(t, "testdata/preamble-only.eml")
	tests := []struct {
		name string
		root *Part
		path []int
		want string // "type/subtype@HeaderStart", or "" for not found
	}{
		{"plain", plain, nil, "text/plain@0"},
		{"plain", plain, []int{1}, "text/plain@0"},
		{"plain", plain, []int{2}, ""},
		{"plain", plain, []int{1, 1}, ""},
		{"plain", plain, []int{0}, ""},
		{"nested", nested, []int{1}, "multipart/alternative@151"},
		{"nested", nested, []int{1, 1}, "text/plain@211"},
		{"nested", nested, []int{1, 2, 2}, "image/png@384"},
		{"nested", nested, []int{1, 2, 3}, ""},
		{"nested", nested, []int{2}, "application/pdf@514"},
		{"nested", nested, []int{2, 1}, ""},
		{"nested", nested, []int{3}, ""},
		{"fwd", fwd, []int{2}, "message/rfc822@249"},
		// The encapsulated message is single-part: 2.1 is its body.
		{"fwd", fwd, []int{2, 1}, "text/plain@321"},
		{"fwd", fwd, []int{2, 2}, ""},
		{"fwd", fwd, []int{2, 1, 1}, ""},
		{"digest", digest, []int{1, 1}, "text/plain@119"},
		{"digest", digest, []int{2}, "text/plain@183"},
		// A multipart without delimiters is shown with one empty part,
		// which has no bytes: not the multipart's own body.
		{"preamble", preamble, nil, "multipart/mixed@0"},
		{"preamble", preamble, []int{1}, ""},
	}
	for _, tt := range tests {
		got := ""
		if q, ok := tt.root.Section(tt.path); ok {
			got = fmt.Sprintf("%s/%s@%d", q.Type, q.Subtype, q.HeaderStart)
		}
		if got != tt.want {
			t.Errorf("%s.Section(%v) = %q, want %q", tt.name, tt.path, got, tt.want)
		}
	}
}

func TestSectionMultipartInMessage(t *testing.T) {
	msg := "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n" +
		"Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n" +
		"--i\r\n\r\nA\r\n--i\r\n\r\nB\r\n--i--\r\n--o--\r\n"
	p, err := Parse(strings.NewReader(msg), int64(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path []int
		body string
	}{
		{[]int{1, 1}, "A"},
		{[]int{1, 2}, "B"},
	} {
		q, ok := p.Section(tt.path)
		if !ok || msg[q.BodyStart:q.End] != tt.body {
			t.Errorf("Section(%v) body = %v, want %q", tt.path, ok, tt.body)
		}
	}
	if q, _ := p.Section([]int{1}); q.Children[0].Envelope.Subject != "inner" {
		t.Errorf("Section([1]).Children[0].Envelope.Subject = %q, want inner", q.Children[0].Envelope.Subject)
	}
}

func TestWalk(t *testing.T) {
	p, _ := parseFile(t, "testdata/rfc822-inside.eml")
	var got []string
	p.Walk(func(path []int, q *Part) bool {
		got = append(got, fmt.Sprintf("%v %s/%s", path, q.Type, q.Subtype))
		return true
	})
	want := "[] multipart/mixed|[1] text/plain|[2] message/rfc822|[2] text/plain"
	if strings.Join(got, "|") != want {
		t.Errorf("Walk = %q, want %q", strings.Join(got, "|"), want)
	}
}

// deepMessage builds n nested multiparts around one text part.
func deepMessage(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nleaf\r\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

func TestDeepNesting(t *testing.T) {
	data := deepMessage(120)
	for _, tt := range []struct {
		maxDepth, wantDepth int
	}{
		{0, DefaultMaxDepth},
		{5, 5},
		{200, 120},
	} {
		ps := Parser{MaxDepth: tt.maxDepth}
		p, err := ps.Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, p, int64(len(data)))
		checkRoundTrip(t, p)
		depth, q := 0, p
		for len(q.Children) > 0 {
			q = q.Children[0]
			depth++
		}
		if depth != tt.wantDepth {
			t.Errorf("MaxDepth %d: tree depth = %d, want %d", tt.maxDepth, depth, tt.wantDepth)
		}
		if tt.wantDepth < 120 && (q.Type != "multipart" || len(q.Children) != 0) {
			t.Errorf("MaxDepth %d: deepest part %s/%s with %d children, want an opaque multipart leaf", tt.maxDepth, q.Type, q.Subtype, len(q.Children))
		}
		if tt.wantDepth == 120 && string(data[q.BodyStart:q.End]) != "leaf" {
			t.Errorf("MaxDepth %d: leaf body = %q, want leaf", tt.maxDepth, data[q.BodyStart:q.End])
		}
	}
}
