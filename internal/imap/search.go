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

	// Older and Younger are the WITHIN keys (RFC 5032 §3): the internal
	// date is at least Older seconds before now, or at most Younger
	// seconds before now, by the backend's clock; 0 when unset.
	Older, Younger uint32

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
	// ModSeq is set when the program has a MODSEQ key: the result then
	// carries the highest MODSEQ of the matches (RFC 7162 §3.1.5).
	ModSeq bool
}

// Extended reports whether the command had a RETURN option list, which
// asks for an ESEARCH response (RFC 4731 §3.1) unless SAVE is alone
// (RFC 5182 §2.1, RFC 9051 §6.4.4).
func (o *SearchOptions) Extended() bool {
	return o.ReturnMin || o.ReturnMax || o.ReturnAll || o.ReturnCount || o.ReturnSave
}

// SavedSubset reports which part of a result SAVE keeps (RFC 5182 §2.4):
// all the matches, unless MIN and/or MAX come without ALL or COUNT, in
// which case only the minimum and/or maximum.
func (o *SearchOptions) SavedSubset() (all, min, max bool) {
	if o.ReturnAll || o.ReturnCount || !o.ReturnMin && !o.ReturnMax {
		return true, false, false
	}
	return false, o.ReturnMin, o.ReturnMax
}
