package imap

// SelectOptions are the select parameters of SELECT and EXAMINE (RFC 4466
// §2.1); the zero value is a plain SELECT.
type SelectOptions struct {
	// CondStore is the CONDSTORE parameter (RFC 7162 §3.1.8).
	CondStore bool
	// QResync is the QRESYNC parameter (RFC 7162 §3.2.5); nil when absent.
	QResync *SelectQResync
}

// SelectQResync is what a client knows of a mailbox it resynchronizes
// (RFC 7162 §3.2.5): the server answers with what changed since.
type SelectQResync struct {
	UIDValidity uint32
	ModSeq      uint64
	// KnownUIDs is the optional set of UIDs the client knows; nil means
	// 1:<UIDNEXT-1> (RFC 7162 §3.2.5.1).
	KnownUIDs *NumSet
	// KnownSeqs and KnownSeqUIDs are the optional message sequence match
	// data (RFC 7162 §3.2.5.2): sequence numbers and the UIDs the client
	// believes they have, pairwise; both nil when absent.
	KnownSeqs, KnownSeqUIDs *NumSet
}

// StoreResult is what a conditional STORE reports back (RFC 7162 §3.1.3).
type StoreResult struct {
	// Modified holds the messages (sequence numbers for STORE, UIDs for
	// UID STORE) that failed the UNCHANGEDSINCE test, for the MODIFIED
	// response code; empty when all passed.
	Modified NumSet
}

// Response codes of RFC 7162.
const (
	CodeHighestModSeq ResponseCode = "HIGHESTMODSEQ" // §3.1.2.1
	CodeNoModSeq      ResponseCode = "NOMODSEQ"      // §3.1.2.2
	CodeModified      ResponseCode = "MODIFIED"      // §3.1.3
)
