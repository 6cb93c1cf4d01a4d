package imapserver

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"github.com/postern/postern/internal/connserve"
)

// Default limits and timeouts (DESIGN.md §6).
const (
	// DefaultLoginTimeout bounds the time from connect to a successful login.
	DefaultLoginTimeout = 3 * time.Minute
	// DefaultIdleTimeout is the inactivity autologout timer after login;
	// RFC 3501 §5.4 requires at least 30 minutes.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultIdleCommandTimeout bounds one IDLE command (RFC 2177 §3 asks
	// clients to re-issue IDLE at least every 29 minutes).
	DefaultIdleCommandTimeout = 30 * time.Minute
	// DefaultLiteralTimeout bounds the rest of a command line once its first
	// octet arrived, renewed for each literal and while a literal streams.
	DefaultLiteralTimeout = 5 * time.Minute
	// DefaultWriteTimeout bounds each write to the client.
	DefaultWriteTimeout = time.Minute
	// defaultIdleKeepalive is how often IDLE says "* OK Still here"
	// (Dovecot's imap_idle_notify_interval is 2 minutes too).
	defaultIdleKeepalive = 2 * time.Minute

	DefaultMaxLineLength             = 64 << 10
	DefaultMaxLiteralSize            = 64 << 10
	DefaultMaxAppendSize             = 64 << 20
	DefaultMaxDepth                  = 8
	DefaultMaxBadCommandsBeforeLogin = 3
	DefaultMaxLoginFailures          = 5
	DefaultMaxFetchItems             = 1000
	DefaultMaxSearchKeys             = 1000
	DefaultMaxFlags                  = 256

	// DefaultGreeting is the text of the greeting after its capability code.
	DefaultGreeting = "Postern ready"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = connserve.ErrClosed

// Options configure a Server. The zero value of each field selects the
// default given beside it.
type Options struct {
	// NewSession creates the backend session of a new connection. It must
	// be set. Returning an *imap.Error answers with its text in a BYE;
	// any other error is logged and the client sees a generic BYE.
	NewSession func(ctx context.Context, info *ConnInfo) (Session, error)
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// TLSConfig enables STARTTLS (RFC 3501 §6.2.1); nil: no STARTTLS.
	TLSConfig *tls.Config
	// InsecureAuth allows plaintext LOGIN/AUTHENTICATE on an unencrypted
	// non-loopback connection; false: such connections get LOGINDISABLED
	// (RFC 3501 §6.2.3, DESIGN.md §5).
	InsecureAuth bool
	// IsLoopback reports whether a peer address is local (plaintext login
	// allowed without TLS); nil: an IP loopback address, or a non-IP
	// address (pipe, Unix socket). Tests override it.
	IsLoopback func(net.Addr) bool
	// Greeting is the greeting text; "": DefaultGreeting.
	Greeting string
	// Version is the version the server gives in its ID answer (RFC 2971
	// §3.3 "version"); "": none given.
	Version string
	// HideID answers ID with NIL instead of the server's name and version
	// (RFC 2971 §3.2, §7); false: name and Version are given.
	HideID bool

	// MaxLineLength bounds a command line outside literals; 0: 64 KiB.
	MaxLineLength int
	// MaxLiteralSize bounds a literal argument other than APPEND's; 0: 64 KiB.
	MaxLiteralSize int64
	// MaxAppendSize bounds an APPEND message; 0: 64 MiB.
	MaxAppendSize int64
	// MaxDepth bounds parenthesis nesting; 0: 8.
	MaxDepth int
	// MaxBadCommandsBeforeLogin is how many BAD responses a connection gets
	// before login until it is closed with BYE; 0: 3.
	MaxBadCommandsBeforeLogin int
	// MaxLoginFailures is how many failed LOGIN or AUTHENTICATE commands
	// a connection gets; the last one's NO is followed by BYE (a password
	// guesser must reconnect, and meet the per-address delay); 0: 5.
	MaxLoginFailures int
	// MaxLiteralTotal bounds the octets of all the literals of one command
	// held in memory (APPEND's message streams and is not counted): the
	// line length does not count literals; 0: 4 times MaxLiteralSize.
	MaxLiteralTotal int64
	// MaxFetchItems bounds the items of one FETCH, each name of a
	// HEADER.FIELDS list counting as one (RFC 3501 §6.4.5); more are
	// answered BAD [LIMIT]; 0: 1000.
	MaxFetchItems int
	// MaxSearchKeys bounds the keys of one SEARCH program, NOT, OR and
	// parenthesised groups included (RFC 3501 §6.4.4): the session's cost
	// grows with keys times messages; more are answered BAD [LIMIT];
	// 0: 1000.
	MaxSearchKeys int
	// MaxFlags bounds the flags of one STORE or APPEND flag list
	// (RFC 3501 §6.4.6, §6.3.11); more are answered BAD [LIMIT]; 0: 256.
	MaxFlags int

	// LoginTimeout is the time allowed from connect to login; 0: 3 minutes.
	LoginTimeout time.Duration
	// IdleTimeout is the autologout timer after login (RFC 3501 §5.4);
	// 0: 30 minutes.
	IdleTimeout time.Duration
	// IdleCommandTimeout bounds one IDLE command (RFC 2177); 0: 30 minutes.
	IdleCommandTimeout time.Duration
	// LiteralTimeout bounds reading one command once it started, renewed
	// per literal and while a literal streams; 0: 5 minutes.
	LiteralTimeout time.Duration
	// WriteTimeout bounds each write to the client; 0: 1 minute.
	WriteTimeout time.Duration
}

// Server is an IMAP4rev1 server (RFC 3501). It takes listeners or
// connections; it never opens sockets (STYLE.md habit 7).
type Server struct {
	opts Options
	log  *slog.Logger
	// g accepts, tracks and stops the connections (shared with the
	// other protocol engine).
	g *connserve.Group

	// idleKeepalive is the interval of "* OK Still here" during IDLE;
	// tests shorten it.
	idleKeepalive time.Duration
}

// New returns a server with opts copied and defaulted.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IsLoopback == nil {
		opts.IsLoopback = connserve.IsLoopback
	}
	if opts.Greeting == "" {
		opts.Greeting = DefaultGreeting
	}
	setDefault(&opts.MaxLineLength, DefaultMaxLineLength)
	setDefault(&opts.MaxLiteralSize, DefaultMaxLiteralSize)
	setDefault(&opts.MaxAppendSize, DefaultMaxAppendSize)
	setDefault(&opts.MaxDepth, DefaultMaxDepth)
	setDefault(&opts.MaxBadCommandsBeforeLogin, DefaultMaxBadCommandsBeforeLogin)
	setDefault(&opts.MaxLoginFailures, DefaultMaxLoginFailures)
	setDefault(&opts.MaxLiteralTotal, 4*opts.MaxLiteralSize)
	setDefault(&opts.MaxFetchItems, DefaultMaxFetchItems)
	setDefault(&opts.MaxSearchKeys, DefaultMaxSearchKeys)
	setDefault(&opts.MaxFlags, DefaultMaxFlags)
	setDefault(&opts.LoginTimeout, DefaultLoginTimeout)
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	setDefault(&opts.IdleCommandTimeout, DefaultIdleCommandTimeout)
	setDefault(&opts.LiteralTimeout, DefaultLiteralTimeout)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	return &Server{
		idleKeepalive: defaultIdleKeepalive,
		opts:          opts,
		log:           opts.Logger,
		g:             connserve.New("imapserver", opts.Logger),
	}
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Serve accepts connections on l and serves each in its own goroutine until
// l fails or Shutdown is called; then it returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.g.Serve(l, func(c net.Conn) { s.ServeConn(context.Background(), c, false) })
}

// ServeConn serves one connection until the client logs out, the connection
// fails, or Shutdown ends it; it closes c. tlsActive says c is already
// encrypted (implicit TLS, RFC 8314); a *tls.Conn is detected without it.
// ctx bounds the connection: cancelling it closes c.
func (s *Server) ServeConn(ctx context.Context, c net.Conn, tlsActive bool) {
	if _, ok := c.(*tls.Conn); ok {
		tlsActive = true
	}
	cn := s.newConn(c, tlsActive)
	s.g.Track(cn, c, func() { cn.serve(ctx) })
}

// Shutdown stops the server gracefully: it closes the listeners, tells
// connections waiting for a command that the server is shutting down, lets
// commands in progress finish (each connection then says the same), and
// returns once every connection is closed. When ctx ends first it closes
// the remaining connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.g.Shutdown(ctx) }
