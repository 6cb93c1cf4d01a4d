package loadgen

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The commands of the mix, each sent and its answer checked. They run on
// cl.c, which is connected.

// selectBox selects the shared mailbox (RFC 3501 §6.3.1) and checks that
// its EXISTS covers at least the stable messages.
func (cl *client) selectBox() error {
	seen := false
	err := cl.ok(cl.c.run("SELECT "+quote(cl.r.opts.Mailbox), func(d untagged) error {
		seen = seen || d.Kind == "EXISTS"
		return nil
	}))
	if err != nil {
		return err
	}
	if !seen {
		return errors.New("SELECT without EXISTS")
	}
	if cl.c.exists < cl.u.stable {
		return fmt.Errorf("SELECT: %d messages, fewer than the %d never expunged", cl.c.exists, cl.u.stable)
	}
	return nil
}

func (cl *client) list() error {
	n, inbox := 0, false
	err := cl.ok(cl.c.run(`LIST "" "*"`, func(d untagged) error {
		if d.Kind != "LIST" {
			return nil
		}
		name, _, err := parseList(d.Rest)
		n++
		inbox = inbox || strings.EqualFold(strings.Trim(name, `"`), "INBOX")
		return err
	}))
	if err == nil && (n == 0 || !inbox) {
		err = fmt.Errorf("LIST: %d mailboxes, INBOX among them: %v", n, inbox)
	}
	return err
}

func (cl *client) status() error {
	box := cl.u.boxes[cl.rng.IntN(len(cl.u.boxes))]
	seen := false
	err := cl.ok(cl.c.run("STATUS "+box+" (MESSAGES UIDNEXT UNSEEN)", func(d untagged) error {
		if d.Kind != "STATUS" {
			return nil
		}
		seen = true
		i := strings.LastIndexByte(string(d.Rest), '(')
		if i < 0 || !strings.Contains(strings.ToUpper(string(d.Rest[i:])), "MESSAGES ") {
			return fmt.Errorf("STATUS response %.80q without MESSAGES", d.Rest)
		}
		return nil
	}))
	if err == nil && !seen {
		err = errors.New("STATUS without a STATUS response")
	}
	return err
}

// window picks n consecutive stable messages, 1-based, first to last.
func (cl *client) window(n int) (first, last uint32) {
	s := cl.u.stable
	n = min(n, int(s))
	first = 1 + uint32(cl.rng.IntN(int(s)-n+1))
	return first, first + uint32(n) - 1
}

// fetch asks for items of up to n stable messages and checks that each of
// them was returned with what has says.
func (cl *client) fetch(n int, items string, has func(fetchData) bool) error {
	first, last := cl.window(n)
	got := make(map[uint32]bool, last-first+1)
	err := cl.ok(cl.c.run(fmt.Sprintf("FETCH %d:%d (%s)", first, last, items), func(d untagged) error {
		if d.Kind != "FETCH" {
			return nil
		}
		f, err := parseFetch(d.Num, d.Rest)
		if err != nil {
			return err
		}
		if f.Seq >= first && f.Seq <= last && has(f) {
			got[f.Seq] = true
		}
		return nil
	}))
	if err == nil && len(got) != int(last-first+1) {
		err = fmt.Errorf("FETCH %d:%d (%s): %d of %d messages returned complete", first, last, items, len(got), last-first+1)
	}
	return err
}

// uidFetch asks for the flags of a window of stable UIDs (RFC 3501
// §6.4.8) and checks every one came back with its UID.
func (cl *client) uidFetch() error {
	first, last := cl.window(20)
	lo, hi := cl.u.uids[first-1], cl.u.uids[last-1]
	got := 0
	err := cl.ok(cl.c.run(fmt.Sprintf("UID FETCH %d:%d (FLAGS)", lo, hi), func(d untagged) error {
		if d.Kind != "FETCH" {
			return nil
		}
		f, err := parseFetch(d.Num, d.Rest)
		if err != nil {
			return err
		}
		// An unsolicited FETCH (another session changed flags) may lack
		// the UID (RFC 3501 §7.4.2); the answers asked for carry it
		// (§6.4.8), and those are what is counted.
		if f.UID >= lo && f.UID <= hi && f.HasFlags {
			got++
		}
		return nil
	}))
	if want := int(last - first + 1); err == nil && got < want {
		err = fmt.Errorf("UID FETCH %d:%d: %d of %d messages returned", lo, hi, got, want)
	}
	return err
}

