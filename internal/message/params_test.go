package message

import (
	"strings"
	"testing"
)

func TestParamsRFC2231(t *testing.T) {
	tests := []struct {
		ct   string
		want []Param
	}{
		{`text/plain; charset=us-ascii`, []Param{{Name: "charset", Value: "us-ascii"}}},
		{`a/b; name*0="x"; name*1="y"`, []Param{{Name: "name", Value: "xy"}}},
		{`a/b; name*=iso-8859-1'fr'caf%E9`, []Param{{Name: "name", Value: "café", Charset: "utf-8", Language: "fr"}}},
		{`a/b; name*0*=UTF-8''na%C3%AFve%20; name*1=" file"`, []Param{{Name: "name", Value: "naïve  file", Charset: "utf-8"}}},
		// An unknown charset keeps the bytes and says which they are.
		{`a/b; name*=x-unknown''%E9t%E9`, []Param{{Name: "name", Value: "\xe9t\xe9", Charset: "x-unknown"}}},
		// No charset part: the value is only percent-decoded.
		{`a/b; name*=plain%41`, []Param{{Name: "name", Value: "plainA"}}},
	}
	for _, tt := range tests {
		msg := "Content-Type: " + tt.ct + "\r\n\r\nx"
		p, err := Parse(strings.NewReader(msg), int64(len(msg)))
		if err != nil {
			t.Fatal(err)
		}
		if !equalParams(p.Params, tt.want) {
			t.Errorf("Params(%q) = %+v, want %+v", tt.ct, p.Params, tt.want)
		}
		// The cached encoding keeps every field.
		data, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := UnmarshalPart(data)
		if err != nil {
			t.Fatal(err)
		}
		if !equalParams(q.Params, tt.want) {
			t.Errorf("UnmarshalPart(%q).Params = %+v, want %+v", tt.ct, q.Params, tt.want)
		}
	}
}

func equalParams(a, b []Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
