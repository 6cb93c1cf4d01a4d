package pop3server

import (
	"errors"
	"strings"
)

// maxKeyword is the longest keyword the parser takes as one: RFC 2449 §3
// says 3*4VCHAR; a little slack keeps unknown-but-plausible commands
// ("XTND") apart from garbage.
const maxKeyword = 16

// Errors of parseCommand, each answered -ERR with its text.
var (
	errEmptyLine   = errors.New("empty command line")
	errBadKeyword  = errors.New("unknown command")
	errControlChar = errors.New("invalid character in command")
)

// request is one parsed command line (RFC 1939 §3, RFC 2449 §3).
type request struct {
	// name is the keyword in upper case (keywords are case-insensitive,
	// RFC 1939 §3).
	name string
	// arg is everything after the keyword and its single space, verbatim:
	// PASS takes it whole, spaces included (RFC 1939 §7: "a POP3 server
	// may treat spaces in the argument as part of the password").
	arg string
	// args is arg split at runs of spaces, empty fields dropped: clients
	// that send two spaces or a trailing one are tolerated.
	args []string
}

// parseCommand parses a command line without its line ending:
//
//	command = keyword *(SP param)   ; RFC 2449 §3
//	keyword = 3*4VCHAR              ; letters, up to maxKeyword here
//	param   = 1*VCHAR
//
// Parameters may hold any octet but the controls (8-bit user names and
// passwords are passed on); a control character (NUL, bare CR, ESC...)
// other than TAB in a parameter is refused, since no user name, password,
// number or base64 text holds one and C-based backends would truncate at
// NUL.
func parseCommand(line []byte) (request, error) {
	if len(line) == 0 {
		return request{}, errEmptyLine
	}
	for _, b := range line {
		if b < 0x20 && b != '\t' || b == 0x7f {
			return request{}, errControlChar
		}
	}
	kw, arg, _ := strings.Cut(string(line), " ")
	if kw == "" || len(kw) > maxKeyword {
		return request{}, errBadKeyword
	}
	for i := 0; i < len(kw); i++ {
		if c := kw[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return request{}, errBadKeyword
		}
	}
	return request{name: strings.ToUpper(kw), arg: arg, args: strings.Fields(arg)}, nil
}

// maxMsgNum bounds the message numbers and line counts parseNumber takes,
// far above any maildrop, so that arithmetic on them cannot overflow.
const maxMsgNum = 1<<31 - 1

// parseNumber parses a message number or TOP's line count: 1*DIGIT
// (RFC 1939 §3 "msg"), no sign. Values above maxMsgNum are clamped: "TOP 1
// 99999999999" asks for all lines, and message 99999999999 does not exist
// either way.
func parseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= maxMsgNum {
			n = n*10 + int(c-'0')
		}
	}
	return min(n, maxMsgNum), true
}
