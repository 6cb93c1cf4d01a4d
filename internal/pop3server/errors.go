package pop3server

import "errors"

// Code is an extended response code (RFC 2449 §8, RFC 3206).
type Code string

// Response codes.
const (
	CodeInUse      Code = "IN-USE"      // RFC 2449 §8.1.1: maildrop locked
	CodeLoginDelay Code = "LOGIN-DELAY" // RFC 2449 §8.1.2: logged in too recently
	CodeSysTemp    Code = "SYS/TEMP"    // RFC 3206 §4: temporary system problem
	CodeSysPerm    Code = "SYS/PERM"    // RFC 3206 §4: permanent system problem
	CodeAuth       Code = "AUTH"        // RFC 3206 §5: credentials rejected
)

// Error is a -ERR answer with an optional response code.
type Error struct {
	Code Code
	Text string
	// Cause, when set, is logged and never sent.
	Cause error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return "pop3: -ERR [" + string(e.Code) + "] " + e.Text
	}
	return "pop3: -ERR " + e.Text
}

// ErrAuth is what Login returns for wrong credentials and refused accounts
// alike (the reason is logged, never told).
var ErrAuth = &Error{Code: CodeAuth, Text: "Authentication failed"}

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
