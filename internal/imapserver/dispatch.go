package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
)

// states is a set of connection states a command is valid in (RFC 3501 §6).
type states uint8

const (
	notAuthenticated states = 1 << iota
	authenticated
	selected

	anyState   = notAuthenticated | authenticated | selected
	afterLogin = authenticated | selected
)

func (s states) has(st imap.ConnState) bool {
	switch st {
	case imap.StateNotAuthenticated:
		return s&notAuthenticated != 0
	case imap.StateAuthenticated:
		return s&authenticated != 0
	case imap.StateSelected:
		return s&selected != 0
	}
	return false
}

// handler parses a command's arguments (the decoder is just after the
// command name), ends the line with endLine, calls the session and writes
// the untagged responses. A nil error means tagged OK, with cmd's code and
// text.
type handler func(c *conn, cmd *command) error

// commandSpec is one command of the table.
type commandSpec struct {
	states states
	run    handler
	// noExpunge: RFC 3501 §7.4.1 forbids EXPUNGE responses while
	// answering FETCH, STORE and SEARCH, because the client may be
	// numbering its results by sequence number. The RFC allows them
	// during the UID forms, but holding them back there too costs
	// nothing (they come with the next command) and spares clients that
	// get this wrong, so the UID forms are marked too.
	noExpunge bool
}

// commands maps command names (RFC 3501 §6 and extensions) to handlers.
var commands = map[string]commandSpec{
	// Any state (RFC 3501 §6.1).
	"CAPABILITY": {states: anyState, run: handleCapability},
	"NOOP":       {states: anyState, run: handleNoop},
	"LOGOUT":     {states: anyState, run: handleLogout},
	// RFC 2971 §3.1: ID is valid in any state.
	"ID": {states: anyState, run: handleID},

	// RFC 5161: valid only after login.
	"ENABLE": {states: afterLogin, run: handleEnable},

	// Not authenticated (RFC 3501 §6.2).
	"STARTTLS":     {states: notAuthenticated, run: handleStartTLS},
	"AUTHENTICATE": {states: notAuthenticated, run: handleAuthenticate},
	"LOGIN":        {states: notAuthenticated, run: handleLogin},

	// Authenticated (RFC 3501 §6.3), also valid when selected.
	"SELECT":      {states: afterLogin, run: handleSelect},
	"EXAMINE":     {states: afterLogin, run: handleSelect},
	"CREATE":      {states: afterLogin, run: handleCreate},
	"DELETE":      {states: afterLogin, run: handleDelete},
	"RENAME":      {states: afterLogin, run: handleRename},
	"SUBSCRIBE":   {states: afterLogin, run: handleSubscribe},
	"UNSUBSCRIBE": {states: afterLogin, run: handleUnsubscribe},
	"LIST":        {states: afterLogin, run: handleList},
	"LSUB":        {states: afterLogin, run: handleList},
	"NAMESPACE":   {states: afterLogin, run: handleNamespace},
	"STATUS":      {states: afterLogin, run: handleStatus},
	"APPEND":      {states: afterLogin, run: handleAppend},
	"IDLE":        {states: afterLogin, run: handleIdle},
	// RFC 4978 §5: command-auth.
	"COMPRESS": {states: afterLogin, run: handleCompress},

	// RFC 9208 (quota.go): only for a SessionQuota.
	"GETQUOTA":     {states: afterLogin, run: handleGetQuota},
	"GETQUOTAROOT": {states: afterLogin, run: handleGetQuotaRoot},
	"SETQUOTA":     {states: afterLogin, run: handleSetQuota},

	// Selected (RFC 3501 §6.4).
	"CHECK":    {states: selected, run: handleCheck},
	"CLOSE":    {states: selected, run: handleClose},
	"UNSELECT": {states: selected, run: handleClose},
	"EXPUNGE":  {states: selected, run: handleExpunge},
	"SEARCH":   {states: selected, run: handleSearch, noExpunge: true},
	"FETCH":    {states: selected, run: handleFetch, noExpunge: true},
	"STORE":    {states: selected, run: handleStore, noExpunge: true},
	"COPY":     {states: selected, run: handleCopy},
	"MOVE":     {states: selected, run: handleCopy},
	"SORT":     {states: selected, run: handleSort, noExpunge: true},
	"THREAD":   {states: selected, run: handleThread, noExpunge: true},
}

