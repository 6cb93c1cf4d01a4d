package imap

// MessageURL is an IMAP URL naming a message or a part of one (RFC 5092
// §5 imessagepart), as CATENATE's URL parts give them (RFC 4469 §3).
type MessageURL struct {
	Mailbox     string // UTF-8, "/"-separated as in commands
	UIDValidity uint32 // 0 when the URL has none
	UID         uint32
	// Section is the ";SECTION=" part as a BODY.PEEK[section] item (nil
	// for the whole message); its Partial is the ";PARTIAL=" range.
	Section *FetchItemBodySection
}
