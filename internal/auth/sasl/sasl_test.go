package sasl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var errWrong = errors.New("wrong password")

// checker accepts alice/secret and records each call.
type checker struct{ calls []string }

func (c *checker) check(user, pass string) error {
	c.calls = append(c.calls, user+"/"+pass)
	if user == "alice" && pass == "secret" {
		return nil
	}
	return errWrong
}

// step is one Next call and what it must return.
type step struct {
	resp    string
	chal    string // "<nil>" for a nil challenge
	done    bool
	wantErr error
}

func runSteps(t *testing.T, name string, m ServerMech, steps []step) {
	t.Helper()
	for i, st := range steps {
		var resp []byte
		if i > 0 {
			resp = []byte(st.resp)
		}
		chal, done, err := m.Next(resp)
		gotChal := "<nil>"
		if chal != nil {
			gotChal = string(chal)
		}
		if gotChal != st.chal || done != st.done || !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Errorf("%s step %d: Next(%q) = %q, %v, %v, want %q, %v, %v", name, i, resp, gotChal, done, err, st.chal, st.done, st.wantErr)
			return
		}
	}
}

func TestPlain(t *testing.T) {
	tests := []struct {
		name   string
		ir     string
		hasIR  bool
		steps  []step
		calls  string
		userID string
	}{
		{"IR ok", "\x00alice\x00secret", true, []step{{"", "<nil>", true, nil}}, "[alice/secret]", "alice"},
		{"IR authzid=authcid", "alice\x00alice\x00secret", true, []step{{"", "<nil>", true, nil}}, "[alice/secret]", "alice"},
		{"IR wrong", "\x00alice\x00nope", true, []step{{"", "<nil>", true, errWrong}}, "[alice/nope]", "alice"},
		{"IR proxy", "bob\x00alice\x00secret", true, []step{{"", "<nil>", true, ErrAuthzDenied}}, "[]", "alice"},
		{"IR empty", "", true, []step{{"", "<nil>", true, ErrMalformed}}, "[]", ""},
		{"IR two fields", "alice\x00secret", true, []step{{"", "<nil>", true, ErrMalformed}}, "[]", ""},
		{"no IR", "", false, []step{
			{"", "", false, nil},
			{"\x00alice\x00secret", "<nil>", true, nil},
			{"again", "<nil>", true, ErrFinished},
		}, "[alice/secret]", "alice"},
		{"no IR malformed", "", false, []step{
			{"", "", false, nil},
			{"\x00alice\x00se\x00cret", "<nil>", true, ErrMalformed},
			{"\x00alice\x00secret", "<nil>", true, ErrFinished},
		}, "[]", ""},
	}
	for _, tt := range tests {
		c := &checker{}
		m, err := NewServer("plain", []byte(tt.ir), tt.hasIR, c.check)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != Plain {
			t.Errorf("Name() = %q, want %q", m.Name(), Plain)
		}
		runSteps(t, tt.name, m, tt.steps)
		if got := fmt.Sprint(c.calls); got != tt.calls {
			t.Errorf("%s: check calls = %s, want %s", tt.name, got, tt.calls)
		}
		if got := m.Username(); got != tt.userID {
			t.Errorf("%s: Username() = %q, want %q", tt.name, got, tt.userID)
		}
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name   string
		ir     string
		hasIR  bool
		steps  []step
		calls  string
		userID string
	}{
		{"no IR", "", false, []step{
			{"", "Username:", false, nil},
			{"alice", "Password:", false, nil},
			{"secret", "<nil>", true, nil},
			{"x", "<nil>", true, ErrFinished},
		}, "[alice/secret]", "alice"},
		{"IR user", "alice", true, []step{
			{"", "Password:", false, nil},
			{"secret", "<nil>", true, nil},
		}, "[alice/secret]", "alice"},
		{"empty IR", "", true, []step{
			{"", "Username:", false, nil},
			{"alice", "Password:", false, nil},
			{"wrong", "<nil>", true, errWrong},
		}, "[alice/wrong]", "alice"},
		{"empty user", "", false, []step{
			{"", "Username:", false, nil},
			{"", "<nil>", true, ErrMalformed},
		}, "[]", ""},
		{"NUL in password", "", false, []step{
			{"", "Username:", false, nil},
			{"alice", "Password:", false, nil},
			{"sec\x00ret", "<nil>", true, ErrMalformed},
		}, "[]", "alice"},
		{"long user", strings.Repeat("u", maxLoginField+1), true, []step{
			{"", "<nil>", true, ErrMalformed},
		}, "[]", ""},
		{"empty password reaches check", "alice", true, []step{
			{"", "Password:", false, nil},
			{"", "<nil>", true, errWrong},
		}, "[alice/]", "alice"},
	}
	for _, tt := range tests {
		c := &checker{}
		m, err := NewServer("LOGIN", []byte(tt.ir), tt.hasIR, c.check)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != Login {
			t.Errorf("Name() = %q, want %q", m.Name(), Login)
		}
		runSteps(t, tt.name, m, tt.steps)
		if got := fmt.Sprint(c.calls); got != tt.calls {
			t.Errorf("%s: check calls = %s, want %s", tt.name, got, tt.calls)
		}
		if got := m.Username(); got != tt.userID {
			t.Errorf("%s: Username() = %q, want %q", tt.name, got, tt.userID)
		}
	}
}

