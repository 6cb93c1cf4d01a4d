package imap

// FetchItemBinarySection is a BINARY[part]<partial>, BINARY.PEEK[part]
// or BINARY.SIZE[part] item (RFC 3516 §4.2): a section that is only part
// numbers, whose content is sent with its Content-Transfer-Encoding
// undone.
type FetchItemBinarySection struct {
	Part []int // nested part numbers; empty for the whole message
	// Partial is the <origin.count> suffix, counted in decoded octets; nil
	// when absent (always nil for BINARY.SIZE).
	Partial *SectionPartial
	// Peek is BINARY.PEEK: the item does not set \Seen.
	Peek bool
}
