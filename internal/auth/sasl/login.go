package sasl

import (
	"bytes"
	"fmt"
)

// LOGIN challenges, as draft-murchison-sasl-login-00 §2 recommends and as
// clients (Outlook, older Thunderbird) expect.
var (
	loginUserChallenge = []byte("Username:")
	loginPassChallenge = []byte("Password:")
)

// maxLoginField bounds the user name and password LOGIN accepts, in octets.
const maxLoginField = 1024

// loginServer is the server side of LOGIN: the server asks for the user
// name, then the password. An initial response, if any, is the user name
// (draft-murchison-sasl-login-00 §2).
type loginServer struct {
	ir       []byte
	hasIR    bool
	check    CheckFunc
	step     int // 0 not started, 1 waiting for the user name, 2 for the password, 3 finished
	username string
}

func (s *loginServer) Name() string     { return Login }
func (s *loginServer) Username() string { return s.username }

func (s *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch s.step {
	case 0:
		// An empty initial response carries no user name; ask for one.
		if !s.hasIR || len(s.ir) == 0 {
			s.step = 1
			return loginUserChallenge, false, nil
		}
		response = s.ir
		fallthrough
	case 1:
		if err := checkLoginField("user name", response); err != nil {
			s.step = 3
			return nil, true, err
		}
		if len(response) == 0 {
			s.step = 3
			return nil, true, fmt.Errorf("%w: LOGIN: empty user name", ErrMalformed)
		}
		s.username = string(response)
		s.step = 2
		return loginPassChallenge, false, nil
	case 2:
		s.step = 3
		if err := checkLoginField("password", response); err != nil {
			return nil, true, err
		}
		if err := s.check(s.username, string(response)); err != nil {
			return nil, true, fmt.Errorf("sasl: LOGIN: %w", err)
		}
		return nil, true, nil
	}
	return nil, true, ErrFinished
}

// checkLoginField refuses NULs (which no user name or password holds and
// which C-based backends would truncate at) and overlong values.
func checkLoginField(name string, b []byte) error {
	switch {
	case bytes.IndexByte(b, 0) >= 0:
		return fmt.Errorf("%w: LOGIN: NUL in %s", ErrMalformed, name)
	case len(b) > maxLoginField:
		return fmt.Errorf("%w: LOGIN: %s longer than %d octets", ErrMalformed, name, maxLoginField)
	}
	return nil
}
