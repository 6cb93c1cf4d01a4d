// Package mailstore is the contract between the protocol adapters (imapbackend,
// pop3backend) and the mail storage drivers (maildir, mbox, memstore).
//
// A Store is one user's mail. Mailbox names are UTF-8, with "/" as the
// hierarchy separator; "INBOX" is matched case-insensitively and always
// exists. Flags are strings: system flags keep their backslash ("\\Seen"),
// keywords are atoms ("$Forwarded", "Work"). \Recent is not a stored flag:
// see Mailbox.ClaimRecent.
//
// Every change to a mailbox is given a new, strictly increasing modification
// sequence (MODSEQ, RFC 7162), so an adapter catches up on the changes of
// other sessions and processes with Mailbox.Changes in time proportional to
// what changed, not to the size of the mailbox.
//
// Drivers must not assume anything about the protocol; the contract must not
// assume a local file system (DESIGN.md §9).
package mailstore

import (
	"context"
	"io"
	"time"
)

// Flags RFC 3501 §2.3.2 defines; stored as given.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// SpecialUse attributes (RFC 6154) a mailbox may carry.
const (
	SpecialAll     = `\All`
	SpecialArchive = `\Archive`
	SpecialDrafts  = `\Drafts`
	SpecialFlagged = `\Flagged`
	SpecialJunk    = `\Junk`
	SpecialSent    = `\Sent`
	SpecialTrash   = `\Trash`
)

// MailboxInfo describes one mailbox in a listing.
type MailboxInfo struct {
	Name       string // full name, "/"-separated, UTF-8
	SpecialUse string // one of the Special* constants, or ""
	Subscribed bool
	// NoSelect is true for a name that exists only as a parent of others
	// (a hierarchy placeholder that cannot be selected).
	NoSelect bool
}

// MailboxState is the mailbox-wide metadata.
type MailboxState struct {
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	// FirstRecentUID is the lowest UID no session has claimed with
	// ClaimRecent: what EXAMINE shows as \Recent without claiming it
	// (RFC 3501 §6.3.2).
	FirstRecentUID uint32
	// MailboxID is the mailbox's OBJECTID (RFC 8474 §4): the same while
	// the name and UIDVALIDITY are, kept by Rename, new for a mailbox
	// created again. Drivers build it with the MailboxID function.
	MailboxID string
}

// Status is the summary STATUS needs, computed from the index without opening
// message files.
type Status struct {
	MailboxState
	Messages uint32
	Unseen   uint32 // messages without \Seen
	Deleted  uint32 // messages with \Deleted
	Recent   uint32 // UIDs not yet claimed by ClaimRecent
	Size     int64  // sum of message sizes in octets
}

// MessageMeta is the per-message metadata kept in the index, cheap to load
// for a whole mailbox.
type MessageMeta struct {
	UID    uint32
	ModSeq uint64
	Flags  []string // sorted, no duplicates; system flags and keywords
}

// MessageInfo is MessageMeta plus what FETCH needs without reading the file.
type MessageInfo struct {
	MessageMeta
	Size         int64     // octets of the message as stored (CRLF or LF as on disk)
	InternalDate time.Time // RFC 3501 §2.3.3
	// SaveDate is when the message was stored in this mailbox (APPEND,
	// COPY, MOVE, delivery picked up), for SAVEDATE (RFC 8514 §3); zero
	// when the store does not know (messages indexed before it kept it,
	// imported ones).
	SaveDate time.Time
	// Cache is opaque data the adapter stored with SetCache (a parsed MIME
	// structure); nil when none was stored.
	Cache []byte
}

// CacheEntry is adapter data to store with one message (Mailbox.SetCache).
type CacheEntry struct {
	UID  uint32
	Data []byte
}

// HeaderCacher is an optional Mailbox interface: a second opaque blob per
// message, kept apart from the Cache of MessageInfo so that loading
// structures for FETCH never reads it. The IMAP adapter keeps there the
// header fields SEARCH looked at (RFC 3501 §6.4.4), so a later SEARCH on
// them opens no message file, as Dovecot answers from its cache file. The
// store removes a message's entry with the message, and may drop entries
// at any time (a Reindex does).
type HeaderCacher interface {
	// HeaderCache returns the entries stored for the given UIDs, in
	// ascending UID order; UIDs without one are left out.
	HeaderCache(ctx context.Context, uids []uint32) ([]CacheEntry, error)
	// SetHeaderCache stores entries, replacing earlier ones, all in one
	// write. Entries whose UID no longer exists are skipped.
	SetHeaderCache(ctx context.Context, entries []CacheEntry) error
}

