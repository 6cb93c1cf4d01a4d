package imap

import "time"

// FetchOptions are the data items of a FETCH command (RFC 3501 §6.4.5),
// with the macros ALL, FAST and FULL already expanded.
type FetchOptions struct {
	UID           bool // always set for UID FETCH (RFC 3501 §6.4.8)
	Flags         bool
	InternalDate  bool
	RFC822Size    bool
	Envelope      bool
	BodyStructure bool // BODYSTRUCTURE: with extension data
	Body          bool // BODY without a section: BODYSTRUCTURE without extension data
	// BodySection lists BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER
	// and RFC822.TEXT, in the order requested.
	BodySection []*FetchItemBodySection
	// ModSeq is the MODSEQ item (RFC 7162 §3.1.4.2).
	ModSeq bool
	// ChangedSince is the CHANGEDSINCE modifier (RFC 7162 §3.1.4.1): only
	// messages with a greater MODSEQ are returned; 0 when absent.
	ChangedSince uint64
	// Vanished is the VANISHED modifier of UID FETCH (RFC 7162 §3.2.6):
	// the UIDs of the set expunged since ChangedSince are reported first
	// as VANISHED (EARLIER).
	Vanished bool
	// BinarySection lists BINARY[...] and BINARY.PEEK[...] (RFC 3516 §4.2),
	// BinarySize the BINARY.SIZE[...] items, in the order requested.
	BinarySection []*FetchItemBinarySection
	BinarySize    []*FetchItemBinarySection
	// Preview is PREVIEW, with or without (LAZY) (RFC 8970 §3).
	Preview bool
	// EmailID and ThreadID are the OBJECTID items (RFC 8474 §5.1, §5.2).
	EmailID, ThreadID bool
	// SaveDate is SAVEDATE (RFC 8514 §4.2).
	SaveDate bool
}

// PartSpecifier is the text part of a section (RFC 3501 §6.4.5).
type PartSpecifier string

// Section specifiers.
const (
	PartSpecifierNone   PartSpecifier = ""
	PartSpecifierHeader PartSpecifier = "HEADER"
	PartSpecifierMIME   PartSpecifier = "MIME"
	PartSpecifierText   PartSpecifier = "TEXT"
)

// FetchItemBodySection is a BODY[section]<partial> item.
type FetchItemBodySection struct {
	Specifier PartSpecifier
	Part      []int // nested part numbers, e.g. 1.2.3 -> {1, 2, 3}
	// HeaderFields and HeaderFieldsNot are the HEADER.FIELDS (...) and
	// HEADER.FIELDS.NOT (...) lists; Specifier is PartSpecifierHeader then.
	HeaderFields    []string
	HeaderFieldsNot []string
	// Partial is the <origin.count> suffix, nil when absent.
	Partial *SectionPartial
	// Peek is BODY.PEEK: the item does not set \Seen.
	Peek bool
	// Legacy names the RFC822 form the client used ("RFC822",
	// "RFC822.HEADER", "RFC822.TEXT") so the response uses the same name;
	// "" for BODY[...].
	Legacy string
}

// SectionPartial is the <origin.count> part of a section.
type SectionPartial struct {
	Offset, Size int64
}

// Envelope is the ENVELOPE of a message (RFC 3501 §7.4.2). Strings are the
// raw header values (unfolded, still RFC 2047 encoded); "" is written as NIL.
type Envelope struct {
	Date      string
	Subject   string
	From      []Address
	Sender    []Address
	ReplyTo   []Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo string
	MessageID string
}

// Address is one address of an ENVELOPE (RFC 3501 §7.4.2). A group start has
// Mailbox set to the group name and Host empty; a group end has every field
// empty; "" is written as NIL.
type Address struct {
	Name, Route, Mailbox, Host string
}

// BodyStructure is a BODY or BODYSTRUCTURE (RFC 3501 §7.4.2). For a multipart
// body, Children is non-empty and the single-part fields except Subtype,
// Params and the extension fields are unused.
type BodyStructure struct {
	Type, Subtype string   // as they should be written (e.g. "TEXT", "PLAIN")
	Params        []string // name, value, name, value...
	ID            string
	Description   string
	Encoding      string
	Size          int64
	// Lines is set for TEXT/* and MESSAGE/RFC822 bodies.
	Lines int64
	// Envelope and Body are set for MESSAGE/RFC822.
	Envelope *Envelope
	Body     *BodyStructure
	Children []*BodyStructure

	// Extension data (BODYSTRUCTURE only).
	MD5               string
	Disposition       string
	DispositionParams []string
	Language          []string
	Location          string
}

// IsMultipart reports whether the body is a multipart.
func (b *BodyStructure) IsMultipart() bool { return len(b.Children) > 0 }

// StoreFlags is the flag change of a STORE command (RFC 3501 §6.4.6).
type StoreFlags struct {
	Op     StoreFlagsOp
	Silent bool
	Flags  []Flag
	// UnchangedSince is the CONDSTORE modifier (RFC 7162); 0 when absent.
	UnchangedSince uint64
	// Conditional is true when UNCHANGEDSINCE was given, even as 0, which
	// fails for every message (RFC 7162 §3.1.3, example 7).
	Conditional bool
}

// StoreFlagsOp is FLAGS, +FLAGS or -FLAGS.
type StoreFlagsOp int

// Store operations.
const (
	StoreFlagsSet StoreFlagsOp = iota
	StoreFlagsAdd
	StoreFlagsDel
)

// AppendOptions are the optional arguments of APPEND (RFC 3501 §6.3.11).
type AppendOptions struct {
	Flags []Flag
	Time  time.Time // zero when absent
}

// AppendData is the result of APPEND, for the APPENDUID code (RFC 4315).
type AppendData struct {
	UIDValidity uint32
	UID         uint32
}

// CopyData is the result of COPY or MOVE, for COPYUID (RFC 4315).
type CopyData struct {
	UIDValidity uint32
	SourceUIDs  NumSet
	DestUIDs    NumSet
}