// searches are the SEARCH variants the mix rotates through.
var searches = []string{
	"UNSEEN", "FLAGGED", "SUBJECT %q", "FROM \"user1\"", "LARGER 10000", "BODY %q", "SINCE 1-Jan-2026 SEEN",
}

// numbersCmd runs a command answered by one line of message numbers
// (SEARCH, SORT) and checks them: numbers, no duplicates, none above the
// messages the session knows of.
func (cl *client) numbersCmd(cmd, kind string) error {
	lines := 0
	var nums []uint32
	err := cl.ok(cl.c.run(cmd, func(d untagged) error {
		if d.Kind != kind {
			return nil
		}
		lines++
		n, err := parseNumbers(d.Rest)
		nums = append(nums, n...)
		return err
	}))
	if err != nil {
		return err
	}
	if lines != 1 {
		return fmt.Errorf("%s: %d %s responses, want 1", cmd, lines, kind)
	}
	seen := make(map[uint32]bool, len(nums))
	for _, n := range nums {
		if n > cl.c.exists || seen[n] {
			return fmt.Errorf("%s: message %d out of range or repeated (%d messages)", cmd, n, cl.c.exists)
		}
		seen[n] = true
	}
	return nil
}

func (cl *client) search() error {
	q := searches[cl.rng.IntN(len(searches))]
	if strings.Contains(q, "%q") {
		q = fmt.Sprintf(q, searchWords[cl.rng.IntN(len(searchWords))])
	}
	return cl.numbersCmd("SEARCH "+q, "SEARCH")
}

// sorts are the SORT variants (RFC 5256 §3) the mix rotates through.
var sorts = []string{
	"(REVERSE ARRIVAL) UTF-8 ALL", "(DATE) UTF-8 UNSEEN", "(SUBJECT) UTF-8 SUBJECT %q", "(FROM) UTF-8 LARGER 10000",
}

func (cl *client) sort() error {
	if !cl.c.caps["SORT"] {
		return errSkipped
	}
	q := sorts[cl.rng.IntN(len(sorts))]
	if strings.Contains(q, "%q") {
		q = fmt.Sprintf(q, searchWords[cl.rng.IntN(len(searchWords))])
	}
	return cl.numbersCmd("SORT "+q, "SORT")
}

// store sets or clears \Flagged on a stable message (RFC 3501 §6.4.6)
// and checks the FETCH that answers it. That FETCH may be missing: when
// the flags did not change (another client got there first) Dovecot
// sends none, and RFC 3501 only says the new flags are returned "as if a
// FETCH was done"; so what is checked is its syntax and its FLAGS.
func (cl *client) store() error {
	seq, _ := cl.window(1)
	sign := "-"
	if cl.flag = !cl.flag; cl.flag {
		sign = "+"
	}
	return cl.ok(cl.c.run(fmt.Sprintf(`STORE %d %sFLAGS (\Flagged)`, seq, sign), func(d untagged) error {
		if d.Kind != "FETCH" {
			return nil
		}
		f, err := parseFetch(d.Num, d.Rest)
		if err == nil && d.Num == seq && !f.HasFlags {
			err = fmt.Errorf("STORE %d: FETCH without FLAGS in answer", seq)
		}
		return err
	}))
}

// copyMsg copies a stable message into the same mailbox (RFC 3501
// §6.4.7); with UIDPLUS the COPYUID code (RFC 4315 §3) gives the copy's
// UID, which the next EXPUNGE removes.
func (cl *client) copyMsg() error {
	seq, _ := cl.window(1)
	st, err := cl.c.run(fmt.Sprintf("COPY %d %s", seq, quote(cl.r.opts.Mailbox)), nil)
	if err := cl.ok(st, err); err != nil {
		return err
	}
	if !cl.c.caps["UIDPLUS"] {
		return nil
	}
	rest, ok := cutPrefixFold(st.Code, "COPYUID ")
	f := strings.Fields(rest)
	if !ok || len(f) != 3 {
		return fmt.Errorf("COPY: no COPYUID in %q though UIDPLUS is advertised", st)
	}
	uid, okN := parseNumber([]byte(f[2]))
	if !okN || uid == 0 {
		return fmt.Errorf("COPY: bad COPYUID %q", st.Code)
	}
	cl.added = append(cl.added, uid)
	return nil
}