func TestNewServerErrors(t *testing.T) {
	for _, mech := range []string{"CRAM-MD5", "", "PLAINX", "SCRAM-SHA-256"} {
		if _, err := NewServer(mech, nil, false, func(string, string) error { return nil }); !errors.Is(err, ErrUnsupportedMech) {
			t.Errorf("NewServer(%q) = %v, want ErrUnsupportedMech", mech, err)
		}
	}
	if _, err := NewServer(Plain, nil, false, nil); err == nil {
		t.Errorf("NewServer(PLAIN, nil check) = nil error, want one")
	}
	for _, tt := range []struct {
		mech             string
		supported, plain bool
	}{{"plain", true, true}, {"Login", true, true}, {"CRAM-MD5", false, false}} {
		if got := Supported(tt.mech); got != tt.supported {
			t.Errorf("Supported(%q) = %v, want %v", tt.mech, got, tt.supported)
		}
		if got := IsPlaintext(tt.mech); got != tt.plain {
			t.Errorf("IsPlaintext(%q) = %v, want %v", tt.mech, got, tt.plain)
		}
	}
	if got := fmt.Sprint(Mechanisms()); got != "[PLAIN LOGIN]" {
		t.Errorf("Mechanisms() = %s, want [PLAIN LOGIN]", got)
	}
}

func TestParsePlain(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"\x00alice\x00secret", `"" "alice" "secret"`, false},
		{"admin\x00alice\x00secret", `"admin" "alice" "secret"`, false},
		{"\x00jörg\x00pässwörd", `"" "jörg" "pässwörd"`, false},
		{"\x00alice\x00" + strings.Repeat("p", 255), `"" "alice" "` + strings.Repeat("p", 255) + `"`, false},
		{"\x00alice\x00" + strings.Repeat("p", 256), "", true},
		{"", "", true},
		{"\x00\x00", "", true},
		{"\x00alice\x00", "", true},
		{"\x00\x00secret", "", true},
		{"alice\x00secret", "", true},
		{"\x00a\x00b\x00c", "", true},
		{"\x00a\xff\x00b", "", true},
	}
	for _, tt := range tests {
		z, c, p, err := ParsePlain([]byte(tt.in))
		got := fmt.Sprintf("%q %q %q", z, c, p)
		if tt.wantErr {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParsePlain(%q) = %s, %v, want ErrMalformed", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePlain(%q) = %s, %v, want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParsePlain(f *testing.F) {
	for _, s := range []string{"\x00alice\x00secret", "a\x00b\x00c", "", "\x00\x00", "\xff\x00a\x00b", "\x00a\x00b\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		z, c, p, err := ParsePlain(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParsePlain(%q) error %v does not wrap ErrMalformed", msg, err)
			}
			return
		}
		if c == "" || p == "" {
			t.Fatalf("ParsePlain(%q) accepted an empty authcid or passwd", msg)
		}
		if got := EncodePlain(z, c, p); string(got) != string(msg) {
			t.Fatalf("EncodePlain(ParsePlain(%q)) = %q", msg, got)
		}
	})
}
