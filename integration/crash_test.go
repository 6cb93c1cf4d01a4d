package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test (issue 8, item 4): a real `postern serve` daemon is
// killed with SIGKILL at a random moment while a client runs APPEND,
// MULTIAPPEND, COPY, MOVE, STORE and UID EXPUNGE (which rewrites an mbox
// file), and after each kill:
//
//   - `postern fsck` on the user's store reports no error (pending items
//     are allowed: they are what the next session merges by itself);
//   - the daemon starts again and serves the mailboxes;
//   - every acknowledged APPEND, COPY and MOVE result is there exactly
//     once (each message carries a unique Message-ID), with the UID the
//     server acknowledged; an acknowledged MOVE's source is gone, an
//     acknowledged EXPUNGE's message is gone, an acknowledged STORE's
//     \Flagged is there; a MOVE in flight leaves the message in one of the
//     two mailboxes, never in neither;
//   - no UID is ever given to two messages, a message first seen after a
//     crash has a UID above every UID seen before, UIDVALIDITY never
//     changes and UIDNEXT stays above every UID seen.
//
// POSTERN_CRASH_KILLS sets the number of kills per store (default 10 in
// `go test`; scripts/crash.sh runs hundreds), POSTERN_CRASH_SEED the seed
// (default: the time; logged, so a failure can be run again with it).
func TestCrashKill9(t *testing.T) {
	kills := envInt(t, "POSTERN_CRASH_KILLS", 10)
	seed := uint64(envInt(t, "POSTERN_CRASH_SEED", int(time.Now().UnixNano()%1e9)))
	t.Logf("POSTERN_CRASH_SEED=%d POSTERN_CRASH_KILLS=%d", seed, kills)
	for _, kind := range []string{"maildir", "mbox"} {
		t.Run(kind, func(t *testing.T) {
			crashRun(t, kind, kills, seed)
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// presence is what the client knows of a message in a mailbox.
type presence int

const (
	absent presence = iota
	present
	maybe // the command was in flight at the kill
)

// crashMsg is the client's knowledge of one message in one mailbox.
type crashMsg struct {
	where   presence
	uid     uint32 // 0 until known
	flagged int    // -1 unknown, 0 no, 1 yes
}

// crashModel is what the client was told (acknowledged) and what is
// uncertain because it was in flight.
type crashModel struct {
	boxes       map[string]map[string]*crashMsg // mailbox -> Message-ID -> message
	moveUnsure  map[string]bool                 // Message-IDs whose MOVE was in flight
	uidValidity map[string]uint32
	seenUID     map[string]map[uint32]string // every UID ever seen, with its message
	maxUID      map[string]uint32
	next        int
	acked       int
}

var crashBoxes = []string{"INBOX", "Dest"}

func newCrashModel() *crashModel {
	m := &crashModel{boxes: map[string]map[string]*crashMsg{}, moveUnsure: map[string]bool{},
		uidValidity: map[string]uint32{}, seenUID: map[string]map[uint32]string{}, maxUID: map[string]uint32{}}
	for _, b := range crashBoxes {
		m.boxes[b] = map[string]*crashMsg{}
		m.seenUID[b] = map[uint32]string{}
	}
	return m
}

// noteUID records that box gave uid to id, failing on a UID reuse.
func (m *crashModel) noteUID(t *testing.T, box string, uid uint32, id string) {
	t.Helper()
	if old, ok := m.seenUID[box][uid]; ok && old != id {
		t.Errorf("%s: UID %d given to %s, but it was %s's: UID reused", box, uid, id, old)
	}
	m.seenUID[box][uid] = id
	m.maxUID[box] = max(m.maxUID[box], uid)
}

func crashRun(t *testing.T, kind string, kills int, seed uint64) {
	cs := newCrashSetup(t, t.TempDir(), kind, "")
	m := newCrashModel()
	d := startDaemon(t, cs.conf)
	ic, err := dialConn(d.addr, cs.user, cs.pass)
	if err != nil {
		t.Fatal(err)
	}
	if _, st, err := ic.do("CREATE Dest"); err != nil || !strings.HasPrefix(st, "OK") {
		t.Fatalf("CREATE Dest: %q %v", st, err)
	}
	ic.close()
	ops := 0
	for round := 0; round <= kills; round++ {
		if round > 0 {
			d = startDaemon(t, cs.conf)
		}
		// One session per round: it checks what the last one left, then
		// works until the kill (a system account's login costs a
		// yescrypt hash).
		ic, err := dialConn(d.addr, cs.user, cs.pass)
		if err != nil {
			t.Fatalf("%s: round %d: the restarted server does not serve: %v\n%s", kind, round, err, d.stderr)
		}
		crashVerify(t, m, ic, fmt.Sprintf("round %d (seed %d)", round, seed))
		if t.Failed() {
			t.Fatalf("%s: stopped at round %d; run again with POSTERN_CRASH_SEED=%d", kind, round, seed)
		}
		if round == kills {
			ic.close()
			d.stop()
			break
		}
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		delay := time.Duration(2+rng.IntN(200)) * time.Millisecond
		// The kill is armed once the client is logged in: it then falls
		// among the mail commands.
		timer := time.AfterFunc(delay, d.kill)
		ops += crashWork(t, m, ic, rng)
		ic.close()
		timer.Stop()
		d.kill()
		out, code := runFsck(t, "-c", cs.conf, cs.store)
		if code != 0 {
			t.Fatalf("%s round %d (kill after %v, seed %d): postern fsck status %d\n%s", kind, round, delay, seed, code, out)
		}
	}
	out, code := runFsck(t, "-c", cs.conf, cs.store)
	if code != 0 {
		t.Fatalf("%s: postern fsck after a clean stop: status %d\n%s", kind, code, out)
	}
	t.Logf("%s: %d kills survived, %d commands sent, %d acknowledged; last fsck: %s", kind, kills, ops, m.acked, strings.TrimSpace(lastLine(out)))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var (
	appendUIDRe = regexp.MustCompile(`\[APPENDUID (\d+) ([0-9:,]+)\]`)
	copyUIDRe   = regexp.MustCompile(`\[COPYUID (\d+) ([0-9:,]+) ([0-9:,]+)\]`)
)

// uidList expands "5", "5:7" or "5,6,7".
func uidList(s string) []uint32 {
	var out []uint32
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, ":")
		lo, _ := strconv.ParseUint(a, 10, 32)
		hi := lo
		if isRange {
			hi, _ = strconv.ParseUint(b, 10, 32)
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		for u := lo; u <= hi; u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

// crashWork sends commands until the server dies; it returns how many it
// sent. Each command's effect is recorded in the model when acknowledged,
// and as uncertain when the kill left it without an answer.
func crashWork(t *testing.T, m *crashModel, ic *imapConn, rng *rand.Rand) int {
	selected := ""
	sel := func(box string) bool {
		if selected == box {
			return true
		}
		_, st, err := ic.do("SELECT " + box)
		if err != nil {
			return false
		}
		if !strings.HasPrefix(st, "OK") {
			t.Errorf("SELECT %s: %s", box, st)
			return false
		}
		selected = box
		return true
	}
	// pick returns a present message with a known UID in box.
	pick := func(box string, ok func(id string) bool) (string, *crashMsg) {
		var ids []string
		for id, e := range m.boxes[box] {
			if e.where == present && e.uid != 0 && (ok == nil || ok(id)) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return "", nil
		}
		// Map order is random: sort for a reproducible choice.
		sortStrings(ids)
		id := ids[rng.IntN(len(ids))]
		return id, m.boxes[box][id]
	}
	notInDest := func(id string) bool { e := m.boxes["Dest"][id]; return e == nil || e.where == absent }
	newMsg := func() (string, string) {
		m.next++
		id := fmt.Sprintf("<crash-%d.%d@test>", m.next, rng.IntN(1e6))
		body := fmt.Sprintf("From: a@test\r\nTo: b@test\r\nSubject: crash %d\r\nMessage-ID: %s\r\n\r\n%s\r\n", m.next, id,
			strings.Repeat("line of the body\r\n", 1+rng.IntN(40)))
		return id, body
	}
	sent := 0
	for {
		sent++
		switch op := rng.IntN(100); {
		case op < 30 || op < 40: // APPEND, or MULTIAPPEND of three
			n := 1
			if op >= 30 {
				n = 3
			}
			var ids []string
			cmd := "APPEND INBOX"
			for range n {
				id, body := newMsg()
				ids = append(ids, id)
				cmd += fmt.Sprintf(" (\\Seen) {%d+}\r\n%s", len(body), body)
			}
			for _, id := range ids {
				m.boxes["INBOX"][id] = &crashMsg{where: maybe, flagged: 0}
			}
			_, st, err := ic.do(cmd)
			if err != nil {
				return sent
			}
			mm := appendUIDRe.FindStringSubmatch(st)
			if mm == nil {
				t.Errorf("APPEND: %s", st)
				return sent
			}
			uids := uidList(mm[2])
			if len(uids) != n {
				t.Errorf("APPEND of %d: %s", n, st)
				return sent
			}
			for i, id := range ids {
				e := m.boxes["INBOX"][id]
				e.where, e.uid = present, uids[i]
				m.noteUID(t, "INBOX", uids[i], id)
			}
			m.acked++
		case op < 55: // UID COPY or UID MOVE INBOX -> Dest
			move := op >= 48
			id, e := pick("INBOX", notInDest)
			if id == "" || !sel("INBOX") {
				if id == "" {
					continue
				}
				return sent
			}
			verb := "COPY"
			if move {
				verb = "MOVE"
				e.where = maybe
				m.moveUnsure[id] = true
			}
			m.boxes["Dest"][id] = &crashMsg{where: maybe, flagged: e.flagged}
			u, st, err := ic.do(fmt.Sprintf("UID %s %d Dest", verb, e.uid))
			if err != nil {
				return sent
			}
			mm := copyUIDRe.FindStringSubmatch(st)
			for _, l := range u {
				if mm == nil {
					mm = copyUIDRe.FindStringSubmatch(l)
				}
			}
			if !strings.HasPrefix(st, "OK") || mm == nil {
				t.Errorf("UID %s: %s %q", verb, st, u)
				return sent
			}
			dst := uidList(mm[3])
			de := m.boxes["Dest"][id]
			de.where, de.uid = present, dst[0]
			m.noteUID(t, "Dest", dst[0], id)
			if move {
				e.where = absent
				delete(m.moveUnsure, id)
			}
			m.acked++
		case op < 80: // UID STORE +FLAGS or -FLAGS \Flagged
			box := crashBoxes[rng.IntN(2)]
			id, e := pick(box, nil)
			if id == "" {
				continue
			}
			if !sel(box) {
				return sent
			}
			sign, want := "+", 1
			if e.flagged == 1 {
				sign, want = "-", 0
			}
			e.flagged = -1
			_, st, err := ic.do(fmt.Sprintf("UID STORE %d %sFLAGS.SILENT (\\Flagged)", e.uid, sign))
			if err != nil {
				return sent
			}
			if !strings.HasPrefix(st, "OK") {
				t.Errorf("UID STORE: %s", st)
				return sent
			}
			e.flagged = want
			m.acked++
		default: // \Deleted and UID EXPUNGE of one message
			box := crashBoxes[rng.IntN(2)]
			id, e := pick(box, nil)
			if id == "" {
				continue
			}
			if !sel(box) {
				return sent
			}
			_, st, err := ic.do(fmt.Sprintf("UID STORE %d +FLAGS.SILENT (\\Deleted)", e.uid))
			if err != nil {
				return sent
			}
			if !strings.HasPrefix(st, "OK") {
				t.Errorf("UID STORE \\Deleted: %s", st)
				return sent
			}
			e.where = maybe
			_, st, err = ic.do(fmt.Sprintf("UID EXPUNGE %d", e.uid))
			if err != nil {
				return sent
			}
			if !strings.HasPrefix(st, "OK") {
				t.Errorf("UID EXPUNGE: %s", st)
				return sent
			}
			e.where = absent
			m.acked++
		}
		if t.Failed() {
			return sent
		}
	}
}

// crashVerify reads both mailboxes from a new session and checks them
// against the model, then settles what was uncertain.
func crashVerify(t *testing.T, m *crashModel, ic *imapConn, when string) {
	t.Helper()
	seen := map[string]map[string]fetched{}
	for _, box := range crashBoxes {
		uv, uidNext, msgs, err := ic.listMailbox(box)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if old, ok := m.uidValidity[box]; ok && old != uv {
			t.Errorf("%s: %s UIDVALIDITY %d, was %d", when, box, uv, old)
		}
		m.uidValidity[box] = uv
		if uidNext <= m.maxUID[box] {
			t.Errorf("%s: %s UIDNEXT %d, but UID %d was seen", when, box, uidNext, m.maxUID[box])
		}
		threshold := m.maxUID[box]
		got := map[string]fetched{}
		for _, f := range msgs {
			if f.id == "" {
				continue
			}
			if prev, dup := got[f.id]; dup {
				t.Errorf("%s: %s holds %s twice (UIDs %d and %d)", when, box, f.id, prev.uid, f.uid)
			}
			got[f.id] = f
			e := m.boxes[box][f.id]
			switch {
			case e == nil || e.where == absent:
				t.Errorf("%s: %s holds %s (UID %d), which must not be there", when, box, f.id, f.uid)
				continue
			case e.uid != 0 && e.uid != f.uid:
				t.Errorf("%s: %s: %s has UID %d, acknowledged as %d", when, box, f.id, f.uid, e.uid)
			case e.uid == 0 && f.uid <= threshold:
				t.Errorf("%s: %s: %s, first seen now, has UID %d, not above %d already seen", when, box, f.id, f.uid, threshold)
			}
			if e.flagged >= 0 && f.flagged != (e.flagged == 1) {
				t.Errorf("%s: %s: %s \\Flagged is %v, acknowledged %v", when, box, f.id, f.flagged, e.flagged == 1)
			}
			m.noteUID(t, box, f.uid, f.id)
		}
		for id, e := range m.boxes[box] {
			if _, ok := got[id]; !ok && e.where == present {
				t.Errorf("%s: %s lost %s (UID %d), acknowledged", when, box, id, e.uid)
			}
		}
		seen[box] = got
	}
	for id := range m.moveUnsure {
		_, a := seen["INBOX"][id]
		_, b := seen["Dest"][id]
		if !a && !b {
			t.Errorf("%s: %s, moved at the kill, is in neither mailbox", when, id)
		}
	}
	m.moveUnsure = map[string]bool{}
	// Settle: what is there now is known.
	for _, box := range crashBoxes {
		for id, e := range m.boxes[box] {
			f, ok := seen[box][id]
			if !ok {
				delete(m.boxes[box], id)
				continue
			}
			e.where, e.uid = present, f.uid
			e.flagged = 0
			if f.flagged {
				e.flagged = 1
			}
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
