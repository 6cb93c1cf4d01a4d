package imapbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// DefaultIdlePoll is how often Idle looks for changes that Mailbox.Watch may
// not signal (other processes, outside programs) when Options.IdlePoll is
// zero. RFC 2177 lets the server pick the pace of updates.
const DefaultIdlePoll = 5 * time.Second

// DefaultIdleSafetyPoll is how often Idle looks anyway, when
// Options.IdleSafetyPoll is zero, at a mailbox whose Watch covers other
// processes and outside programs (mailstore.OutsideWatcher): a bound on the
// cost of a missed signal, not the path by which changes arrive.
const DefaultIdleSafetyPoll = time.Minute

// Options configure a Backend.
type Options struct {
	// Auth checks LOGIN and AUTHENTICATE credentials. Required.
	Auth auth.Authenticator
	// OpenStore opens the mail store of an authenticated user. Required.
	OpenStore func(ctx context.Context, u *auth.User) (mailstore.Store, error)
	// Logger receives the login lines in UW imapd's wording (DESIGN.md §1)
	// and internal errors. Nil discards.
	Logger *slog.Logger
	// Throttle delays the answer to failed logins per client address.
	// Nil means no delay.
	Throttle *auth.Throttle
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// Location is the server's time zone, in which SEARCH compares internal
	// dates by day (RFC 3501 §6.4.4). Nil means time.Local.
	Location *time.Location
	// IdlePoll is the period of the fallback poll during IDLE. Zero means
	// DefaultIdlePoll.
	IdlePoll time.Duration
	// IdleSafetyPoll is the period of the poll during IDLE on a mailbox
	// whose Watch also reports other processes' and programs' changes
	// (mailstore.OutsideWatcher), which then push them at once. Zero means
	// DefaultIdleSafetyPoll.
	IdleSafetyPoll time.Duration
	// HeaderCacheMemory bounds the header cache entries SEARCH keeps in
	// memory for the whole process (hdrmem.go). Zero means
	// DefaultHeaderCacheMemory; negative keeps none.
	HeaderCacheMemory int64

	// BeforeOpen runs after a successful login and before any file of the
	// user is opened: inetd mode drops privileges to the user there
	// (DESIGN.md §2). An error refuses the login; the caller decides
	// whether the process can go on (a failed privilege drop must end it).
	BeforeOpen func(u *auth.User) error
	// NoLoginFile refuses every login while it exists, as login(1) and UW
	// did with /etc/nologin; its first line is told to the client. Empty
	// means not checked.
	NoLoginFile string
	// SystemAlertFile is sent to every session as [ALERT] lines, again
	// whenever it changes (UW's /etc/imapd.alert). Empty means none.
	SystemAlertFile string
	// UserAlertFile is the name, in the user's home directory, of a file
	// sent to that user's sessions as [ALERT] lines (UW's ".imapalert").
	// Empty means none.
	UserAlertFile string
	// AlertInterval is how often the alert files are checked. Zero means
	// DefaultAlertInterval.
	AlertInterval time.Duration
	// QuotaStorage and QuotaMessages are every user's quota limits in
	// octets and messages (RFC 9208 §5.1, §5.2), unless the account's
	// quota rules say otherwise (auth.QuotaRules). Zero means no limit.
	QuotaStorage  int64
	QuotaMessages int64
}

// DefaultAlertInterval is how often alert files are looked at, as UW's
// ALERTTIMER: a stat per minute per session, not per command.
const DefaultAlertInterval = time.Minute

// Backend creates sessions. It is safe for concurrent use.
type Backend struct {
	opts Options
	hdrs *hdrMem // header cache entries in memory, for every session
}

// New returns a Backend using opts, with defaults filled in.
func New(opts Options) *Backend {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.IdlePoll <= 0 {
		opts.IdlePoll = DefaultIdlePoll
	}
	if opts.IdleSafetyPoll <= 0 {
		opts.IdleSafetyPoll = DefaultIdleSafetyPoll
	}
	if opts.AlertInterval <= 0 {
		opts.AlertInterval = DefaultAlertInterval
	}
	if opts.HeaderCacheMemory == 0 {
		opts.HeaderCacheMemory = DefaultHeaderCacheMemory
	}
	return &Backend{opts: opts, hdrs: &hdrMem{limit: opts.HeaderCacheMemory}}
}

// NewSession returns a session for a new connection in the not-authenticated
// state (RFC 3501 §3.1). It is the server's Options.NewSession.
func (b *Backend) NewSession(ctx context.Context, info *imapserver.ConnInfo) (imapserver.Session, error) {
	return &session{b: b, info: info}, nil
}

// NewPreauthSession returns a session already authenticated as u, for a
// connection greeted with PREAUTH (RFC 3501 §7.1.4: a pipe started by the
// user, DESIGN.md §1).
func (b *Backend) NewPreauthSession(ctx context.Context, info *imapserver.ConnInfo, u *auth.User) (imapserver.Session, error) {
	s := &session{b: b, info: info, preauth: true}
	if err := s.open(ctx, u); err != nil {
		return nil, err
	}
	s.b.opts.Logger.Info(fmt.Sprintf("Preauthenticated user=%s host=%s", u.Name, s.host()))
	return s, nil
}

