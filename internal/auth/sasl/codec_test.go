package sasl

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"", "", nil},
		{"*", "", ErrCancelled},
		{"AGFsaWNlAHNlY3JldA==", "\x00alice\x00secret", nil},
		{"AGFsaWNlAHNlY3JldA", "\x00alice\x00secret", nil}, // padding left out
		{"YWxpY2U=", "alice", nil},
		{"YWxpY2U", "alice", nil},
		{"=", "", ErrMalformed},
		{"**", "", ErrMalformed},
		{"YWxp Y2U=", "", ErrMalformed},
		{"YWxpY2U==", "", ErrMalformed},
		{"YWxpY2V=", "", ErrMalformed}, // non-zero padding bits
		{"\n", "", ErrMalformed},
		{"YWxp\r\nY2U=", "", ErrMalformed},
	}
	for _, tt := range tests {
		got, err := DecodeResponse([]byte(tt.in))
		if string(got) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("DecodeResponse(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDecodeInitialResponse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"=", "", nil},
		{"AHV3dGVzdABwYXNz", "\x00uwtest\x00pass", nil}, // from uw-observed.md §3.4
		{"", "", ErrMalformed},
		{"*", "", ErrMalformed},
		{"!!!!", "", ErrMalformed},
	}
	for _, tt := range tests {
		got, err := DecodeInitialResponse([]byte(tt.in))
		if string(got) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("DecodeInitialResponse(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if got, err := DecodeInitialResponse([]byte("=")); got == nil || err != nil {
		t.Errorf("DecodeInitialResponse(=) = %#v, %v, want a non-nil empty slice", got, err)
	}
	if got := EncodeChallenge([]byte("Username:")); got != "VXNlcm5hbWU6" {
		t.Errorf("EncodeChallenge(Username:) = %q, want VXNlcm5hbWU6", got)
	}
	if got := EncodeChallenge([]byte{}); got != "" {
		t.Errorf("EncodeChallenge(empty) = %q, want empty", got)
	}
}

func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{"", "*", "=", "AGFsaWNlAHNlY3JldA==", "YWxpY2U", "YWxpY2V="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := DecodeResponse(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrCancelled) {
				t.Fatalf("DecodeResponse(%q) = %v, want ErrMalformed or ErrCancelled", line, err)
			}
			return
		}
		if enc := EncodeChallenge(got); enc != string(line) && enc != string(line)+pad(len(line)) {
			t.Fatalf("DecodeResponse(%q) = %q, re-encodes as %q", line, got, enc)
		}
	})
}

// pad returns the padding a base64 text of n unpadded characters lacks.
func pad(n int) string {
	return strings.Repeat("=", (4-n%4)%4)
}
