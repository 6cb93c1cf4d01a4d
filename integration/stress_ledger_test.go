package integration

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
)

// stressLedger is the stress test's account of every acknowledged
// operation: how many copies of each message (by Message-ID) each mailbox
// must hold, what every UID seen was, and what went wrong. Workers run
// concurrently; every method is safe for that.
//
// The accounting is exact because each message has one owner (a worker,
// by its number): only the owner sets \Deleted on it, expunges it (UID
// EXPUNGE of that UID alone, never a plain EXPUNGE or CLOSE) or moves it,
// so an acknowledged MOVE or EXPUNGE of an owned UID removed exactly that
// message. Anyone may COPY (COPYUID says which source UIDs were copied
// where) or change other flags.
type stressLedger struct {
	owners int // workers; a message's owner is its serial number mod owners
	serial atomic.Int64

	mu       sync.Mutex
	want     map[string]map[string]int      // guarded by mu: mailbox -> Message-ID -> copies
	uids     map[string]map[imap.UID]string // guarded by mu: mailbox -> UID -> Message-ID ever seen
	validity map[string]uint32              // guarded by mu: UIDVALIDITY seen per mailbox
	ops      map[string]int                 // guarded by mu: acknowledged operations by kind
	statuses map[string]int                 // guarded by mu: NO/BAD answers by command and text
	problems []string                       // guarded by mu: violations, in order
	slowest  map[string]time.Duration       // guarded by mu: longest wait by kind, for the report
}

func newStressLedger(owners int) *stressLedger {
	return &stressLedger{
		owners:   owners,
		want:     map[string]map[string]int{},
		uids:     map[string]map[imap.UID]string{},
		validity: map[string]uint32{},
		ops:      map[string]int{},
		statuses: map[string]int{},
		slowest:  map[string]time.Duration{},
	}
}

// newID returns a fresh Message-ID (without angle brackets) for a message
// delivered by source, and its owner.
func (l *stressLedger) newID(source string) (id string, owner int) {
	n := l.serial.Add(1)
	return fmt.Sprintf("%d.%s@stress.postern.test", n, source), int(n % int64(l.owners))
}

// ownerOf returns the owner of a Message-ID newID made, or -1.
func (l *stressLedger) ownerOf(id string) int {
	var n int64
	if _, err := fmt.Sscanf(id, "%d.", &n); err != nil {
		return -1
	}
	return int(n % int64(l.owners))
}

// add records an acknowledged change of the copies of id in mailbox. A
// count may go below zero for a moment: the owner can see a message (IDLE
// pushes it at once) and move or expunge it before the session that
// APPENDed it (or the MDA that delivered it) has booked the delivery. Only
// the counts at the end are compared (expected), where a negative one is
// a difference like any other.
func (l *stressLedger) add(mailbox, id string, delta int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.want[mailbox]
	if m == nil {
		m = map[string]int{}
		l.want[mailbox] = m
	}
	m[id] += delta
}

// seeUID records that UID uid of mailbox is message id; a UID seen with
// another message before is a reused UID.
func (l *stressLedger) seeUID(mailbox string, uid imap.UID, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.uids[mailbox]
	if m == nil {
		m = map[imap.UID]string{}
		l.uids[mailbox] = m
	}
	if old, ok := m[uid]; ok && old != id {
		l.problems = append(l.problems, fmt.Sprintf("UID reused: %s UID %d was %s, now %s", mailbox, uid, old, id))
		return
	}
	m[uid] = id
}

// idOf returns the message a UID of mailbox was seen to be.
func (l *stressLedger) idOf(mailbox string, uid imap.UID) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.uids[mailbox][uid]
	return id, ok
}

// seeValidity records a mailbox's UIDVALIDITY; it must never change.
func (l *stressLedger) seeValidity(mailbox string, v uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.validity[mailbox]; ok && old != v {
		l.problems = append(l.problems, fmt.Sprintf("UIDVALIDITY of %s changed from %d to %d", mailbox, old, v))
	}
	l.validity[mailbox] = v
}

// count adds n to the counter of an operation kind.
func (l *stressLedger) count(op string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops[op] += n
}

