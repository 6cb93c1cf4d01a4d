package sasl

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzExchange runs whole server-side exchanges of every mechanism with an
// optional initial response and up to three client responses, all arbitrary
// (RFC 4422 §3; draft-murchison-sasl-login-00 §2 for LOGIN). The server
// must end the exchange within three steps, call check at most once and
// only when it reports success or passes check's error on, hand check no
// NUL and no overlong field, and report the user name check saw.
func FuzzExchange(f *testing.F) {
	for _, mech := range Mechanisms() {
		f.Add(mech, []byte("\x00alice\x00secret"), true, []byte("alice"), []byte("secret"), []byte("extra"))
		f.Add(mech, []byte(""), true, []byte("alice"), []byte("secret"), []byte(""))
		f.Add(mech, []byte(nil), false, []byte("al\x00ice"), []byte("s"), []byte("x"))
		f.Add(mech, []byte("alice"), true, []byte("secret"), []byte(""), []byte(""))
		f.Add(mech, []byte(nil), false, []byte(""), []byte(""), []byte(""))
	}
	f.Add("login", []byte(nil), false, bytes.Repeat([]byte("u"), maxLoginField+1), []byte("p"), []byte(""))
	f.Fuzz(func(t *testing.T, mech string, ir []byte, hasIR bool, r1, r2, r3 []byte) {
		var calls int
		var sawUser string
		check := func(user, pass string) error {
			calls++
			sawUser = user
			for _, s := range []string{user, pass} {
				if !strings.EqualFold(mech, Plain) && (len(s) > maxLoginField || strings.IndexByte(s, 0) >= 0) {
					t.Fatalf("%s: check got %q: NUL or over %d octets", mech, s, maxLoginField)
				}
			}
			if pass == "secret" {
				return nil
			}
			return ErrMalformed // any error will do
		}
		s, err := NewServer(mech, ir, hasIR, check)
		if err != nil {
			if Supported(mech) {
				t.Fatalf("NewServer(%q): %v, but it is supported", mech, err)
			}
			return
		}
		responses := [][]byte{nil, r1, r2, r3}
		done := false
		for i, r := range responses {
			_, ok, err := s.Next(r)
			if err != nil {
				if calls > 1 {
					t.Fatalf("%s: check called %d times", mech, calls)
				}
				return
			}
			if ok {
				if calls != 1 {
					t.Fatalf("%s: success after %d calls of check", mech, calls)
				}
				if s.Username() != sawUser {
					t.Fatalf("%s: Username() = %q, check saw %q", mech, s.Username(), sawUser)
				}
				done = true
				if _, _, err := s.Next(nil); err == nil {
					t.Fatalf("%s: Next after success at step %d accepted", mech, i)
				}
				break
			}
		}
		if !done && calls > 0 {
			t.Fatalf("%s: check called but the exchange neither failed nor succeeded", mech)
		}
		if !done {
			t.Fatalf("%s: no end after %d responses (ir %q %v, %q %q %q)", mech, len(responses), ir, hasIR, r1, r2, r3)
		}
	})
}
