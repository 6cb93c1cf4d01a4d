package imapbackend

import (
	"slices"
	"testing"

	"github.com/postern/postern/internal/message"
)

func TestParams(t *testing.T) {
	tests := []struct {
		in   []message.Param
		want []string
	}{
		{nil, nil},
		{[]message.Param{{Name: "charset", Value: "us-ascii"}}, []string{"CHARSET", "us-ascii"}},
		// Decoded from RFC 2231 but ASCII: the plain name and value.
		{[]message.Param{{Name: "filename", Value: "a b.txt", Charset: "utf-8"}}, []string{"FILENAME", "a b.txt"}},
		// Not ASCII: RFC 2231 form again (RFC 3501 §4.3, RFC 9051 §7.5.2).
		{[]message.Param{{Name: "name", Value: "naïve  f'*%.txt", Charset: "utf-8", Language: "fr"}},
			[]string{"NAME*", "utf-8'fr'na%C3%AFve%20%20f%27%2A%25.txt"}},
		{[]message.Param{{Name: "name", Value: "\xe9", Charset: "x-unknown"}}, []string{"NAME*", "x-unknown''%E9"}},
		// 8-bit bytes written plainly in the header stay as they are.
		{[]message.Param{{Name: "name", Value: "café"}}, []string{"NAME", "café"}},
	}
	for _, tt := range tests {
		if got := params(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("params(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
