package imapserver

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/postern/postern/internal/imap"
)

// ConnInfo describes the client side of a connection, for the backend's
// policy decisions (plaintext login, throttling, logging).
type ConnInfo struct {
	RemoteAddr netip.AddrPort // unmapped (DESIGN.md §2): ::ffff:192.0.2.1 is 192.0.2.1
	LocalAddr  netip.AddrPort
	// TLS is true once the connection is encrypted (implicit TLS or after
	// STARTTLS); it is updated in place by STARTTLS.
	TLS bool
	// Loopback is true when the peer is on this host (or a pipe).
	Loopback bool
	// ID is a short connection identifier for logs.
	ID string
}

// Session is one client's view of the mail store, created per connection by
// Options.NewSession. The server calls it from one goroutine at a time,
// except that Idle's stop channel is closed from the reader.
//
// Errors: return an *imap.Error to answer NO/BAD with a response code and a
// text safe for the client; any other error is logged and answered
// NO [SERVERBUG] (STYLE.md habit 5).
type Session interface {
	// Close ends the session (LOGOUT or connection closed).
	Close() error

	// Login checks a user name and password (LOGIN, and AUTHENTICATE after
	// SASL decoding). The server has already refused plaintext on an
	// unencrypted non-loopback connection. Wrong credentials return
	// imap.NO(imap.CodeAuthenticationFailed, ...).
	Login(ctx context.Context, username, password string) error

	// Authenticated state (RFC 3501 §6.3).

	Select(ctx context.Context, mailbox string, readOnly bool) (*imap.SelectData, error)
	Create(ctx context.Context, mailbox string) error
	Delete(ctx context.Context, mailbox string) error
	Rename(ctx context.Context, oldName, newName string) error
	Subscribe(ctx context.Context, mailbox string) error
	Unsubscribe(ctx context.Context, mailbox string) error
	// List writes the mailboxes matching any of patterns (with "*" and "%"
	// wildcards, RFC 3501 §6.3.8) relative to ref. An empty pattern list
	// with an empty pattern asks for the delimiter; the server answers that
	// itself and never calls List for it.
	List(ctx context.Context, w ListWriter, ref string, patterns []string, opts *imap.ListOptions) error
	Status(ctx context.Context, mailbox string, opts *imap.StatusOptions) (*imap.StatusData, error)
	// Append stores the message read from r (size octets, streamed from the
	// client's literal).
	Append(ctx context.Context, mailbox string, r io.Reader, size int64, opts *imap.AppendOptions) (*imap.AppendData, error)
	// Poll writes pending updates (EXISTS, RECENT, FETCH FLAGS, and EXPUNGE
	// only when allowExpunge; VANISHED instead once QRESYNC is on, see
	// SessionCondStore) for the selected mailbox. It is called after
	// every command in the authenticated and selected states; it must be
	// cheap when nothing changed. RFC 3501 §7.4.1 forbids EXPUNGE responses
	// after FETCH, STORE and SEARCH, so the server passes false for those.
	Poll(ctx context.Context, w UpdateWriter, allowExpunge bool) error
	// Idle writes updates as they happen until stop is closed or ctx is
	// done (RFC 2177).
	Idle(ctx context.Context, w UpdateWriter, stop <-chan struct{}) error

	// Selected state (RFC 3501 §6.4).

	// Unselect leaves the selected state; with expunge (CLOSE), messages
	// marked \Deleted are first removed silently if the mailbox is
	// read-write.
	Unselect(ctx context.Context, expunge bool) error
	// Expunge removes \Deleted messages (only those in uids, for UID
	// EXPUNGE, when uids is non-nil) and writes an EXPUNGE for each.
	Expunge(ctx context.Context, w UpdateWriter, uids *imap.NumSet) error
	Search(ctx context.Context, kind imap.NumKind, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error)
	Fetch(ctx context.Context, w FetchWriter, kind imap.NumKind, numSet imap.NumSet, opts *imap.FetchOptions) error
	// Store changes flags and, unless flags.Silent, writes the new FLAGS of
	// each changed message through w.
	Store(ctx context.Context, w FetchWriter, kind imap.NumKind, numSet imap.NumSet, flags *imap.StoreFlags) error
	Copy(ctx context.Context, kind imap.NumKind, numSet imap.NumSet, dest string) (*imap.CopyData, error)
}

