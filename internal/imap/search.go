package imap

import "time"

// SearchCriteria is a parsed SEARCH program (RFC 3501 §6.4.4). All the
// criteria given in one value must match (AND); Not and Or hold the
// negated and alternative sub-programs. Strings are UTF-8 (converted from
// the command's CHARSET by the protocol layer).
type SearchCriteria struct {
	SeqNum []NumSet // message sequence number sets; each must match
	UID    []NumSet

	// Dates are compared by day in the server's time zone (RFC 3501:
	// "disregarding time and timezone"); a zero time is unset.
	Since, Before, On             time.Time // internal date
	SentSince, SentBefore, SentOn time.Time // Date: header

	Header []SearchCriteriaHeaderField // HEADER, FROM, TO, CC, BCC, SUBJECT
	Body   []string                    // BODY
	Text   []string                    // TEXT

	Flag    []Flag // ANSWERED, DELETED, DRAFT, FLAGGED, SEEN, RECENT, KEYWORD
	NotFlag []Flag // UNANSWERED ..., UNKEYWORD; NEW is Flag \Recent + NotFlag \Seen

	Larger, Smaller int64 // 0 when unset

	Not []SearchCriteria
	Or  [][2]SearchCriteria

	// ModSeq is the CONDSTORE MODSEQ criterion (RFC 7162); 0 when unset.
	ModSeq uint64

	// EmailID and ThreadID are the OBJECTID criteria (RFC 8474 §6); each
	// must match.
	EmailID, ThreadID []string

	// SavedSince, SavedBefore and SavedOn compare the save date by day
	// like the internal date criteria (RFC 8514 §4.3); zero is unset.
	SavedSince, SavedBefore, SavedOn time.Time
}

// SearchCriteriaHeaderField is a header search: FROM x is {"From", "x"}.
// An empty Value matches every message that has the field (RFC 3501).
type SearchCriteriaHeaderField struct {
	Key, Value string
}

// SearchOptions are the RESULT options of an extended SEARCH (RFC 4731,
// RFC 5182); the zero value is the plain RFC 3501 SEARCH.
type SearchOptions struct {
	ReturnMin, ReturnMax, ReturnAll, ReturnCount, ReturnSave bool
}
