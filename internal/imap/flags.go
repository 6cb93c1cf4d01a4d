package imap

import "strings"

// Flag is a message flag (RFC 3501 §2.3.2): a system flag with its
// backslash, or a keyword atom.
type Flag string

// System flags (RFC 3501 §2.3.2).
const (
	FlagSeen     Flag = `\Seen`
	FlagAnswered Flag = `\Answered`
	FlagFlagged  Flag = `\Flagged`
	FlagDeleted  Flag = `\Deleted`
	FlagDraft    Flag = `\Draft`
	FlagRecent   Flag = `\Recent`
	// FlagWildcard in PERMANENTFLAGS says new keywords may be created.
	FlagWildcard Flag = `\*`
)

// SystemFlags lists the flags every mailbox supports, in the order the FLAGS
// response gives them.
var SystemFlags = []Flag{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft}

// CanonicalFlag returns the flag with a system flag's case normalised
// (RFC 3501 says flags are case-insensitive), so `\SEEN` becomes `\Seen`.
// Keywords are returned unchanged.
func CanonicalFlag(f Flag) Flag {
	if !strings.HasPrefix(string(f), `\`) {
		return f
	}
	for _, sf := range append(SystemFlags, FlagRecent, FlagWildcard) {
		if strings.EqualFold(string(f), string(sf)) {
			return sf
		}
	}
	return f
}

// MailboxAttr is a LIST attribute (RFC 3501 §7.2.2, RFC 3348, RFC 6154).
type MailboxAttr string

// Mailbox attributes.
const (
	MailboxAttrNoInferiors   MailboxAttr = `\Noinferiors`
	MailboxAttrNoSelect      MailboxAttr = `\Noselect`
	MailboxAttrMarked        MailboxAttr = `\Marked`
	MailboxAttrUnmarked      MailboxAttr = `\Unmarked`
	MailboxAttrHasChildren   MailboxAttr = `\HasChildren`
	MailboxAttrHasNoChildren MailboxAttr = `\HasNoChildren`
	MailboxAttrNonExistent   MailboxAttr = `\NonExistent`
	MailboxAttrSubscribed    MailboxAttr = `\Subscribed`
	// Special-use attributes (RFC 6154).
	MailboxAttrAll     MailboxAttr = `\All`
	MailboxAttrArchive MailboxAttr = `\Archive`
	MailboxAttrDrafts  MailboxAttr = `\Drafts`
	MailboxAttrFlagged MailboxAttr = `\Flagged`
	MailboxAttrJunk    MailboxAttr = `\Junk`
	MailboxAttrSent    MailboxAttr = `\Sent`
	MailboxAttrTrash   MailboxAttr = `\Trash`
)
