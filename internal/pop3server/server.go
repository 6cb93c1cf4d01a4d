package pop3server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/postern/postern/internal/connserve"
)

// Default limits and timeouts (DESIGN.md §6).
const (
	// DefaultLoginTimeout bounds the time from connect to a successful
	// login (the same as imapserver's).
	DefaultLoginTimeout = 3 * time.Minute
	// DefaultIdleTimeout is the inactivity autologout timer after login;
	// RFC 1939 §3 requires at least 10 minutes.
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultWriteTimeout bounds each write to the client.
	DefaultWriteTimeout = time.Minute

	// DefaultMaxLineLength bounds a command line, CRLF included. RFC 2449
	// §4 asks for 255 octets; clients sending long user names or
	// passwords get some slack.
	DefaultMaxLineLength             = 1024
	DefaultMaxBadCommandsBeforeLogin = 3
	DefaultMaxLoginFailures          = 5

	// DefaultGreeting is the text of the greeting after "+OK ".
	DefaultGreeting = "Postern POP3 server ready"
	// DefaultImplementation is the CAPA IMPLEMENTATION argument (RFC
	// 2449 §6.9).
	DefaultImplementation = "Postern"

	// maxAuthLineLength bounds an AUTH command line and each SASL
	// response line: RFC 5034 §4 lifts the 255-octet limit for them, and
	// a PLAIN message of three 255-octet fields (RFC 4616 §2) is 1024
	// octets of base64.
	maxAuthLineLength = 4096
	// maxDiscard is how much of an overlong line is read and thrown away
	// before the connection is closed instead: a client that sends no
	// line ending at all must not keep the server reading forever.
	maxDiscard = 64 << 10
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = connserve.ErrClosed

// Options configure a Server. The zero value of each field selects the
// default given beside it.
type Options struct {
	// NewSession creates the backend session of a new connection. It must
	// be set. Returning an *Error answers with it (-ERR [code] text) and
	// closes; any other error is logged and the client sees
	// "-ERR [SYS/TEMP] ...".
	NewSession func(ctx context.Context, info *ConnInfo) (Session, error)
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// TLSConfig enables STLS (RFC 2595 §4); nil: no STLS.
	TLSConfig *tls.Config
	// InsecureAuth allows USER/PASS and plaintext SASL on an unencrypted
	// non-loopback connection; false: such connections are refused them
	// and CAPA leaves out USER and SASL (RFC 2595 §2.1, DESIGN.md §5).
	InsecureAuth bool
	// IsLoopback reports whether a peer address is local (plaintext login
	// allowed without TLS); nil: an IP loopback address, or a non-IP
	// address (pipe, Unix socket). Tests override it.
	IsLoopback func(net.Addr) bool
	// Greeting is the greeting text after "+OK "; "": DefaultGreeting. It
	// must not contain "<" (RFC 2449 §3 gchar): the APOP timestamp is
	// appended after it.
	Greeting string
	// Hostname goes into the APOP timestamp (RFC 1939 §7); "": the
	// system's host name. Unused unless sessions implement SessionAPOP.
	Hostname string
	// Implementation is the CAPA IMPLEMENTATION argument (RFC 2449 §6.9);
	// "": DefaultImplementation.
	Implementation string
	// LoginDelay, when positive, is advertised as "LOGIN-DELAY seconds"
	// (RFC 2449 §6.5). Set it only when the backend enforces it (answering
	// [LOGIN-DELAY] to early logins); 0: not advertised.
	LoginDelay time.Duration
	// Expire, when set, is advertised as "EXPIRE value" (RFC 2449 §6.7):
	// "NEVER", or a number of days the backend enforces; "": not
	// advertised.
	Expire string

	// MaxLineLength bounds a command line, CRLF included; longer lines
	// are answered -ERR (AUTH lines may be up to 4096 octets, RFC 5034
	// §4); 0: 1024. RFC 2449 §4 requires at least 255.
	MaxLineLength int
	// MaxBadCommandsBeforeLogin is how many -ERR answers to unknown or
	// malformed commands a connection gets before login until it is
	// closed; 0: 3.
	MaxBadCommandsBeforeLogin int
	// MaxLoginFailures is how many refused USER/PASS, APOP or AUTH logins
	// a connection gets; the last one's -ERR is followed by the close (a
	// password guesser must reconnect, and meet the backend's
	// per-address delay); 0: 5.
	MaxLoginFailures int

	// LoginTimeout is the time allowed from connect to login; 0: 3
	// minutes.
	LoginTimeout time.Duration
	// IdleTimeout is the autologout timer after login (RFC 1939 §3: at
	// least 10 minutes); 0: 10 minutes.
	IdleTimeout time.Duration
	// WriteTimeout bounds each write to the client; 0: 1 minute.
	WriteTimeout time.Duration
}

// Server is a POP3 server (RFC 1939). It takes listeners or connections;
// it never opens sockets (STYLE.md habit 7).
type Server struct {
	opts Options
	log  *slog.Logger
	// g accepts, tracks and stops the connections (shared with the
	// other protocol engine).
	g *connserve.Group
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
	if opts.Implementation == "" {
		opts.Implementation = DefaultImplementation
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
		if opts.Hostname == "" {
			opts.Hostname = "localhost"
		}
	}
	setDefault(&opts.MaxLineLength, DefaultMaxLineLength)
	setDefault(&opts.MaxBadCommandsBeforeLogin, DefaultMaxBadCommandsBeforeLogin)
	setDefault(&opts.MaxLoginFailures, DefaultMaxLoginFailures)
	setDefault(&opts.LoginTimeout, DefaultLoginTimeout)
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	return &Server{
		opts: opts,
		log:  opts.Logger,
		g:    connserve.New("pop3server", opts.Logger),
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Serve accepts connections on l and serves each in its own goroutine until
// l fails or Shutdown is called; then it returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.g.Serve(l, func(c net.Conn) { s.ServeConn(context.Background(), c, false) })
}

// ServeConn serves one connection until the client quits, the connection
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