// BatchOpener is an optional Mailbox interface for reading many messages
// in turn, as SEARCH BODY and TEXT do (RFC 3501 §6.4.4): one index lookup
// for a batch of messages instead of one per message.
type BatchOpener interface {
	// OpenBatch looks up the messages uids (ascending) and returns a
	// function that opens one message as OpenMessage does. Any UID may be
	// asked for: one not looked up, or whose file moved since, takes
	// OpenMessage's path.
	OpenBatch(ctx context.Context, uids []uint32) (func(ctx context.Context, uid uint32) (MessageReader, error), error)
}

// MessageLister is an optional Mailbox interface: Messages as calls
// instead of a slice, for a caller that copies the list into structures
// of its own anyway (SELECT's sequence map: the slice was half of the
// memory a SELECT of a large mailbox allocated, issue 7).
type MessageLister interface {
	// EachMessage calls count with the number of messages, then fn for
	// each in ascending UID order, from the same state Messages would
	// return. Flags slices are shared: fn must not change them.
	EachMessage(ctx context.Context, count func(n int), fn func(m MessageMeta)) error
}

// SessionAppender is an optional Store interface: Append together with
// what an IMAP session does right after it, in the transaction that adds
// the message, instead of in more transactions of their own (issue 7: the
// cache entry and the \Recent claim were a fifth of an APPEND's CPU).
type SessionAppender interface {
	// AppendSession is Store.Append, with sa's extras.
	AppendSession(ctx context.Context, name string, r io.Reader, opts AppendOptions, sa SessionAppend) (AppendResult, error)
}

// SessionAppend is what AppendSession does beside Append.
type SessionAppend struct {
	// Cache, when not nil, is called once with the stored message before
	// it is committed; what it returns (nil: nothing) becomes the
	// message's cache entry (Mailbox.SetCache). An error only means no
	// entry.
	Cache func(msg io.ReaderAt, size int64) ([]byte, error)
	// ClaimRecent claims the new message as \Recent for the caller, as
	// Mailbox.ClaimRecent would, when every older message is claimed
	// already (else it is left to the caller's next ClaimRecent, which
	// claims the older ones too). For a session that has the mailbox
	// selected read-write (RFC 3501 §2.3.2).
	ClaimRecent bool
}

// AppendResult is what AppendSession did.
type AppendResult struct {
	UIDValidity, UID uint32
	// Recent is set when the message was claimed as \Recent for the
	// caller (SessionAppend.ClaimRecent).
	Recent bool
}

// FlagOp says how Mailbox.StoreFlags combines flags (RFC 3501 §6.4.6).
type FlagOp int

const (
	FlagsSet    FlagOp = iota // FLAGS: replace
	FlagsAdd                  // +FLAGS
	FlagsRemove               // -FLAGS
)

// AppendOptions are the optional attributes of a new message.
type AppendOptions struct {
	Flags        []string
	InternalDate time.Time // zero means now
}

// Store is one user's mail. Methods are safe for concurrent use by several
// sessions of the same user; several processes may open the same store.
type Store interface {
	// List returns every mailbox (including INBOX), sorted by name.
	List(ctx context.Context) ([]MailboxInfo, error)
	// Create makes a mailbox; missing parents are created too. ErrExist if it
	// exists, ErrInvalidName for a name that is not acceptable.
	Create(ctx context.Context, name string, specialUse string) error
	// Delete removes a mailbox and its messages. ErrNotExist, ErrInvalidName
	// for INBOX, ErrHasChildren when it has children (RFC 3501 §6.3.4 lets us
	// refuse; the adapter maps it to NO).
	Delete(ctx context.Context, name string) error
	// Rename renames a mailbox and its children. Renaming INBOX moves all its
	// messages to the new mailbox and leaves INBOX empty (RFC 3501 §6.3.5).
	Rename(ctx context.Context, oldName, newName string) error
	// SetSubscribed records a subscription; a name need not exist.
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	// Subscriptions returns subscribed names, sorted.
	Subscriptions(ctx context.Context) ([]string, error)
	// Status returns a mailbox's summary. ErrNotExist if absent.
	Status(ctx context.Context, name string) (Status, error)
	// Append stores a new message read from r (exactly the message octets)
	// and returns the mailbox's UIDVALIDITY and the new UID. The message is
	// durable (fsync'd) before Append returns. ErrNotExist if the mailbox does
	// not exist (the adapter answers [TRYCREATE]).
	Append(ctx context.Context, name string, r io.Reader, opts AppendOptions) (uidValidity, uid uint32, err error)
	// Open opens a mailbox for reading and changing its messages.
	Open(ctx context.Context, name string) (Mailbox, error)
	// Close releases the store.
	Close() error
}

