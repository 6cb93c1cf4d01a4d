package sasl

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

// EncodeChallenge base64-encodes a server challenge for the continuation
// line ("+ " in IMAP, RFC 3501 §7.5; "+ " in POP3, RFC 5034 §4). An empty
// challenge encodes as "".
func EncodeChallenge(challenge []byte) string {
	return base64.StdEncoding.EncodeToString(challenge)
}

// DecodeResponse decodes a client's continuation line (without CRLF): "*"
// gives ErrCancelled (RFC 4422 §3.5; RFC 3501 §6.2.2; RFC 5034 §4), an
// empty line an empty response, anything else must be base64 (RFC 4648
// §4; padding may be left out). Bad base64 gives ErrMalformed.
func DecodeResponse(line []byte) ([]byte, error) {
	if len(line) == 1 && line[0] == '*' {
		return nil, ErrCancelled
	}
	return decodeBase64(line)
}

// DecodeInitialResponse decodes the initial-response argument of IMAP
// AUTHENTICATE (RFC 4959 §3) or POP3 AUTH (RFC 5034 §4), where a lone "="
// stands for an empty response.
func DecodeInitialResponse(arg []byte) ([]byte, error) {
	if len(arg) == 1 && arg[0] == '=' {
		return []byte{}, nil
	}
	if len(arg) == 0 {
		return nil, fmt.Errorf("%w: empty initial response (use \"=\")", ErrMalformed)
	}
	return decodeBase64(arg)
}

func decodeBase64(b []byte) ([]byte, error) {
	// encoding/base64 skips CR and LF; a response is one line, so they
	// can only be garbage.
	if bytes.ContainsAny(b, "\r\n") {
		return nil, fmt.Errorf("%w: bad base64: line break inside", ErrMalformed)
	}
	enc := base64.StdEncoding
	if len(b)%4 != 0 && !bytes.HasSuffix(b, []byte("=")) {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(b)))
	n, err := enc.Strict().Decode(out, b)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64: %v", ErrMalformed, err)
	}
	return out[:n], nil
}
