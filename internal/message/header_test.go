package message

import (
	"reflect"
	"testing"
)

const sampleHeader = "Received: from a\r\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
	"Subject: Hello\r\n  world\r\n" +
	"No colon here\r\n" +
	"X-Empty:\r\n" +
	"subject : second\r\n" +
	"To: a@x\r\n" +
	"\r\n"

func TestHeader(t *testing.T) {
	h := parseHeader([]byte(sampleHeader))
	if got, want := h.Len(), 6; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	gets := []struct{ name, want string }{
		{"Subject", "Hello  world"},
		{"SUBJECT", "Hello  world"},
		{"received", "from a\tby b; Mon, 1 Jan 2024 00:00:00 +0000"},
		{"X-Empty", ""},
		{"to", "a@x"},
		{"No colon here", ""},
		{"Missing", ""},
	}
	for _, tt := range gets {
		if got := h.Get(tt.name); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got, want := h.Values("subject"), []string{"Hello  world", "second"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Values(subject) = %q, want %q", got, want)
	}
	if !h.Has("x-empty") || h.Has("No colon here") {
		t.Errorf("Has(x-empty), Has(No colon here) = %v, %v, want true, false", h.Has("x-empty"), h.Has("No colon here"))
	}
	var names []string
	for _, f := range h.Fields() {
		names = append(names, f.Name)
	}
	if want := []string{"Received", "Subject", "", "X-Empty", "subject", "To"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Fields() names = %q, want %q", names, want)
	}
	if got, want := string(h.Fields()[1].Raw), "Subject: Hello\r\n  world\r\n"; got != want {
		t.Errorf("Fields()[1].Raw = %q, want %q", got, want)
	}
	if got, want := h.Fields()[4].Value(), "second"; got != want {
		t.Errorf("Fields()[4].Value() = %q, want %q", got, want)
	}
	if string(h.Raw()) != sampleHeader {
		t.Errorf("Raw() = %q, want %q", h.Raw(), sampleHeader)
	}
}

func TestFilterHeader(t *testing.T) {
	tests := []struct {
		raw   string
		names []string
		not   bool
		want  string
	}{
		{sampleHeader, []string{"subject"}, false, "Subject: Hello\r\n  world\r\nsubject : second\r\n\r\n"},
		{sampleHeader, []string{"TO", "received"}, false, "Received: from a\r\n\tby b; Mon, 1 Jan 2024 00:00:00 +0000\r\nTo: a@x\r\n\r\n"},
		{sampleHeader, []string{"Received", "Subject", "To"}, true, "No colon here\r\nX-Empty:\r\n\r\n"},
		{sampleHeader, []string{"nothing"}, false, "\r\n"},
		{sampleHeader, nil, true, sampleHeader},
		// Bare LF kept; a last line without line ending gets CRLF. No
		// blank line in the header (a message with no body and no blank
		// line): none in the result either (RFC 3501 §6.4.5).
		{"A: 1\nB: 2", []string{"a", "b"}, false, "A: 1\nB: 2\r\n"},
		{"A: 1\r\nB: 2\r\n", []string{"c"}, false, ""},
		{"A: 1\r\nB: 2\r\n", []string{"a", "b"}, true, ""},
		{"A: 1\nB: 2\n\n", []string{"b"}, false, "B: 2\n\r\n"},
		{"", []string{"a"}, true, ""},
		{"\r\n", []string{"a"}, true, "\r\n"},
		// Only the header block counts, not what follows its empty line.
		{"A: 1\r\n\r\nA: body\r\n", []string{"a"}, false, "A: 1\r\n\r\n"},
	}
	for _, tt := range tests {
		if got := string(FilterHeader([]byte(tt.raw), tt.names, tt.not)); got != tt.want {
			t.Errorf("FilterHeader(%q, %q, %v) = %q, want %q", tt.raw, tt.names, tt.not, got, tt.want)
		}
	}
}
