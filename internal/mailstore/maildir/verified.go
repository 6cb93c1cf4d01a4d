package maildir

import (
	"path/filepath"
	"sync"
	"time"
)

// verifyReuse is how long this process takes a sameOnDisk check of a
// mailbox as still valid, while nothing it can see changed: the index row
// (HIGHESTMODSEQ, UIDNEXT...) and both directories' mtimes. What it cannot
// see is another program's change in the very timestamp tick of the
// mtimes recorded (the racy case racyWindow is about): such a change shows
// at the first look after verifyReuse, not at once. Every other change
// moves the row or an mtime and is seen at once, as before. Under load a
// session's every command polls its mailbox; without the reuse each poll
// read both directories and the index's file names (issue 7). DESIGN.md §4
// promises other programs' changes within a second; half of it leaves
// room for the poll that sees them. At 100 ms the checks of 10 clients
// appending to their INBOXes took 12% of the server's CPU; at 500 ms
// APPENDs/s rose 5 to 6% (issue 7).
//
// This process's own changes carry a check forward (carryVerified): a
// write transaction that starts from a mailbox known to agree with its
// directories (mtimes trusted, a fresh check, or a read just now) and
// changes both in step (APPEND's rename and index row, a STORE's rename,
// an EXPUNGE's unlink) leaves them agreeing, so its commit is noted with
// the time of the check it started from, not of the commit. The reuse
// therefore still ends verifyReuse after the directories were last read:
// a change another program makes meanwhile, which this process's own
// renames hide from the mtimes, shows at the first look after that, as
// above. Without the carry every APPEND read cur/ twice (its own sync and
// the poll after it), O(messages) each (issue 7).
const verifyReuse = 500 * time.Millisecond

// verified remembers, per mailbox row id, the last sameOnDisk check that
// found the directories and the index in agreement.
type verified struct {
	mu sync.Mutex
	by map[int64]verifiedState // guarded by mu
}

// verifiedState is what a check saw: the row, the directories' mtimes
// before reading them, and when.
type verifiedState struct {
	row        mboxRow
	newM, curM int64
	at         time.Time
}

// fresh reports whether a check of r with these mtimes agreed less than
// reuse ago.
func (v *verified) fresh(r mboxRow, newM, curM int64, now time.Time, reuse time.Duration) bool {
	_, ok := v.freshSince(r, newM, curM, now, reuse)
	return ok
}

// freshSince is fresh, also returning when the directories were read by
// the check that still holds.
func (v *verified) freshSince(r mboxRow, newM, curM int64, now time.Time, reuse time.Duration) (time.Time, bool) {
	if reuse <= 0 {
		return time.Time{}, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.by[r.id]
	if ok && st.row == r && st.newM == newM && st.curM == curM && now.Sub(st.at) < reuse {
		return st.at, true
	}
	return time.Time{}, false
}

// agreedSince is what a write transaction knows of a mailbox it synced:
// the directories agreed with the index as of at, when new/ had mtime
// newM. carryVerified turns it into a note after the commit.
type agreedSince struct {
	newM int64
	at   time.Time
}

// carryVerified notes, after a commit, the mailboxes the transaction
// synced and saved: the saved row with the directories' mtimes now and
// the time of the check the transaction started from (see verifyReuse).
// new/'s mtime is the one the check saw, so a delivery since is seen.
func (w *wtx) carryVerified() {
	for id, a := range w.agreed {
		row, ok := w.rows[id]
		if !ok {
			continue
		}
		curM := mtimeOf(filepath.Join(row.dir, "cur"))
		w.s.sh.verified.note(row, a.newM, curM, a.at)
	}
}

// note records an agreeing check that started at now.
func (v *verified) note(r mboxRow, newM, curM int64, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.by == nil {
		v.by = map[int64]verifiedState{}
	}
	v.by[r.id] = verifiedState{row: r, newM: newM, curM: curM, at: now}
}