// Preauthenticated names the user of a session made by NewPreauthSession,
// so the server greets with PREAUTH (imapserver.SessionPreauth).
func (s *session) Preauthenticated() string {
	if !s.preauth || s.user == nil {
		return ""
	}
	return s.user.Name
}

// session is one connection's view. The server calls it from one goroutine
// at a time (imapserver.Session), so it needs no lock.
type session struct {
	b     *Backend
	info  *imapserver.ConnInfo
	user  *auth.User
	store mailstore.Store
	sel   *selected // nil unless a mailbox is selected
	// preauth is set for sessions authenticated before the greeting.
	preauth bool
	alerts  alertState
	// endReason replaces "Logout" in the closing log line when the
	// connection ended otherwise (UW's "Autologout", ...).
	endReason string
	// cond is what the client enabled of RFC 7162 (condstore.go).
	cond condState
	// rev2 is set once the client enabled IMAP4rev2: unsolicited FETCH
	// responses then carry the UID (RFC 9051 §7.5.2, Appendix E item 21).
	rev2 bool
	// flagScratch holds the FLAGS of the message a FETCH response is
	// being written for, reused from message to message.
	flagScratch []imap.Flag
	// readsStructures is set once the client FETCHed something that
	// needs a message's parsed structure (ENVELOPE, BODYSTRUCTURE,
	// RFC822.SIZE, sections...): from then on its APPENDs parse and cache
	// the new message's structure while the file is in the page cache.
	// A client that only appends (an importer, a migration, a MUA's
	// first save) does not pay for a parse nobody reads: the first FETCH
	// makes it, as Dovecot caches only the fields clients have asked for
	// (issue 7: 7% of APPENDs/s).
	readsStructures bool
}

var (
	_ imapserver.SessionMove      = (*session)(nil)
	_ imapserver.SessionPreauth   = (*session)(nil)
	_ imapserver.SessionAlerts    = (*session)(nil)
	_ imapserver.SessionEndReason = (*session)(nil)
)

// SetEndReason implements imapserver.SessionEndReason.
func (s *session) SetEndReason(reason string) { s.endReason = reason }

// host formats the client address as UW's tcp_clienthost did with no
// reverse name, keeping the "name [addr]" shape fail2ban's uw-imapd filter
// expects.
func (s *session) host() string { return auth.LogHost(s.peer()) }

// peer is the client's address; the zero AddrPort for a pipe.
func (s *session) peer() netip.AddrPort {
	if s.info == nil {
		return netip.AddrPort{}
	}
	return s.info.RemoteAddr
}

// gate is the login sequence shared with POP3 (auth.Gate).
func (b *Backend) gate() *auth.Gate {
	return &auth.Gate{Auth: b.opts.Auth, Throttle: b.opts.Throttle, NoLoginFile: b.opts.NoLoginFile, BeforeOpen: b.opts.BeforeOpen, Logger: b.opts.Logger}
}

// Login implements imapserver.Session (RFC 3501 §6.2.3).
func (s *session) Login(ctx context.Context, username, password string) error {
	u, err := s.b.gate().Login(ctx, username, password, s.peer())
	if err != nil {
		var r *auth.Refused
		if !errors.As(err, &r) {
			return fmt.Errorf("imapbackend: login: %w", err)
		}
		switch r.Kind {
		case auth.RefusedCredentials:
			return imap.NO(imap.CodeAuthenticationFailed, r.Reason)
		default: // nologin, temporary
			return imap.NO(imap.CodeUnavailable, r.Reason)
		}
	}
	if err := s.open(ctx, u); err != nil {
		return err
	}
	s.b.opts.Logger.Info(fmt.Sprintf("Login user=%s host=%s", u.Name, s.host()))
	return nil
}

// open opens u's store.
func (s *session) open(ctx context.Context, u *auth.User) error {
	st, err := s.b.opts.OpenStore(ctx, u)
	if err != nil {
		s.b.opts.Logger.Error("imapbackend: open store", "user", u.Name, "err", err)
		return imap.NO(imap.CodeUnavailable, "Mail store unavailable")
	}
	s.user, s.store = u, st
	return nil
}

// Close implements imapserver.Session.
func (s *session) Close() error {
	var err error
	if s.sel != nil {
		err = s.sel.mb.Close()
		s.sel = nil
	}
	if s.store != nil {
		if cerr := s.store.Close(); err == nil {
			err = cerr
		}
		s.store = nil
		reason := "Logout"
		if s.endReason != "" {
			reason = s.endReason
		}
		s.b.opts.Logger.Info(fmt.Sprintf("%s user=%s host=%s", reason, s.user.Name, s.host()))
	}
	return err
}

// needAuth returns an error when no user is logged in; the server checks
// the state too, so this only guards against misuse.
func (s *session) needAuth() error {
	if s.store == nil {
		return imap.BAD("", "Not authenticated")
	}
	return nil
}

// needSel returns the selected mailbox, or an error when there is none.
func (s *session) needSel() (*selected, error) {
	if s.sel == nil {
		return nil, imap.BAD("", "No mailbox selected")
	}
	return s.sel, nil
}
