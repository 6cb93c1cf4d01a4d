package maildir

import (
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
// promises other programs' changes within a second.
const verifyReuse = 100 * time.Millisecond

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
	if reuse <= 0 {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.by[r.id]
	return ok && st.row == r && st.newM == newM && st.curM == curM && now.Sub(st.at) < reuse
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