// SessionPreauth is implemented by sessions that may start already
// authenticated: a connection the user opened themselves (pipe mode, `ssh
// host imapd`, mutt's tunnel). When Preauthenticated returns a non-empty
// user name, the server greets with PREAUTH and starts in the authenticated
// state (RFC 3501 §7.1.4, RFC 9051 §7.1.4).
type SessionPreauth interface {
	Preauthenticated() (username string)
}

// SessionAlerts is implemented by sessions that have administrator alerts
// to show (UW's /etc/imapd.alert and ~/.imapalert). The server calls Alerts
// after each command and sends each line as "* OK [ALERT] line" (RFC 3501
// §7.1: the client must show the text to the user).
type SessionAlerts interface {
	Alerts(ctx context.Context) []string
}

// SessionEndReason is implemented by sessions that log why a connection
// ended other than by LOGOUT, in UW imapd's words: "Autologout" after the
// idle timer, "Unexpected client disconnect, while reading line" when the
// client went away. The server calls it just before Close.
type SessionEndReason interface {
	SetEndReason(reason string)
}

// SessionMove is implemented by sessions that support MOVE (RFC 6851).
type SessionMove interface {
	Session
	// Move moves messages atomically and writes EXPUNGE responses for them
	// (after the COPYUID, which the server writes from the returned data
	// through the w it passed: see RFC 6851 §4.3).
	Move(ctx context.Context, w UpdateWriter, kind imap.NumKind, numSet imap.NumSet, dest string) (*imap.CopyData, error)
}

// SessionMultiAppend is implemented by sessions that support MULTIAPPEND
// (RFC 3502): several messages in one APPEND, all or nothing. The server
// stores each message with Append as it arrives; when a later one fails,
// it calls AppendUndo with what the earlier Appends returned, and the
// session must remove those messages (RFC 3502 §6.3.11: "the mailbox MUST
// be restored to its state before the APPEND attempt").
type SessionMultiAppend interface {
	Session
	AppendUndo(ctx context.Context, mailbox string, appended []*imap.AppendData) error
}

// SessionCatenate is implemented by sessions that support CATENATE (RFC
// 4469): APPEND of a message made of literal text and parts of messages
// the user can read, named by IMAP URLs.
type SessionCatenate interface {
	Session
	// CatenateURL writes to w what the URL designates, as BODY.PEEK
	// [section]<partial> would send it. user is the absolute URL's user
	// ("" for a relative one). A URL that does not resolve (no such
	// mailbox, UIDVALIDITY, UID or part, another user) gives
	// imap.NO(imap.CodeBadURL, ...) (RFC 4469 §5); the server adds the
	// URL as the code's argument.
	CatenateURL(ctx context.Context, u *imap.MessageURL, user string, w io.Writer) error
}

// SessionCreateOptions is implemented by sessions that take CREATE's
// parameters (RFC 4466 §2.2): USE, a special-use attribute for the new
// mailbox (RFC 6154 §3, CREATE-SPECIAL-USE), and report the new mailbox's
// MAILBOXID (RFC 8474 §4.1). The server then calls CreateWithOptions
// instead of Create for every CREATE. An unsupported special use is
// refused with imap.NO(imap.CodeUseAttr, ...) and nothing is created.
type SessionCreateOptions interface {
	CreateWithOptions(ctx context.Context, mailbox string, opts *imap.CreateOptions) (*imap.CreateData, error)
}

