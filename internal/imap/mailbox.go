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
}

// ListOptions distinguishes LIST from LSUB (and later LIST-EXTENDED).
type ListOptions struct {
	// SelectSubscribed is LSUB, or LIST (SUBSCRIBED).
	SelectSubscribed bool
	// LSUB marks the legacy LSUB command, whose response name is LSUB and
	// whose \Noselect rules differ (RFC 3501 §6.3.9).
	LSUB bool
}

// ListData is one LIST or LSUB response line (RFC 3501 §7.2.2).
type ListData struct {
	Attrs   []MailboxAttr
	Delim   rune   // 0 is written as NIL
	Mailbox string // UTF-8; the encoder converts to modified UTF-7
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
