package loadgen

import (
	"fmt"
	"strings"
)

// Op is one kind of measured command.
type Op int

// The measured commands (RFC 3501 §6 unless noted). CONNECT is the TCP
// connection, the greeting and the TLS handshake (and STARTTLS) together.
const (
	OpConnect Op = iota
	OpLogin
	OpList
	OpStatus
	OpSelect
	OpFetchFlags
	OpFetchEnvelope
	OpFetchStructure
	OpFetchBody
	OpUIDFetch
	OpSearch
	OpSort // RFC 5256; skipped when SORT is not advertised
	OpStore
	OpCopy
	OpExpunge
	OpAppend
	OpNoop
	OpIdle // RFC 2177; skipped when IDLE is not advertised
	OpLogout
	numOps
)

var opNames = [numOps]string{
	"CONNECT", "LOGIN", "LIST", "STATUS", "SELECT",
	"FETCH FLAGS", "FETCH ENVELOPE", "FETCH BODYSTRUCTURE", "FETCH BODY[]", "UID FETCH",
	"SEARCH", "SORT", "STORE", "COPY", "EXPUNGE", "APPEND", "NOOP", "IDLE", "LOGOUT",
}

// String returns the name the report uses, e.g. "FETCH BODY[]".
func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Profile is a named, weighted mix of commands. Each client runs the mix
// as a smooth weighted round-robin (every op of weight w appears w times
// per cycle, spread out), starting at its own offset, so a short run still
// exercises every command and no two clients move in lockstep. A LOGOUT
// is followed by a new connection, LOGIN and SELECT.
type Profile struct {
	Name    string
	Doc     string
	Weights [numOps]int
	// Commands are raw command lines run in turn, each with weight 1,
	// after the weighted ones; their answers are checked for a tagged OK
	// only. Options.Commands makes such a profile ("custom").
	Commands []string
}

// Profiles are the built-in mixes of issue 7.
var Profiles = []Profile{
	{
		Name: "mixed",
		Doc:  "a mail client's day: reads, searches, flag changes, appends, copies, expunges, IDLE",
		Weights: weights(map[Op]int{
			OpList: 3, OpStatus: 4, OpSelect: 3,
			OpFetchFlags: 10, OpFetchEnvelope: 6, OpFetchStructure: 5, OpFetchBody: 8, OpUIDFetch: 8,
			OpSearch: 6, OpSort: 3, OpStore: 8, OpCopy: 2, OpExpunge: 3, OpAppend: 3,
			OpNoop: 8, OpIdle: 2, OpLogout: 1,
		}),
	},
	{
		Name: "logins",
		Doc:  "connect, LOGIN, SELECT, LOGOUT, again and again",
		Weights: weights(map[Op]int{
			OpLogout: 1,
		}),
	},
	{
		Name: "append",
		Doc:  "APPEND only, the corpus over and over (what a run adds is expunged at its end)",
		Weights: weights(map[Op]int{
			OpAppend: 1,
		}),
	},
	{
		Name: "idle",
		Doc:  "log in, select, IDLE (for connection memory: --idle as long as --duration)",
		Weights: weights(map[Op]int{
			OpIdle: 1,
		}),
	},
	{
		Name: "read-heavy",
		Doc:  "reading only: FETCH of every kind, SEARCH, SORT, no changes",
		Weights: weights(map[Op]int{
			OpList: 2, OpStatus: 3, OpSelect: 2,
			OpFetchFlags: 12, OpFetchEnvelope: 12, OpFetchStructure: 8, OpFetchBody: 16, OpUIDFetch: 12,
			OpSearch: 6, OpSort: 2, OpNoop: 4, OpLogout: 1,
		}),
	},
}

func weights(m map[Op]int) [numOps]int {
	var w [numOps]int
	for op, n := range m {
		w[op] = n
	}
	return w
}

// LookupProfile returns the built-in profile called name.
func LookupProfile(name string) (Profile, bool) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Ops returns every command a run of the profile exercises: its weighted
// commands, and CONNECT, LOGIN and SELECT that start each session.
func (p Profile) Ops() []Op {
	var out []Op
	for op := range numOps {
		if p.Weights[op] > 0 || op == OpConnect || op == OpLogin || op == OpSelect {
			out = append(out, op)
		}
	}
	for i := range p.Commands {
		out = append(out, numOps+Op(i))
	}
	return out
}

// OpName names op in the report: a built-in command, or a custom line.
func (p Profile) OpName(op Op) string {
	if i := int(op - numOps); i >= 0 && i < len(p.Commands) {
		return p.Commands[i]
	}
	return op.String()
}

// cycle returns one round of the smooth weighted round-robin (the nginx
// upstream algorithm): at each step every op gains its weight, the
// richest is chosen and pays the total.
func (p Profile) cycle() []Op {
	var cur [numOps]int
	total := 0
	for _, w := range p.Weights {
		total += w
	}
	out := make([]Op, 0, total+len(p.Commands))
	for range total {
		best := Op(-1)
		for op := range numOps {
			if p.Weights[op] == 0 {
				continue
			}
			cur[op] += p.Weights[op]
			if best < 0 || cur[op] > cur[best] {
				best = op
			}
		}
		cur[best] -= total
		out = append(out, best)
	}
	for i := range p.Commands {
		out = append(out, numOps+Op(i))
	}
	return out
}

// CycleLen is the number of commands in one round of the profile's mix:
// a client that ran that many has run every weighted command.
func (p Profile) CycleLen() int {
	n := len(p.Commands)
	for _, w := range p.Weights {
		n += w
	}
	return n
}

// ProfileHelp describes the built-in profiles and their weights, for
// --help.
func ProfileHelp() string {
	var b strings.Builder
	b.WriteString("  (each LOGOUT is followed by CONNECT, LOGIN and SELECT)\n")
	for _, p := range Profiles {
		fmt.Fprintf(&b, "  %s: %s\n    ", p.Name, p.Doc)
		sep := ""
		for op := range numOps {
			if w := p.Weights[op]; w > 0 {
				fmt.Fprintf(&b, "%s%s %d", sep, op, w)
				sep = ", "
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