// SessionQuota is implemented by sessions that report quotas (RFC 9208):
// the server then offers QUOTA, QUOTA=RES-STORAGE and QUOTA=RES-MESSAGE,
// and answers SETQUOTA with NO itself (limits come from the
// administrator; no QUOTASET).
type SessionQuota interface {
	// GetQuota returns a quota root's usage and limits (GETQUOTA, RFC
	// 9208 §4.1.1); an unknown root is a NO.
	GetQuota(ctx context.Context, root string) (*imap.QuotaData, error)
	// GetQuotaRoot returns the quota roots of a mailbox and their
	// usage and limits (GETQUOTAROOT, RFC 9208 §4.1.2).
	GetQuotaRoot(ctx context.Context, mailbox string) ([]*imap.QuotaData, error)
}

// UpdateWriter writes unsolicited responses about the selected mailbox.
type UpdateWriter interface {
	// WriteExists writes "* n EXISTS".
	WriteExists(n uint32) error
	// WriteRecent writes "* n RECENT".
	WriteRecent(n uint32) error
	// WriteExpunge writes "* seq EXPUNGE".
	WriteExpunge(seq uint32) error
	// WriteMailboxFlags writes "* FLAGS (...)" when the set of keywords in
	// use changes, and the PERMANENTFLAGS that go with it.
	WriteMailboxFlags(flags, permanent []imap.Flag) error
	// WriteMessageFlags writes "* seq FETCH (FLAGS (...))", with "UID n"
	// when uid is non-zero (required in UID commands' responses).
	WriteMessageFlags(seq, uid uint32, flags []imap.Flag) error
}

// ListWriter writes LIST or LSUB responses.
type ListWriter interface {
	WriteList(*imap.ListData) error
}

// FetchWriter writes FETCH responses.
type FetchWriter interface {
	// Message starts "* seq FETCH (". The returned writer must be closed
	// before the next Message call.
	Message(seq uint32) FetchMessageWriter
}

// FetchMessageWriter writes the items of one FETCH response, in the order
// they are written; errors are sticky and returned by Close.
type FetchMessageWriter interface {
	WriteUID(uid uint32)
	WriteFlags(flags []imap.Flag)
	WriteInternalDate(t time.Time)
	WriteRFC822Size(size int64)
	WriteEnvelope(env *imap.Envelope)
	// WriteBodyStructure writes BODYSTRUCTURE when extended, else BODY.
	WriteBodyStructure(bs *imap.BodyStructure, extended bool)
	// WriteBodySection writes the item name for section (BODY[...]<origin>,
	// or its RFC822 form) and a literal of exactly size octets, which the
	// caller writes and then closes. The partial origin, when the section
	// has one, is written from section.Partial.Offset.
	WriteBodySection(section *imap.FetchItemBodySection, size int64) io.WriteCloser
	// WriteModSeq writes MODSEQ (n) (RFC 7162).
	WriteModSeq(modSeq uint64)
	// WriteBinarySection writes BINARY[part]<origin> and a literal of
	// exactly size octets (a literal8 when lit8: the data holds NUL, RFC
	// 3516 §4.3), which the caller writes and then closes.
	WriteBinarySection(section *imap.FetchItemBinarySection, size int64, lit8 bool) io.WriteCloser
	// WriteBinarySize writes BINARY.SIZE[part] size (RFC 3516 §4.3).
	WriteBinarySize(section *imap.FetchItemBinarySection, size int64)
	// WritePreview writes PREVIEW text, NIL when isNil (RFC 8970 §3).
	WritePreview(text string, isNil bool)
	// WriteEmailID and WriteThreadID write EMAILID (id) and THREADID (id),
	// or THREADID NIL for "" (RFC 8474 §7).
	WriteEmailID(id string)
	WriteThreadID(id string)
	// WriteSaveDate writes SAVEDATE date-time, NIL for the zero time
	// (RFC 8514 §4.2).
	WriteSaveDate(t time.Time)
	// Close writes ")" CRLF and returns the first error.
	Close() error
}
