package pop3server

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Error kinds of a command (STYLE.md habit 5: one choke point, respond):
//
//   - a *badCommand is the client's mistake: -ERR with the reason, counted
//     before login (MaxBadCommandsBeforeLogin);
//   - an *Error is a refusal: -ERR with its response code and text;
//   - an *ioError ends the connection at once, errClose after the response
//     already written;
//   - anything else is the backend's trouble: logged, and the client sees
//     -ERR [SYS/TEMP] (RFC 3206 §4) without the internals.

// badCommand is a command the client got wrong: unknown, malformed, out of
// state or with bad arguments.
type badCommand struct{ reason string }

func (e *badCommand) Error() string { return "pop3server: bad command: " + e.reason }

func bad(format string, args ...any) error {
	return &badCommand{fmt.Sprintf(format, args...)}
}

// ioError marks a failure to read from or write to the client: the
// connection just ends.
type ioError struct{ err error }

func (e *ioError) Error() string { return "pop3server: connection: " + e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// errClose ends the connection after the response already written.
var errClose = errors.New("pop3server: closing connection")

// errInternal is the text the client sees for backend trouble.
const errInternal = "Internal error; the administrator has been told"

// A handler runs one command: it checks the arguments, calls the session
// and writes the +OK response (multi-line ones included); errors go to
// respond.
type handler func(c *conn, r request) error

// command describes one POP3 command: its handler and the states it is
// valid in (RFC 1939 §4-§7).
type command struct {
	run           handler
	authorization bool
	transaction   bool
}

// commands maps each keyword to its command. It is filled in init:
// handlers reach the capability list, which reads the table.
var commands map[string]command

func init() {
	commands = map[string]command{
		"CAPA": {handleCAPA, true, true},
		"QUIT": {handleQUIT, true, true},
		"NOOP": {handleNOOP, false, true},
		"USER": {handleUSER, true, false},
		"PASS": {handlePASS, true, false},
		"APOP": {handleAPOP, true, false},
		"AUTH": {handleAUTH, true, false},
		"STLS": {handleSTLS, true, false},
		"STAT": {handleSTAT, false, true},
		"LIST": {handleLIST, false, true},
		"UIDL": {handleUIDL, false, true},
		"RETR": {handleRETR, false, true},
		"TOP":  {handleTOP, false, true},
		"DELE": {handleDELE, false, true},
		"RSET": {handleRSET, false, true},
	}
}

// command reads and runs one command.
func (c *conn) command() error {
	line, err := c.readLine(max(c.srv.opts.MaxLineLength, maxAuthLineLength))
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return c.respond("", bad("line too long"))
		}
		if errors.Is(err, errLineEndless) {
			return c.closeEndless()
		}
		if isIOError(err) {
			c.endReason("Unexpected client disconnect, while reading line")
		}
		return err
	}
	c.prevUser, c.user = c.user, ""
	// AUTH lines may be longer (RFC 5034 §4); the rest are held to
	// MaxLineLength, CRLF counted.
	if len(line)+2 > c.srv.opts.MaxLineLength && !isAuthLine(line) {
		return c.respond("", bad("line too long"))
	}
	r, err := parseCommand(line)
	if err != nil {
		return c.respond("", bad("%s", err.Error()))
	}
	cmd, ok := commands[r.name]
	if !ok || r.name == "APOP" && c.timestamp == "" {
		return c.respond(r.name, bad("unknown command"))
	}
	if c.state == stateAuthorization && !cmd.authorization || c.state == stateTransaction && !cmd.transaction {
		return c.respond(r.name, bad("%s is not valid in the %s state", r.name, c.state))
	}
	return c.respond(r.name, cmd.run(c, r))
}

// respond answers a command's error, if any, and reports whether the
// connection goes on (nil) or must end.
func (c *conn) respond(name string, err error) error {
	if c.werr != nil {
		return &ioError{c.werr}
	}
	var (
		bc *badCommand
		ie *ioError
		lf *loginFailure
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie), errors.Is(err, errClose):
		return err
	case errors.As(err, &bc):
		c.writeErr("", capitalize(bc.reason))
		return c.countBad()
	case errors.As(err, &lf):
		c.respondRefusal(name, lf.err)
		c.loginFailures++
		if c.loginFailures >= c.srv.opts.MaxLoginFailures {
			c.log.Info("pop3server: too many authentication failures; closing", "failures", c.loginFailures)
			return errClose
		}
		return c.ioErr()
	}
	if errors.Is(err, context.Canceled) && c.ctx.Err() != nil {
		return err // the connection is being closed
	}
	c.respondRefusal(name, err)
	return c.ioErr()
}

// respondRefusal writes -ERR for a refusal (an *Error) or for backend
// trouble (anything else, logged).
func (c *conn) respondRefusal(name string, err error) {
	if e, ok := AsError(err); ok {
		if e.Cause != nil {
			c.log.Warn("pop3server: command refused", "cmd", name, "answer", e.Error(), "err", e.Cause)
		}
		c.writeErr(e.Code, e.Text)
		return
	}
	c.log.Error("pop3server: command failed", "cmd", name, "err", err)
	c.writeErr(CodeSysTemp, errInternal)
}

// countBad counts a rejected command before login and ends the connection
// after MaxBadCommandsBeforeLogin of them: a client that speaks no POP3 (or
// a cross-protocol attack, as in the ALPACA paper) is cut off early.
func (c *conn) countBad() error {
	if err := c.ioErr(); err != nil {
		return err
	}
	if c.state != stateAuthorization {
		return nil
	}
	c.bad++
	if c.bad >= c.srv.opts.MaxBadCommandsBeforeLogin {
		c.log.Info("pop3server: too many invalid commands before login; closing")
		return errClose
	}
	return nil
}

// closeEndless answers a line that did not end within maxDiscard octets
// and ends the connection: what follows cannot be told apart from the
// rest of that line.
func (c *conn) closeEndless() error {
	c.log.Info("pop3server: line without an end; closing", "limit", maxDiscard)
	c.writeErr("", fmt.Sprintf("Line longer than %d octets without an end; closing", maxDiscard))
	return errClose
}

// ioErr returns the sticky write error as an *ioError, or nil.
func (c *conn) ioErr() error {
	if c.werr != nil {
		return &ioError{c.werr}
	}
	return nil
}

func isIOError(err error) bool {
	var ie *ioError
	return errors.As(err, &ie)
}

// loginFailure wraps the session's refusal of a login (USER/PASS, APOP,
// AUTH), counted for MaxLoginFailures.
type loginFailure struct{ err error }

func (e *loginFailure) Error() string { return "pop3server: login failed: " + e.err.Error() }
func (e *loginFailure) Unwrap() error { return e.err }

// wantArgs checks the number of arguments of r.
func wantArgs(r request, minArgs, maxArgs int) error {
	switch {
	case len(r.args) < minArgs:
		return bad("missing argument")
	case len(r.args) > maxArgs:
		return bad("too many arguments")
	}
	return nil
}

// isAuthLine reports whether line is an AUTH command.
func isAuthLine(line []byte) bool {
	return len(line) >= 5 && strings.EqualFold(string(line[:5]), "AUTH ")
}

// capitalize upper-cases the first letter of an ASCII reason: Go error
// texts start in lower case, POP3 response texts read as sentences.
func capitalize(s string) string {
	if s != "" && 'a' <= s[0] && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