// appendMsg appends a corpus message (RFC 3501 §6.3.11) and, with
// UIDPLUS, checks APPENDUID (RFC 4315 §3) and keeps the UID to expunge.
func (cl *client) appendMsg() error {
	msg := cl.r.opts.Corpus[cl.rng.IntN(len(cl.r.opts.Corpus))]
	st, err := cl.c.runLiteral("APPEND "+quote(cl.r.opts.Mailbox)+` (\Seen)`, msg, nil)
	if err := cl.ok(st, err); err != nil {
		return err
	}
	if !cl.c.caps["UIDPLUS"] {
		return nil
	}
	rest, ok := cutPrefixFold(st.Code, "APPENDUID ")
	f := strings.Fields(rest)
	if !ok || len(f) != 2 {
		return fmt.Errorf("APPEND: no APPENDUID in %q though UIDPLUS is advertised", st)
	}
	uid, okN := parseNumber([]byte(f[1]))
	if !okN || uid == 0 {
		return fmt.Errorf("APPEND: bad APPENDUID %q", st.Code)
	}
	cl.added = append(cl.added, uid)
	return nil
}

// expunge marks what this client added \Deleted (a STORE, measured as
// such) and runs EXPUNGE (RFC 3501 §6.4.3). Only added messages are ever
// deleted, so the stable messages keep their numbers.
func (cl *client) expunge() error {
	if len(cl.added) > 0 {
		c, start, in := cl.c, time.Now(), cl.c.in
		err := cl.markDeleted()
		cl.record(OpStore, time.Since(start), c.in-in, err)
		if err != nil && cl.c == nil {
			return err // the connection is gone; the STORE counted it
		}
	}
	return cl.ok(cl.c.run("EXPUNGE", nil))
}

// idle runs IDLE (RFC 2177) for the configured hold.
func (cl *client) idle() (time.Duration, error) {
	if !cl.c.caps["IDLE"] {
		return 0, errSkipped
	}
	st, d, err := cl.c.idle(cl.r.opts.IdleHold, cl.r.stop, &cl.r.idling, nil)
	return max(d, 1), cl.ok(st, err)
}

// logout ends the session (RFC 3501 §6.1.3): BYE, then the tagged OK.
// The next step reconnects.
func (cl *client) logout() error {
	cl.c.bye = false
	err := cl.ok(cl.c.run("LOGOUT", nil))
	if err == nil && !cl.c.bye {
		err = errors.New("LOGOUT without BYE")
	}
	if cl.c != nil {
		cl.drop()
	}
	return err
}

// markDeleted sets \Deleted on the messages the client added (RFC 3501
// §6.4.6), a few hundred UIDs per command so no line nears a server's
// limit, and forgets those that were marked.
func (cl *client) markDeleted() error {
	slices.Sort(cl.added)
	for len(cl.added) > 0 {
		n := min(len(cl.added), 500)
		if err := cl.ok(cl.c.run("UID STORE "+uidSet(cl.added[:n])+` +FLAGS.SILENT (\Deleted)`, nil)); err != nil {
			return err
		}
		cl.added = cl.added[n:]
	}
	return nil
}

// uidSet formats UIDs as an RFC 3501 sequence set, ranges merged.
func uidSet(uids []uint32) string {
	u := slices.Clone(uids)
	slices.Sort(u)
	u = slices.Compact(u)
	var b strings.Builder
	for i := 0; i < len(u); {
		j := i
		for j+1 < len(u) && u[j+1] == u[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(u[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(u[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// sortedUIDs returns uids ascending (servers send SEARCH results in any
// order).
func sortedUIDs(uids []uint32) []uint32 {
	slices.Sort(uids)
	return uids
}
