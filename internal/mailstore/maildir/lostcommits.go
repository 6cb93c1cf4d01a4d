package maildir

import (
	"os"
	"path/filepath"
	"sync"
)

// APPEND commits its index transaction lazily (no fsync of the WAL):
// what it must never lose is durable elsewhere before it answers OK, the
// message file in cur/ (file and directory fsynced) and its "UID BASE"
// line in the folder's uidlist (fsynced). A power loss may then take
// the last APPENDs' rows out of the index while their files and UIDs
// stay on disk. recoverUIDs puts them back, before this process first
// writes to the mailbox: UIDNEXT rises past every UID the uidlist
// records, so no UID a client was given is given again, and the files
// the index lost are taken back with the UIDs they had (sync adopts
// them from cur/ through w.imported).
//
// Once per mailbox per process is enough: a power loss ends every
// process, so a commit lost to one was made before this process began.
// The check reads the uidlist once; it builds the base -> UID map only
// when the uidlist lists a UID the index has not reached.

// uidChecks remembers the mailboxes checked in this process.
type uidChecks struct {
	mu   sync.Mutex
	done map[int64]bool // guarded by mu
}

func (c *uidChecks) checked(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done[id]
}

func (c *uidChecks) note(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = map[int64]bool{}
	}
	c.done[id] = true
}

// uidsLost reads r's uidlist and reports whether it lists a UID the
// index has not reached: the sign of lost commits.
func uidsLost(r mboxRow) (uidlist []byte, lost bool) {
	data, err := os.ReadFile(filepath.Join(r.dir, UIDListName))
	if err != nil {
		return nil, false // none: the next sync writes one
	}
	return data, uidListMax(data) >= r.uidNext
}

// checkUIDsRead is the check on the read path (Store.current): when
// nothing was lost the mailbox is noted as checked; otherwise ok is
// false, and the caller merges, in a write transaction, through
// recoverUIDs. Before the merge no client may be shown a UIDNEXT below
// a UID it was given.
func (s *Store) checkUIDsRead(r mboxRow) (ok bool) {
	if s.sh.uidChecks.checked(r.id) {
		return true
	}
	if _, lost := uidsLost(r); lost {
		return false
	}
	s.sh.uidChecks.note(r.id)
	return true
}

// recoverUIDs runs the check for r in a write transaction, unless this
// process already did, and takes back what was lost.
func (w *wtx) recoverUIDs(r *mboxRow) error {
	checks := &w.s.sh.uidChecks
	if checks.checked(r.id) {
		return nil
	}
	id := r.id
	w.after = append(w.after, func() { checks.note(id) })
	data, lost := uidsLost(*r)
	if !lost {
		return nil
	}
	ul, ok := parseUIDList(data)
	if !ok || ul.uidValidity != r.uidValidity || ul.uidNext <= r.uidNext {
		return nil
	}
	taken := map[string]uint32{}
	for base, uid := range ul.uids {
		if uid >= r.uidNext {
			taken[base] = uid
		}
	}
	w.s.log.Warn("maildir: the index lost recent appends (power loss?); taking their UIDs back from the uidlist",
		"dir", r.dir, "uidnext", r.uidNext, "uidlist_uidnext", ul.uidNext, "messages", len(taken))
	if w.imported == nil {
		w.imported = map[int64]map[string]uint32{}
	}
	if prev := w.imported[r.id]; prev != nil {
		for base, uid := range taken {
			prev[base] = uid
		}
	} else {
		w.imported[r.id] = taken
	}
	r.uidNext = ul.uidNext
	r.curMtime = -1 // cur/ is read in full: its lost files are found
	w.mustSync = true
	return w.saveRow(r)
}

// uidListMax is the highest UID a uidlist's lines list (0 for none),
// taken line by line as parseUIDList takes them (uidLines), without the
// map parseUIDList builds.
func uidListMax(data []byte) uint32 {
	var highest uint32
	sc := uidListScanner(data)
	if !sc.Scan() { // the header
		return 0
	}
	uidLines(sc, func(uid uint32, _ []byte) { highest = max(highest, uid) })
	return highest
}