// latency notes how long one operation of a kind took: reported, never
// asserted (the machine's load decides it).
func (l *stressLedger) latency(kind string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slowest[kind] = max(l.slowest[kind], d)
}

// problem records a violation.
func (l *stressLedger) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// status records a NO or BAD answer. Every command the workers send is
// well formed and names UIDs, which RFC 9051 §6.4.9 lets vanish silently
// (a UID command ignores UIDs that no longer exist), so one case only is
// documented: COPY of a message another session expunged and this one
// was not told of yet gets NO [EXPUNGEISSUED] and copies nothing (all or
// nothing, RFC 9051 §6.4.7; RFC 5530 §3; Dovecot does the same).
func (l *stressLedger) status(who, cmd string, err *imap.Error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := fmt.Sprintf("%s %s [%s] %s", cmd, err.Type, err.Code, err.Text)
	l.statuses[key]++
	if cmd == "COPY" && err.Type == imap.StatusResponseTypeNo && err.Code == "EXPUNGEISSUED" {
		l.ops["copy-expungeissued"]++
		return
	}
	if l.statuses[key] == 1 {
		l.problems = append(l.problems, fmt.Sprintf("%s: %s answered %s", who, cmd, err.Error()))
	}
}

// expected returns the copies each mailbox must hold (zero counts left
// out).
func (l *stressLedger) expected(mailbox string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for id, n := range l.want[mailbox] {
		if n != 0 {
			out[id] = n
		}
	}
	return out
}

// report returns the operation counts, sorted, for the log.
func (l *stressLedger) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l.ops)) {
		fmt.Fprintf(&b, " %s=%d", k, l.ops[k])
	}
	for _, k := range slices.Sorted(maps.Keys(l.slowest)) {
		fmt.Fprintf(&b, " slowest-%s=%v", k, l.slowest[k].Round(time.Millisecond))
	}
	return strings.TrimSpace(b.String())
}

func (l *stressLedger) allProblems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems)
}

// diffCounts compares the copies found in a mailbox with the ledger's and
// describes each difference (at most max of them).
func diffCounts(where string, got, want map[string]int, max int) []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if got[id] != want[id] {
			out = append(out, fmt.Sprintf("%s: %d copies of <%s>, want %d", where, got[id], id, want[id]))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[id]; !ok {
			out = append(out, fmt.Sprintf("%s: %d copies of <%s>, never delivered there", where, got[id], id))
		}
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("... and %d more", len(out)-max))
	}
	return out
}

// stressText returns the message with Message-ID id, LF line endings:
// a few body lines (how many depends on id), one starting with "From "
// so mbox writers must quote it.
func stressText(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Stress <stress@example.org>\nTo: stress@example.org\nSubject: stress %s\n", id)
	fmt.Fprintf(&b, "Date: Thu, 26 Nov 2026 01:00:00 +0000\nMessage-ID: <%s>\n\n", id)
	b.WriteString(stressBody(id))
	return b.String()
}

// stressBody is the body part of stressText.
func stressBody(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Body of %s.\nFrom the start of a line, quoted in mbox files.\n", id)
	n := 0
	for _, c := range id {
		n += int(c)
	}
	for i := range n % 23 {
		fmt.Fprintf(&b, "line %d of %s\n", i, id)
	}
	return b.String()
}

// messageID extracts the Message-ID (without brackets) from header bytes.
func messageID(hdr string) string {
	for _, line := range strings.Split(strings.ReplaceAll(hdr, "\r\n", "\n"), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(name, "Message-ID") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	return ""
}

// checkStressMessage compares a whole message read back (either line
// ending) with what was delivered under its Message-ID, and returns the
// ID, or an error saying what differs.
func checkStressMessage(text string) (string, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	hdr, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		return "", fmt.Errorf("no end of header in %q", text)
	}
	id := messageID(hdr)
	if id == "" {
		return "", fmt.Errorf("no Message-ID in %q", hdr)
	}
	// mbox writers quote the "From " line (">From "), and UW's format
	// never unquotes it (mboxo): either form is the message.
	want := stressBody(id)
	if body != want && body != strings.Replace(want, "\nFrom ", "\n>From ", 1) {
		return id, fmt.Errorf("body of <%s> = %q, want %q", id, body, want)
	}
	return id, nil
}
