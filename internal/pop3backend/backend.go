package pop3backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/pop3server"
)

// Options configure a Backend.
type Options struct {
	// Auth checks USER/PASS and AUTH credentials. Required.
	Auth auth.Authenticator
	// OpenStore opens the mail store of an authenticated user. Required.
	OpenStore func(ctx context.Context, u *auth.User) (mailstore.Store, error)
	// Logger receives the session lines in UW ipop3d's wording (DESIGN.md
	// §1) and internal errors. Nil discards.
	Logger *slog.Logger
	// Throttle delays the answer to failed logins per client address
	// (DESIGN.md §5). Nil means no delay.
	Throttle *auth.Throttle
	// Clock returns the current time; it times the UPDATE state for the
	// logs. Nil means time.Now.
	Clock func() time.Time
	// BeforeOpen runs after a successful login and before any file of the
	// user is opened: inetd mode drops privileges to the user there
	// (DESIGN.md §2). An error refuses the login; the caller decides
	// whether the process can go on (a failed privilege drop must end it).
	// Nil means nothing is run.
	BeforeOpen func(u *auth.User) error
	// NoLoginFile refuses every login while it exists, as login(1) did
	// with /etc/nologin; its first line is told to the client. Empty means
	// not checked.
	NoLoginFile string
}

// Backend creates POP3 sessions. It is safe for concurrent use.
type Backend struct {
	opts Options
}

// New returns a Backend using opts, with defaults filled in.
func New(opts Options) *Backend {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Backend{opts: opts}
}

// NewSession returns a session for a new connection in the AUTHORIZATION
// state (RFC 1939 §4). It is the server's Options.NewSession.
func (b *Backend) NewSession(ctx context.Context, info *pop3server.ConnInfo) (pop3server.Session, error) {
	return &session{b: b, info: info}, nil
}

// NewPreauthSession returns a session already in the TRANSACTION state
// (RFC 1939 §5) for u, its maildrop opened: for ipop3d run on a pipe by the
// user (DESIGN.md §2). POP3 has no PREAUTH greeting, so the client still
// says USER and PASS: USER must name u (the pipe's owner, already known to
// the operating system) and the password is not checked.
func (b *Backend) NewPreauthSession(ctx context.Context, info *pop3server.ConnInfo, u *auth.User) (pop3server.Session, error) {
	s := &session{b: b, info: info, preauth: true}
	if err := s.open(ctx, u); err != nil {
		return nil, err
	}
	s.logLogin("Preauthenticated")
	return s, nil
}

// session is one connection's maildrop. The server calls it from one
// goroutine at a time (pop3server.Session), so it needs no lock.
type session struct {
	b     *Backend
	info  *pop3server.ConnInfo
	user  *auth.User
	store mailstore.Store
	mb    mailstore.Mailbox
	snap  snapshot
	// total is the number of messages INBOX held at login, \Deleted ones
	// included (UW's nmsgs=snapshot/total).
	total int
	// updated is set once Update has run, so it runs at most once.
	updated bool
	// preauth marks a session opened by NewPreauthSession.
	preauth bool
	// endReason replaces "Logout" in the closing log line when the
	// connection ended otherwise (UW's "Autologout", "Hangup", ...).
	endReason string
}

var (
	_ pop3server.Session          = (*session)(nil)
	_ pop3server.SessionEndReason = (*session)(nil)
)

// SetEndReason implements pop3server.SessionEndReason.
func (s *session) SetEndReason(reason string) { s.endReason = reason }

// host formats the client address as UW's tcp_clienthost did with no
// reverse name, keeping the "name [addr]" shape fail2ban filters expect
// (the same as imapbackend's).
func (s *session) host() string { return auth.LogHost(s.peer()) }

// peer is the client's address; the zero AddrPort for a pipe.
func (s *session) peer() netip.AddrPort {
	if s.info == nil {
		return netip.AddrPort{}
	}
	return s.info.RemoteAddr
}

