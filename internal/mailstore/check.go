package mailstore

import (
	"context"
	"fmt"
	"strings"
)

// Problem is one thing `postern fsck` found wrong (or not yet seen) in a
// store: which mailbox, which message (UID and/or file) and what.
type Problem struct {
	// Mailbox is the mailbox name; empty for the store as a whole (its
	// index).
	Mailbox string `json:"mailbox,omitempty"`
	// UID is the message's UID, 0 when the problem is not about one
	// indexed message.
	UID uint32 `json:"uid,omitempty"`
	// File is the mail file (Maildir) or a byte offset ("@1234", mbox) the
	// problem is about, if any.
	File string `json:"file,omitempty"`
	// Kind is a short fixed word naming the check (see the Check* constants).
	Kind string `json:"kind"`
	// Detail says what is wrong, in words.
	Detail string `json:"detail"`
	// Pending marks what is not an error: mail or changes the store has
	// not seen yet (a delivery to new/, an MTA's append, the journal of an
	// interrupted rewrite), which its next use merges by itself.
	Pending bool `json:"pending,omitempty"`
	// Repaired says a --repair run fixed it.
	Repaired bool `json:"repaired,omitempty"`
}

// Problem kinds.
const (
	CheckIndex       = "index"       // the index database itself (integrity_check, cannot open)
	CheckMissing     = "missing"     // an indexed message's file (or mbox framing) is gone
	CheckSize        = "size"        // an indexed message's size differs from the file's
	CheckUnindexed   = "unindexed"   // a mail file or message the index does not hold
	CheckUID         = "uid"         // UIDs not ascending, duplicated, or not below UIDNEXT
	CheckUIDList     = "uidlist"     // Maildir postern-uidlist disagrees with the index
	CheckUIDValidity = "uidvalidity" // UIDVALIDITY differs between the index and the files
	CheckUIDNext     = "uidnext"     // UIDNEXT lower than a UID the files record
	CheckFraming     = "framing"     // mbox "From " framing
	CheckJournal     = "journal"     // an mbox rewrite interrupted by a crash
	CheckTmp         = "tmp"         // a Maildir tmp/ file older than 36 hours
	CheckMailbox     = "mailbox"     // a mailbox in the index without files, or the reverse
)

// String formats the problem as one line for people and scripts:
// "MAILBOX uid=N file=F: KIND: DETAIL", with "(pending)" or "(repaired)".
func (p Problem) String() string {
	var b strings.Builder
	if p.Mailbox != "" {
		b.WriteString(p.Mailbox)
	} else {
		b.WriteString("-")
	}
	if p.UID != 0 {
		fmt.Fprintf(&b, " uid=%d", p.UID)
	}
	if p.File != "" {
		fmt.Fprintf(&b, " file=%s", p.File)
	}
	fmt.Fprintf(&b, ": %s: %s", p.Kind, p.Detail)
	if p.Pending {
		b.WriteString(" (pending)")
	}
	if p.Repaired {
		b.WriteString(" (repaired)")
	}
	return b.String()
}

// CheckResult is what a Checker found.
type CheckResult struct {
	Mailboxes int       `json:"mailboxes"`
	Messages  int       `json:"messages"`
	Problems  []Problem `json:"problems"`
}

// Errors counts the problems that are not pending.
func (r CheckResult) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Pending && !p.Repaired {
			n++
		}
	}
	return n
}

// Checker is implemented by drivers that can check their files against
// their index (`postern fsck`, issue 8). Check takes the locks a server
// takes, so it can run beside one. With repair, it fixes what is safe
// (rebuilds the index from the files keeping UIDs, finishes or rolls back
// an interrupted rewrite, removes stale temporary files) and marks those
// problems Repaired.
type Checker interface {
	Check(ctx context.Context, repair bool) (CheckResult, error)
}

// MergeRepaired combines the problems a check found before a repair with
// those a second check found after it: the first ones no longer found are
// marked Repaired; those found again, and any new ones, are kept as found
// the second time.
func MergeRepaired(before, after CheckResult) CheckResult {
	key := func(p Problem) string { return fmt.Sprintf("%s\x00%d\x00%s\x00%s", p.Mailbox, p.UID, p.File, p.Kind) }
	still := map[string]bool{}
	for _, p := range after.Problems {
		still[key(p)] = true
	}
	out := after
	out.Problems = nil
	for _, p := range before.Problems {
		if !still[key(p)] {
			p.Repaired = true
			out.Problems = append(out.Problems, p)
		}
	}
	out.Problems = append(out.Problems, after.Problems...)
	return out
}
