package sasl

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// maxPlainField is the longest authzid, authcid or passwd PLAIN accepts, in
// octets (RFC 4616 §2).
const maxPlainField = 255

// plainServer is the server side of PLAIN (RFC 4616): one message,
// [authzid] NUL authcid NUL passwd.
type plainServer struct {
	ir       []byte
	hasIR    bool
	check    CheckFunc
	started  bool
	finished bool
	username string
}

func (s *plainServer) Name() string     { return Plain }
func (s *plainServer) Username() string { return s.username }

func (s *plainServer) Next(response []byte) ([]byte, bool, error) {
	if s.finished {
		return nil, true, ErrFinished
	}
	if !s.started {
		s.started = true
		if !s.hasIR {
			// RFC 4422 §5: without an initial response the server
			// sends an empty challenge.
			return []byte{}, false, nil
		}
		response = s.ir
	}
	s.finished = true
	authzid, authcid, passwd, err := ParsePlain(response)
	if err != nil {
		return nil, true, err
	}
	s.username = authcid
	// RFC 4616 §2: the server must verify that the authentication
	// identity may act as the authorization identity. We allow only
	// itself.
	if authzid != "" && authzid != authcid {
		return nil, true, fmt.Errorf("%w: %q as %q", ErrAuthzDenied, authcid, authzid)
	}
	if err := s.check(authcid, passwd); err != nil {
		return nil, true, fmt.Errorf("sasl: PLAIN: %w", err)
	}
	return nil, true, nil
}

// ParsePlain decodes a PLAIN message (RFC 4616 §2):
//
//	message   = [authzid] UTF8NUL authcid UTF8NUL passwd
//	authcid   = 1*SAFE ; MUST accept up to 255 octets
//	passwd    = 1*SAFE ; MUST accept up to 255 octets
//
// Each part must be valid UTF-8 without NUL, authcid and passwd non-empty,
// and none longer than 255 octets. Errors wrap ErrMalformed.
func ParsePlain(msg []byte) (authzid, authcid, passwd string, err error) {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: PLAIN: want 3 NUL-separated fields, got %d", ErrMalformed, len(parts))
	}
	for i, name := range []string{"authzid", "authcid", "passwd"} {
		p := parts[i]
		switch {
		case len(p) == 0 && i > 0:
			return "", "", "", fmt.Errorf("%w: PLAIN: empty %s", ErrMalformed, name)
		case len(p) > maxPlainField:
			return "", "", "", fmt.Errorf("%w: PLAIN: %s longer than %d octets", ErrMalformed, name, maxPlainField)
		case !utf8.Valid(p):
			return "", "", "", fmt.Errorf("%w: PLAIN: %s is not UTF-8", ErrMalformed, name)
		}
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}

// EncodePlain builds a PLAIN message, as a client sends it; for tests and
// proxies.
func EncodePlain(authzid, authcid, passwd string) []byte {
	return []byte(authzid + "\x00" + authcid + "\x00" + passwd)
}
