package imapwire

import (
	"fmt"

	"github.com/postern/postern/internal/imap"
)

// SyntaxError is a client mistake (RFC 3501 §9): answer BAD with Error().
// The text never contains CR or LF.
type SyntaxError struct{ Msg string }

// Error returns the message prefixed with the package name.
func (e *SyntaxError) Error() string { return "imapwire: " + e.Msg }

// LimitError is a limit hit (line too long, literal too large, nesting too
// deep; DESIGN.md §6). Code is the response code to answer with (TOOBIG,
// LIMIT; RFC 5530).
type LimitError struct {
	Code imap.ResponseCode
	Msg  string
	// Fatal is true when the connection cannot be resynchronised and must
	// be closed with BYE (for example a line longer than the limit whose
	// end could not be found).
	Fatal bool
}

// Error returns the message prefixed with the package name.
func (e *LimitError) Error() string { return "imapwire: " + e.Msg }

// describe names an octet for an error message; the result never holds CR
// or LF, so it can go into a BAD response as is.
func describe(b byte) string {
	switch {
	case b == ' ':
		return "SP"
	case b == '\r':
		return "end of line"
	case b == '\n':
		return "a bare LF (lines end with CRLF)"
	case b == 0:
		return "NUL"
	case b > 0x20 && b < 0x7f:
		return fmt.Sprintf("%q", string(rune(b)))
	}
	return fmt.Sprintf("octet 0x%02X", b)
}