// gate is the login sequence shared with IMAP (auth.Gate).
func (b *Backend) gate() *auth.Gate {
	return &auth.Gate{Auth: b.opts.Auth, Throttle: b.opts.Throttle, NoLoginFile: b.opts.NoLoginFile, BeforeOpen: b.opts.BeforeOpen, Logger: b.opts.Logger}
}

// Login implements pop3server.Session (RFC 1939 §7 USER/PASS; RFC 5034
// after SASL decoding).
func (s *session) Login(ctx context.Context, username, password string) error {
	if s.store != nil && s.preauth {
		if username != s.user.Name {
			s.b.opts.Logger.Warn(fmt.Sprintf("Login failed user=%s auth=%s host=%s", username, username, s.host()), "reason", "the pipe belongs to "+s.user.Name)
			return pop3server.ErrAuth
		}
		return nil
	}
	if s.store != nil {
		return &pop3server.Error{Text: "Already logged in"}
	}
	u, err := s.b.gate().Login(ctx, username, password, s.peer())
	if err != nil {
		var r *auth.Refused
		if !errors.As(err, &r) {
			return fmt.Errorf("pop3backend: login: %w", err)
		}
		switch r.Kind {
		case auth.RefusedCredentials:
			return pop3server.ErrAuth
		case auth.RefusedTemporary:
			return &pop3server.Error{Code: pop3server.CodeSysTemp, Text: r.Reason, Cause: r.Err}
		default: // nologin
			return &pop3server.Error{Code: pop3server.CodeSysTemp, Text: r.Reason}
		}
	}
	if err := s.open(ctx, u); err != nil {
		return err
	}
	s.logLogin("Login")
	return nil
}

// logLogin writes UW ipop3d's login line.
func (s *session) logLogin(what string) {
	s.b.opts.Logger.Info(fmt.Sprintf("%s user=%s host=%s nmsgs=%d/%d", what, s.user.Name, s.host(), len(s.snap.msgs), s.total))
}

// open opens u's store and INBOX and takes the snapshot. On failure
// nothing stays open.
func (s *session) open(ctx context.Context, u *auth.User) error {
	log := s.b.opts.Logger
	st, err := s.b.opts.OpenStore(ctx, u)
	if err != nil {
		log.Error("pop3backend: open store", "user", u.Name, "err", err)
		if errors.Is(err, mailstore.ErrLocked) {
			return openError(err)
		}
		return &pop3server.Error{Code: pop3server.CodeSysTemp, Text: "Mail store unavailable", Cause: err}
	}
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		st.Close()
		log.Info(fmt.Sprintf("Error opening or locking INBOX user=%s host=%s", u.Name, s.host()), "err", err)
		return openError(err)
	}
	snap, total, err := takeSnapshot(ctx, mb)
	if err != nil {
		mb.Close()
		st.Close()
		log.Info(fmt.Sprintf("Error opening or locking INBOX user=%s host=%s", u.Name, s.host()), "err", err)
		return openError(err)
	}
	s.user, s.store, s.mb, s.snap, s.total = u, st, mb, snap, total
	return nil
}

// Close implements pop3server.Session. Without a prior Update nothing
// marked is removed and no \Seen is set (RFC 1939 §6: only QUIT enters the
// UPDATE state).
func (s *session) Close() error {
	if s.store == nil {
		return nil
	}
	err := s.mb.Close()
	if cerr := s.store.Close(); err == nil {
		err = cerr
	}
	s.mb, s.store = nil, nil
	reason := "Logout"
	if s.endReason != "" {
		reason = s.endReason
	}
	s.b.opts.Logger.Info(fmt.Sprintf("%s user=%s host=%s", reason, s.user.Name, s.host()))
	if err != nil {
		return fmt.Errorf("pop3backend: close: %w", err)
	}
	return nil
}

// needMaildrop returns an error when no maildrop is open; the server
// checks the state too, so this only guards against misuse.
func (s *session) needMaildrop() error {
	if s.mb == nil {
		return &pop3server.Error{Text: "Not logged in"}
	}
	return nil
}