// uidCommands are the commands that follow UID (RFC 3501 §6.4.8, RFC 4315
// UID EXPUNGE, RFC 6851 UID MOVE).
var uidCommands = map[string]commandSpec{
	"FETCH":   {states: selected, run: handleFetch, noExpunge: true},
	"STORE":   {states: selected, run: handleStore, noExpunge: true},
	"SEARCH":  {states: selected, run: handleSearch, noExpunge: true},
	"COPY":    {states: selected, run: handleCopy},
	"MOVE":    {states: selected, run: handleCopy},
	"EXPUNGE": {states: selected, run: handleExpunge},
	"SORT":    {states: selected, run: handleSort, noExpunge: true},
	"THREAD":  {states: selected, run: handleThread, noExpunge: true},
}

// dispatch reads the command name, checks the state, runs the handler and
// then reports pending mailbox updates before the tagged response.
func (c *conn) dispatch(cmd *command) error {
	var name string
	if !c.dec.Atom(&name) {
		// A command name that runs past the line limit is answered
		// with the limit, not as a missing command.
		if err := c.decErr(); isIOError(err) || isLimit(err) {
			return err
		}
		return imap.BAD("", "Missing command")
	}
	name = strings.ToUpper(name)
	table := commands
	if name == "UID" {
		var sub string
		if !c.dec.SP() || !c.dec.Atom(&sub) {
			if err := c.decErr(); isIOError(err) || isLimit(err) {
				return err
			}
			return imap.BAD("", "Missing command after UID")
		}
		name, table, cmd.uid = strings.ToUpper(sub), uidCommands, true
	}
	cmd.name = name
	if cmd.uid {
		cmd.name = "UID " + name
	}
	spec, ok := table[name]
	if ok && name == "MOVE" {
		_, ok = c.session.(SessionMove)
	}
	if ok && (name == "SORT" || name == "THREAD") {
		_, ok = c.session.(SessionSort)
	}
	if ok && (strings.HasSuffix(name, "QUOTA") || name == "GETQUOTAROOT") {
		_, ok = c.session.(SessionQuota)
	}
	if !ok {
		cmd.name = "" // not a command: keep client text out of the logs
		return imap.BAD("", "Unknown command")
	}
	before := c.state
	if !spec.states.has(before) {
		return errWrongState(before, spec.states)
	}
	err := spec.run(c, cmd)
	if cmd.lineDone && afterLogin.has(before) && afterLogin.has(c.state) {
		if perr := c.poll(!spec.noExpunge); perr != nil {
			return perr
		}
	}
	if cmd.lineDone && c.state != imap.StateLogout {
		c.alerts()
	}
	return err
}

// alerts sends the session's administrator alerts, if any, as untagged
// OK [ALERT] responses before the command's tagged response.
func (c *conn) alerts() {
	a, ok := c.session.(SessionAlerts)
	if !ok {
		return
	}
	for _, line := range a.Alerts(c.ctx) {
		c.w.status("*", imap.StatusOK, imap.CodeAlert, "", line)
	}
}

// errWrongState answers a command given in a state it is not valid in
// (RFC 3501 §3).
func errWrongState(st imap.ConnState, valid states) error {
	switch {
	case st == imap.StateNotAuthenticated:
		return imap.BAD("", "Command not allowed before login")
	case valid == notAuthenticated:
		return imap.BAD("", "Command not allowed after login")
	}
	return imap.BAD("", "Command not allowed without a selected mailbox")
}

// poll writes pending mailbox updates (RFC 3501 §7: a server may send
// untagged data with any command's response). A failure is logged and the
// command's own result still goes out, unless the session answers BYE
// (the mailbox vanished, say): then that ends the connection.
func (c *conn) poll(allowExpunge bool) error {
	err := c.session.Poll(c.ctx, c.w, allowExpunge)
	if err == nil {
		return nil
	}
	if e, ok := imap.AsError(err); ok && e.Type == imap.StatusBYE {
		return err
	}
	c.log.Warn("imapserver: poll failed", "err", err)
	return nil
}

func isLimit(err error) bool {
	_, ok := asLimit(err)
	return ok
}