// Mailbox is an open mailbox. It holds no snapshot of its own: every call
// sees the current state, including changes by other sessions and by outside
// programs (an MTA dropping mail in), which are merged into the index first.
type Mailbox interface {
	Name() string
	// State returns UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ.
	State(ctx context.Context) (MailboxState, error)
	// Messages returns every message's metadata in ascending UID order.
	Messages(ctx context.Context) ([]MessageMeta, error)
	// Changes returns, in ascending UID order, the messages whose MODSEQ is
	// greater than since, and the UIDs expunged with a MODSEQ greater than
	// since, plus the current state. It costs O(changes) when the index is
	// current and O(1) when nothing changed.
	Changes(ctx context.Context, since uint64) (changed []MessageMeta, expunged []uint32, state MailboxState, err error)
	// Info returns FETCH metadata for the given UIDs (ascending); UIDs that
	// no longer exist are left out.
	Info(ctx context.Context, uids []uint32) ([]MessageInfo, error)
	// OpenMessage returns the message content. ErrNotExist if expunged.
	OpenMessage(ctx context.Context, uid uint32) (MessageReader, error)
	// SetCache stores adapter data (a parsed structure) with messages, all
	// in one write, so caching the structures of a whole FETCH costs one
	// commit. Entries whose UID no longer exists are skipped.
	SetCache(ctx context.Context, entries []CacheEntry) error
	// StoreFlags changes flags on the given UIDs. When unchangedSince is
	// non-zero, messages whose MODSEQ is greater are left alone and returned
	// in failed (RFC 7162 §3.1.3). It returns the messages whose flags
	// actually changed, with their new MODSEQ.
	StoreFlags(ctx context.Context, uids []uint32, op FlagOp, flags []string, unchangedSince uint64) (changed []MessageMeta, failed []uint32, err error)
	// Expunge removes the given UIDs (the adapter decides which: \Deleted,
	// UID EXPUNGE) and returns those actually removed.
	Expunge(ctx context.Context, uids []uint32) ([]uint32, error)
	// CopyTo copies messages, keeping flags and internal dates, to another
	// mailbox, all or nothing. It returns the destination UIDVALIDITY and
	// the source and destination UIDs in matching order (RFC 4315 COPYUID).
	CopyTo(ctx context.Context, uids []uint32, dest string) (uidValidity uint32, src, dst []uint32, err error)
	// MoveTo is CopyTo followed by expunging the sources, atomically as seen
	// by other sessions (RFC 6851).
	MoveTo(ctx context.Context, uids []uint32, dest string) (uidValidity uint32, src, dst []uint32, err error)
	// ClaimRecent returns the lowest UID that is \Recent for the caller, and
	// marks all current messages as no longer recent for later callers
	// (RFC 3501 §2.3.2: one session sees a message as recent).
	ClaimRecent(ctx context.Context) (firstRecentUID uint32, err error)
	// Watch returns a channel that receives (non-blocking, coalesced) after
	// any change committed to this mailbox by this process, and by other
	// processes or outside programs where the driver can see them.
	Watch() <-chan struct{}
	// Close releases the mailbox.
	Close() error
}

// MessageReader is a stored message's content, read by offset so sections
// are served without reading the whole message.
type MessageReader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// StreamReader is an optional MessageReader interface for sending a range
// of the message once, front to back, as a FETCH of a body does. A driver
// that keeps each message in a file of its own returns an
// *io.LimitedReader over the *os.File, positioned at off, so that the
// kernel can copy it to a socket (sendfile(2), through net.TCPConn's
// ReadFrom) instead of the server reading it through a buffer (DESIGN.md
// §7).
type StreamReader interface {
	// Stream returns a reader of octets off..off+n of the message. It is
	// valid until the next Stream or ReadAt call or Close.
	Stream(off, n int64) (io.Reader, error)
}
