package imap

// SelectData is what SELECT and EXAMINE report (RFC 3501 §6.3.1).
type SelectData struct {
	Flags          []Flag // FLAGS
	PermanentFlags []Flag // PERMANENTFLAGS; may include FlagWildcard
	NumMessages    uint32 // EXISTS
	NumRecent      uint32 // RECENT
	FirstUnseen    uint32 // UNSEEN code: sequence number, 0 to omit
	UIDNext        uint32
	UIDValidity    uint32
	HighestModSeq  uint64 // 0 to omit
	ReadOnly       bool
	// MailboxID is the mailbox's OBJECTID (RFC 8474 §4.1), sent as an
	// untagged OK [MAILBOXID (id)]; "" to omit.
	MailboxID string
}

// StatusOptions are the items STATUS asks for (RFC 3501 §6.3.10, RFC 9051).
type StatusOptions struct {
	NumMessages   bool
	NumRecent     bool
	UIDNext       bool
	UIDValidity   bool
	NumUnseen     bool
	NumDeleted    bool
	Size          bool
	HighestModSeq bool
	MailboxID     bool // RFC 8474 §4.2
	// DeletedStorage asks for the octets an EXPUNGE would free (RFC 9208
	// §4.2.3 DELETED-STORAGE).
	DeletedStorage bool
}

// StatusData answers STATUS; pointer fields are nil when not requested.
type StatusData struct {
	Mailbox       string
	NumMessages   *uint32
	NumRecent     *uint32
	UIDNext       uint32 // 0 when not requested
	UIDValidity   uint32 // 0 when not requested
	NumUnseen     *uint32
	NumDeleted    *uint32
	Size          *int64
	HighestModSeq uint64 // 0 when not requested
	MailboxID     string // RFC 8474 §4.2; "" when not requested
	// DeletedStorage is the sum of the sizes of the \Deleted messages
	// (RFC 9208 §4.2.3); nil when not requested.
	DeletedStorage *int64
}

// ListOptions distinguishes LIST from LSUB and carries the LIST-EXTENDED
// selection and return options (RFC 5258 §3.1, §3.2, RFC 6154 §2, RFC
// 5819).
type ListOptions struct {
	// SelectSubscribed is LSUB, or LIST (SUBSCRIBED).
	SelectSubscribed bool
	// LSUB marks the legacy LSUB command, whose response name is LSUB and
	// whose \Noselect rules differ (RFC 3501 §6.3.9).
	LSUB bool

	// Extended is true for any extended LIST (RFC 5258 §3: selection
	// options, several patterns or return options): its answers use
	// \NonExistent rather than LSUB-style \Noselect placeholders.
	Extended bool
	// SelectRemote is the REMOTE selection option (no remote mailboxes
	// here, so it changes nothing).
	SelectRemote bool
	// SelectRecursiveMatch is RECURSIVEMATCH (RFC 5258 §3.1): parents
	// with a descendant that meets the selection criteria are reported
	// with CHILDINFO.
	SelectRecursiveMatch bool
	// SelectSpecialUse is the SPECIAL-USE selection option (RFC 6154 §2).
	SelectSpecialUse bool

	ReturnSubscribed bool // RFC 5258 §3.2
	ReturnChildren   bool // RFC 5258 §4
	ReturnSpecialUse bool // RFC 6154 §2
	// ReturnStatus, when non-nil, asks for a STATUS response after the
	// LIST response of each selectable mailbox (RFC 5819).
	ReturnStatus *StatusOptions
}

// ListData is one LIST or LSUB response line (RFC 3501 §7.2.2).
type ListData struct {
	Attrs   []MailboxAttr
	Delim   rune   // 0 is written as NIL
	Mailbox string // UTF-8; the encoder converts to modified UTF-7
	// ChildInfo is the CHILDINFO extended data item (RFC 5258 §3.5): the
	// selection options a descendant meets, such as "SUBSCRIBED".
	ChildInfo []string
	// Status, when non-nil, is written as a STATUS response right after
	// the LIST response (RFC 5819 §2).
	Status *StatusData
}

// CreateOptions are CREATE's parameters (RFC 4466 §2.2).
type CreateOptions struct {
	// SpecialUse is the USE parameter (RFC 6154 §3).
	SpecialUse []MailboxAttr
}

// CreateData is what CREATE reports besides OK.
type CreateData struct {
	// MailboxID is sent as OK [MAILBOXID (id)] (RFC 8474 §4.1); "" to
	// omit.
	MailboxID string
}

// SearchData is the result of SEARCH (RFC 3501 §7.2.5).
type SearchData struct {
	// All holds the matching numbers (sequence numbers or UIDs) in
	// ascending order.
	All []uint32
	// ModSeq is the highest MODSEQ of the matches when
	// SearchOptions.ModSeq asked for it (RFC 7162 §3.1.6); 0 otherwise.
	ModSeq uint64
}
