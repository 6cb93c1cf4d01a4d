package imap

import (
	"errors"
	"fmt"
)

// ConnState is the state of an IMAP connection (RFC 3501 §3).
type ConnState int

// Connection states.
const (
	StateNotAuthenticated ConnState = iota
	StateAuthenticated
	StateSelected
	StateLogout
)

func (s ConnState) String() string {
	switch s {
	case StateNotAuthenticated:
		return "not authenticated"
	case StateAuthenticated:
		return "authenticated"
	case StateSelected:
		return "selected"
	case StateLogout:
		return "logout"
	}
	return fmt.Sprintf("ConnState(%d)", int(s))
}

// StatusType is the kind of a status response (RFC 3501 §7.1).
type StatusType string

// Status response types.
const (
	StatusOK      StatusType = "OK"
	StatusNO      StatusType = "NO"
	StatusBAD     StatusType = "BAD"
	StatusBYE     StatusType = "BYE"
	StatusPREAUTH StatusType = "PREAUTH"
)

// ResponseCode is a response code (RFC 3501 §7.1, RFC 5530, RFC 4315).
type ResponseCode string

// Response codes.
const (
	CodeAlert                ResponseCode = "ALERT"
	CodeParse                ResponseCode = "PARSE"
	CodeReadOnly             ResponseCode = "READ-ONLY"
	CodeReadWrite            ResponseCode = "READ-WRITE"
	CodeTryCreate            ResponseCode = "TRYCREATE"
	CodeUIDNext              ResponseCode = "UIDNEXT"
	CodeUIDValidity          ResponseCode = "UIDVALIDITY"
	CodeUnseen               ResponseCode = "UNSEEN"
	CodePermanentFlags       ResponseCode = "PERMANENTFLAGS"
	CodeCapability           ResponseCode = "CAPABILITY"
	CodeAppendUID            ResponseCode = "APPENDUID"
	CodeCopyUID              ResponseCode = "COPYUID"
	CodeUIDNotSticky         ResponseCode = "UIDNOTSTICKY"
	CodeClosed               ResponseCode = "CLOSED"
	CodeUnavailable          ResponseCode = "UNAVAILABLE"
	CodeAuthenticationFailed ResponseCode = "AUTHENTICATIONFAILED"
	CodeAuthorizationFailed  ResponseCode = "AUTHORIZATIONFAILED"
	CodeExpired              ResponseCode = "EXPIRED"
	CodePrivacyRequired      ResponseCode = "PRIVACYREQUIRED"
	CodeContactAdmin         ResponseCode = "CONTACTADMIN"
	CodeNoPerm               ResponseCode = "NOPERM"
	CodeInUse                ResponseCode = "INUSE"
	CodeExpungeIssued        ResponseCode = "EXPUNGEISSUED"
	CodeCorruption           ResponseCode = "CORRUPTION"
	CodeServerBug            ResponseCode = "SERVERBUG"
	CodeClientBug            ResponseCode = "CLIENTBUG"
	CodeCannot               ResponseCode = "CANNOT"
	CodeLimit                ResponseCode = "LIMIT"
	CodeOverQuota            ResponseCode = "OVERQUOTA"
	CodeAlreadyExists        ResponseCode = "ALREADYEXISTS"
	CodeNonExistent          ResponseCode = "NONEXISTENT"
	CodeTooBig               ResponseCode = "TOOBIG"
	CodeBadCharset           ResponseCode = "BADCHARSET"
	CodeUnknownCTE           ResponseCode = "UNKNOWN-CTE" // RFC 3516 §4.3
	CodeBadURL               ResponseCode = "BADURL"      // RFC 4469 §6
	CodeUseAttr              ResponseCode = "USEATTR"     // RFC 6154 §5.3
	CodeMailboxID            ResponseCode = "MAILBOXID"   // RFC 8474 §4.1
)

// Error is a status response carried as a Go error: a backend returns one to
// answer NO (or BAD) with a response code and a human-readable text that is
// safe to show the client. Any other error is logged and becomes
// NO [SERVERBUG] (STYLE.md habit 5).
type Error struct {
	// Type is StatusNO or StatusBAD (StatusBYE closes the connection).
	// StatusOK is a success whose tagged OK carries Code and Text, such
	// as OK [EXPUNGEISSUED] (RFC 5530 §3).
	Type StatusType
	Code ResponseCode // may be ""
	// CodeArg is the response code's argument, written verbatim after the
	// code (for example "(\Seen \Deleted)" or "1 2:4 7:9").
	CodeArg string
	Text    string
	// Cause, when set, is what the administrator should know and the client
	// must not be told (a path, a permission): the server logs it.
	Cause error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("imap: %s [%s] %s", e.Type, e.Code, e.Text)
	}
	return fmt.Sprintf("imap: %s %s", e.Type, e.Text)
}

// NO returns an *Error answering NO with the given code (may be "") and text.
func NO(code ResponseCode, text string) *Error {
	return &Error{Type: StatusNO, Code: code, Text: text}
}

// BAD returns an *Error answering BAD with the given code (may be "") and text.
func BAD(code ResponseCode, text string) *Error {
	return &Error{Type: StatusBAD, Code: code, Text: text}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
