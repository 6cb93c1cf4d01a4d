// Package config reads Postern's configuration file into structs and
// validates it. The format is deliberately small: one "key = value" per
// line, "#" comments, and repeatable keys for listeners:
//
//	# /etc/postern/postern.conf
//	listen       = imap  [::]:143
//	listen       = imaps [::]:993
//	tls_cert     = /etc/postern/cert.pem
//	tls_key      = /etc/postern/key.pem
//	passwd_file  = /etc/postern/passwd
//	mail_root    = /var/vmail/%u
//
// Every key, its meaning and its default are listed in Keys (and in the
// README); unknown keys are errors, so a typo never silently falls back to a
// default.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Service names a protocol service a listener offers.
type Service string

// Services. IMAP is plain with STARTTLS (RFC 3501 §6.2.1); IMAPS is implicit
// TLS (RFC 8314).
const (
	ServiceIMAP  Service = "imap"
	ServiceIMAPS Service = "imaps"
	ServicePOP3  Service = "pop3"  // RFC 1939, with STLS (RFC 2595)
	ServicePOP3S Service = "pop3s" // RFC 8314 implicit TLS
)

// Services lists every service, in the order listeners are reported.
var Services = []Service{ServiceIMAP, ServiceIMAPS, ServicePOP3, ServicePOP3S}

// ParseService returns the service named s.
func ParseService(s string) (Service, error) {
	for _, svc := range Services {
		if string(svc) == s {
			return svc, nil
		}
	}
	return "", fmt.Errorf("unknown service %q (want imap, imaps, pop3 or pop3s)", s)
}

// ImplicitTLS reports whether the service starts with a TLS handshake.
func (s Service) ImplicitTLS() bool { return s == ServiceIMAPS || s == ServicePOP3S }

// POP3 reports whether the service speaks POP3 (else IMAP).
func (s Service) POP3() bool { return s == ServicePOP3 || s == ServicePOP3S }

// Describe says what the service is, for people.
func (s Service) Describe() string {
	switch s {
	case ServiceIMAPS:
		return "IMAP over implicit TLS"
	case ServicePOP3:
		return "plain POP3 with STLS"
	case ServicePOP3S:
		return "POP3 over implicit TLS"
	}
	return "plain IMAP with STARTTLS"
}

// Listener is one address to listen on and the service it offers.
type Listener struct {
	Service Service
	Addr    string // host:port; "[::]:143" is dual-stack (DESIGN.md §2)
}

// Values of Auth and MailStore.
const (
	AuthSystem  = "system"
	AuthPAM     = "pam"
	AuthVirtual = "virtual"

	StoreAuto    = "auto"
	StoreMbox    = "mbox"
	StoreMaildir = "maildir"
)

// SystemAccounts reports whether users are the host's accounts (system or
// PAM), whose sessions run with the user's own uid.
func (c *Config) SystemAccounts() bool { return c.Auth != AuthVirtual }

// Store returns the mail store in use: MailStore, with StoreAuto resolved
// (mbox for system accounts, Maildir for virtual users).
func (c *Config) Store() string {
	if c.MailStore != StoreAuto {
		return c.MailStore
	}
	if c.SystemAccounts() {
		return StoreMbox
	}
	return StoreMaildir
}

// CertPair names one certificate's files; an empty Key means the key is in
// Cert.
type CertPair struct {
	Cert, Key string
}

// Config is the whole configuration. The zero value is not usable; start
// from Default.
type Config struct {
	Listeners []Listener

	// TLSCert and TLSKey are PEM files; an empty TLSKey means the key is in
	// TLSCert (one combined file, as UW used).
	TLSCert, TLSKey string
	// SNICerts are further certificates, each served to clients whose SNI
	// server name it covers (RFC 6066 §3).
	SNICerts []CertPair

	// Auth is where users are checked: AuthSystem (the host's accounts,
	// /etc/passwd and /etc/shadow, as UW did), AuthPAM, or AuthVirtual
	// (PasswdFile).
	Auth string
	// RequireValidShell refuses system accounts whose shell is not in
	// /etc/shells (UW did not check; off by default).
	RequireValidShell bool
	// PAMService is the PAM service name for AuthPAM.
	PAMService string

	// MailStore is StoreMbox, StoreMaildir or StoreAuto (mbox for system
	// accounts, Maildir for virtual users).
	MailStore string
	// MboxInbox and MboxDir are the templates ("%u" user, "%h" home) of a
	// system user's INBOX file and of the directory holding the other
	// mailboxes, as UW had them (/var/mail/%u and the home directory).
	MboxInbox, MboxDir string
	// MboxHomeInbox applies UW's rule: ~/mbox, when it exists, is INBOX.
	MboxHomeInbox bool

	// DefaultMailboxes are created, with their special use and
	// subscribed, the first time a new account's Maildir is opened;
	// MboxDefaultMailboxes does the same for a new mbox store (off: UW
	// never created folders in a home directory).
	DefaultMailboxes     []DefaultMailbox
	MboxDefaultMailboxes bool

	// MailWatch is how the stores notice changes made by other processes
	// and programs for IDLE: MailWatchInotify (poll only where inotify
	// fails) or MailWatchPoll (a stat per mailbox each second, for mail on
	// NFS, whose writes on other hosts inotify cannot see).
	MailWatch string
	// QuotaStorage and QuotaMessages are every user's quota (RFC 9208) in
	// octets and messages, unless the passwd file's quota rules say
	// otherwise; 0 means no limit.
	QuotaStorage, QuotaMessages int64

	// PasswdFile is the virtual-user file (Dovecot passwd-file shape).
	PasswdFile string
	// MailRoot is the template for a user's Maildir when the passwd file
	// gives no home: "%u" is replaced by the user name.
	MailRoot string
	// AuthCacheTTL and AuthCacheSize bound the cache of passwords that
	// verified against the passwd file (auth.Cache: keyed hashes only,
	// never failures, dropped when the file changes); either at 0 turns
	// it off.
	AuthCacheTTL  time.Duration
	AuthCacheSize int

	// SystemMailRoot is the template for the Maildir of a system-account
	// user (pipe mode's PREAUTH user): "%u" is the user name, "%h" the home
	// directory from the password database.
	SystemMailRoot string

	// LogFile, when set, is appended to instead of logging to syslog
	// (inetd and pipe mode) or standard error (daemon).
	LogFile string

	// AlertFile, UserAlertFile and NoLoginFile are UW's administrator
	// files: alerts for everyone, alerts in a user's home directory, and
	// the file whose presence refuses logins. Empty disables each.
	AlertFile, UserAlertFile, NoLoginFile string

	// InsecureAuth allows plaintext passwords on unencrypted non-loopback
	// connections. Off by default (RFC 8314 §3; DESIGN.md §5).
	InsecureAuth bool

	// ServerID makes the IMAP ID answer name the server and its version
	// (RFC 2971); off, ID is answered NIL, for sites that would rather not
	// tell (RFC 2971 §7). On by default, as Dovecot does.
	ServerID bool

	// LogLevel is debug, info, warn or error.
	LogLevel string

	// Limits and timeouts (DESIGN.md §6).
	MaxLineLength    int
	MaxLiteralSize   int64
	MaxAppendSize    int64
	MaxDepth         int
	LoginTimeout     time.Duration
	IdleTimeout      time.Duration
	IdleCommandLimit time.Duration
	LiteralTimeout   time.Duration
	MaxConnections   int // global cap; 0 means no cap
	MaxConnsPerIP    int // per client address; 0 means no cap
	// AllowFrom lists the client networks that may connect; empty allows
	// every address. IPv4-mapped IPv6 prefixes are stored as IPv4, as
	// peers are matched unmapped (DESIGN.md §2).
	AllowFrom        []netip.Prefix
	MaxLoginFailures int // failed logins on one connection before BYE
	// LoginDelay and LoginDelayMax bound the answer delay after failed
	// logins from one client address: LoginDelay after the first, doubling
	// up to LoginDelayMax (DESIGN.md §5).
	LoginDelay, LoginDelayMax time.Duration
	// LoginFailureRate is how many failed logins per second, from all
	// addresses together, pass with only their address's delay; beyond
	// it (after LoginFailureBurst at once) each failure waits
	// LoginDelayMax, so that a botnet spread over many addresses is slowed
	// too. 0 turns the global limit off.
	LoginFailureRate  float64
	LoginFailureBurst int
	// MemoryLimit is the daemon's memory bound in octets: the Go
	// runtime's soft limit, and new connections are refused while the
	// memory in use nears it. 0: no bound.
	MemoryLimit int64
	// SearchCacheMemory bounds the header fields SEARCH keeps in memory
	// for the whole daemon. 0: none kept.
	SearchCacheMemory int64
	MaxLiteralTotal   int64
	MaxFetchItems     int
	MaxSearchKeys     int
	MaxFlags          int
	WriteTimeout      time.Duration
}

// mail_watch values.
const (
	MailWatchInotify = "inotify"
	MailWatchPoll    = "poll"
)

// Default returns the built-in defaults (DESIGN.md §6).
func Default() *Config {
	return &Config{
		Listeners: []Listener{
			{ServiceIMAP, "[::]:143"},
			{ServiceIMAPS, "[::]:993"},
		},
		Auth:              AuthSystem,
		ServerID:          true,
		MailWatch:         MailWatchInotify,
		PAMService:        "imap",
		MailStore:         StoreAuto,
		MboxInbox:         "/var/mail/%u",
		MboxDir:           "%h",
		MboxHomeInbox:     true,
		DefaultMailboxes:  mustDefaultMailboxes(defaultMailboxesText),
		PasswdFile:        "/etc/postern/passwd",
		MailRoot:          "/var/vmail/%u/Maildir",
		AuthCacheTTL:      time.Hour,
		AuthCacheSize:     10000,
		SystemMailRoot:    "%h/Maildir",
		AlertFile:         "/etc/imapd.alert",
		UserAlertFile:     ".imapalert",
		NoLoginFile:       "/etc/nologin",
		LogLevel:          "info",
		MaxLineLength:     64 << 10,
		MaxLiteralSize:    64 << 10,
		MaxAppendSize:     64 << 20,
		MaxDepth:          8,
		LoginTimeout:      3 * time.Minute,
		IdleTimeout:       30 * time.Minute,
		IdleCommandLimit:  30 * time.Minute,
		LiteralTimeout:    5 * time.Minute,
		MaxConnections:    10000,
		MaxConnsPerIP:     100,
		MaxLoginFailures:  5,
		LoginDelay:        2 * time.Second,
		LoginDelayMax:     15 * time.Second,
		LoginFailureRate:  10,
		LoginFailureBurst: 100,
		SearchCacheMemory: 32 << 20,
		MaxLiteralTotal:   256 << 10,
		MaxFetchItems:     1000,
		MaxSearchKeys:     1000,
		MaxFlags:          256,
		WriteTimeout:      time.Minute,
	}
}

// minMemoryLimit is the smallest memory_limit accepted: below it the
// daemon would refuse every connection from the start.
const minMemoryLimit = 32 << 20

// Key documents one configuration key.
type Key struct {
	Name, Default, Doc string
	set                func(c *Config, v string) error
}

// Keys lists every configuration key, in the order the README documents them.
var Keys = []Key{
	{"listen", "imap [::]:143, imaps [::]:993", "service (imap|imaps|pop3|pop3s) and address; repeatable; the first listen line replaces the defaults", func(c *Config, v string) error {
		svc, addr, ok := strings.Cut(strings.TrimSpace(v), " ")
		addr = strings.TrimSpace(addr)
		if !ok || addr == "" {
			return fmt.Errorf("want \"SERVICE ADDRESS\", got %q", v)
		}
		service, err := ParseService(svc)
		if err != nil {
			return err
		}
		c.Listeners = append(c.Listeners, Listener{service, addr})
		return nil
	}},
	{"tls_cert", "", "PEM certificate chain (may also hold the key)", func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"tls_key", "", "PEM private key; empty: the key is in tls_cert", func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{"tls_sni_cert", "", "\"CERTFILE [KEYFILE]\": a further certificate, served to clients whose SNI name it covers; repeatable", func(c *Config, v string) error {
		f := strings.Fields(v)
		if len(f) < 1 || len(f) > 2 {
			return fmt.Errorf("want \"CERTFILE [KEYFILE]\", got %q", v)
		}
		p := CertPair{Cert: f[0]}
		if len(f) == 2 {
			p.Key = f[1]
		}
		c.SNICerts = append(c.SNICerts, p)
		return nil
	}},
	{"auth", "system", "where users are checked: system (/etc/passwd and /etc/shadow, as UW), pam, or virtual (passwd_file)", func(c *Config, v string) error {
		switch v {
		case AuthSystem, AuthPAM, AuthVirtual:
			c.Auth = v
			return nil
		}
		return fmt.Errorf("want system, pam or virtual, got %q", v)
	}},
	{"require_valid_shell", "no", "refuse system accounts whose shell is not listed in /etc/shells", func(c *Config, v string) error { return setBool(&c.RequireValidShell, v) }},
	{"pam_service", "imap", "PAM service name when auth = pam", func(c *Config, v string) error { c.PAMService = v; return nil }},
	{"mail_store", "auto", "mbox, maildir, or auto (mbox for system accounts, maildir for virtual users)", func(c *Config, v string) error {
		switch v {
		case StoreAuto, StoreMbox, StoreMaildir:
			c.MailStore = v
			return nil
		}
		return fmt.Errorf("want auto, mbox or maildir, got %q", v)
	}},
	{"mbox_inbox", "/var/mail/%u", "INBOX file of an mbox user (%u user name, %h home)", func(c *Config, v string) error { c.MboxInbox = v; return nil }},
	{"mbox_dir", "%h", "directory of an mbox user's other mailboxes (UW: the home directory; %h/mail is common)", func(c *Config, v string) error { c.MboxDir = v; return nil }},
	{"mbox_home_inbox", "yes", "UW's rule: ~/mbox, when it exists, is INBOX instead of mbox_inbox", func(c *Config, v string) error { return setBool(&c.MboxHomeInbox, v) }},
	{"default_mailboxes", defaultMailboxesText, "mailboxes made, subscribed, for a new account: NAME [\\USE], comma-separated; empty: none", func(c *Config, v string) error {
		ds, err := ParseDefaultMailboxes(v)
		c.DefaultMailboxes = ds
		return err
	}},
	{"mail_watch", "inotify", "how IDLE notices other programs' changes: inotify (polling where it fails) or poll (once a second; for mail on NFS)", func(c *Config, v string) error {
		switch v {
		case MailWatchInotify, MailWatchPoll:
			c.MailWatch = v
			return nil
		}
		return fmt.Errorf("want inotify or poll, got %q", v)
	}},
	{"mbox_default_mailboxes", "no", "also make default_mailboxes for a new mbox store (UW never made folders in a home directory)", func(c *Config, v string) error { return setBool(&c.MboxDefaultMailboxes, v) }},
	{"quota_storage", "0", "octets of mail per user (RFC 9208 STORAGE) unless the passwd file's quota rules say otherwise; 0: no limit", func(c *Config, v string) error { return setInt64(&c.QuotaStorage, v) }},
	{"quota_messages", "0", "messages per user (RFC 9208 MESSAGE) unless the passwd file's quota rules say otherwise; 0: no limit", func(c *Config, v string) error { return setInt64(&c.QuotaMessages, v) }},
	{"passwd_file", "/etc/postern/passwd", "virtual users, Dovecot passwd-file format", func(c *Config, v string) error { c.PasswdFile = v; return nil }},
	{"auth_cache_ttl", "1h", "how long a password that verified against passwd_file is remembered (a keyed hash of it), so that logging in again skips the slow hash; failures are never remembered and a changed passwd_file forgets everything; 0: off", func(c *Config, v string) error { return setDuration(&c.AuthCacheTTL, v) }},
	{"auth_cache_size", "10000", "users remembered at most by the auth cache; 0: off", func(c *Config, v string) error { return setInt(&c.AuthCacheSize, v) }},
	{"mail_root", "/var/vmail/%u/Maildir", "Maildir of a user without a home in passwd_file; %u is the user name", func(c *Config, v string) error { c.MailRoot = v; return nil }},
	{"system_mail_root", "%h/Maildir", "Maildir of a system-account user when mail_store = maildir; %u user name, %h home directory", func(c *Config, v string) error { c.SystemMailRoot = v; return nil }},
	{"log_file", "", "append logs to this file instead of syslog (inetd and pipe mode) or standard error (daemon)", func(c *Config, v string) error { c.LogFile = v; return nil }},
	{"alert_file", "/etc/imapd.alert", "its lines are sent to every session as [ALERT], again when it changes (UW); empty: none", func(c *Config, v string) error { c.AlertFile = v; return nil }},
	{"user_alert_file", ".imapalert", "file in a user's home whose lines are sent to that user's sessions as [ALERT] (UW); empty: none", func(c *Config, v string) error {
		if strings.Contains(v, "/") {
			return fmt.Errorf("want a file name in the home directory, got %q", v)
		}
		c.UserAlertFile = v
		return nil
	}},
	{"nologin_file", "/etc/nologin", "while this file exists every login is refused, with its first line as the reason (UW, login(1)); empty: not checked", func(c *Config, v string) error { c.NoLoginFile = v; return nil }},
	{"insecure_auth", "no", "allow plaintext passwords without TLS from non-loopback clients", func(c *Config, v string) error { return setBool(&c.InsecureAuth, v) }},
	{"server_id", "yes", "answer IMAP ID (RFC 2971) with the server's name and version; `no` answers NIL", func(c *Config, v string) error { return setBool(&c.ServerID, v) }},
	{"log_level", "info", "debug, info, warn or error", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"max_line_length", "65536", "octets in a command line outside literals", func(c *Config, v string) error { return setInt(&c.MaxLineLength, v) }},
	{"max_literal_size", "65536", "octets in a literal other than an APPEND message", func(c *Config, v string) error { return setInt64(&c.MaxLiteralSize, v) }},
	{"max_append_size", "67108864", "octets in an APPENDed message", func(c *Config, v string) error { return setInt64(&c.MaxAppendSize, v) }},
	{"max_depth", "8", "parenthesis nesting in a command", func(c *Config, v string) error { return setInt(&c.MaxDepth, v) }},
	{"login_timeout", "3m", "time to log in after connecting", func(c *Config, v string) error { return setDuration(&c.LoginTimeout, v) }},
	{"idle_timeout", "30m", "inactivity allowed after login (RFC 3501 minimum: 30m)", func(c *Config, v string) error { return setDuration(&c.IdleTimeout, v) }},
	{"idle_command_limit", "30m", "longest single IDLE before the server ends it", func(c *Config, v string) error { return setDuration(&c.IdleCommandLimit, v) }},
	{"literal_timeout", "5m", "time to send one literal", func(c *Config, v string) error { return setDuration(&c.LiteralTimeout, v) }},
	{"max_connections", "10000", "connections in all; 0: no cap", func(c *Config, v string) error { return setInt(&c.MaxConnections, v) }},
	{"max_connections_per_ip", "100", "connections from one client address; 0: no cap", func(c *Config, v string) error { return setInt(&c.MaxConnsPerIP, v) }},
	{"allow_from", "", "client networks allowed to connect (\"192.0.2.0/24 2001:db8::/32 ::1\"); repeatable; empty: all. Others get BYE", func(c *Config, v string) error {
		for _, f := range strings.Fields(v) {
			p, err := ParsePrefix(f)
			if err != nil {
				return err
			}
			c.AllowFrom = append(c.AllowFrom, p)
		}
		return nil
	}},
	{"max_login_failures", "5", "failed logins on one connection before it is closed", func(c *Config, v string) error { return setInt(&c.MaxLoginFailures, v) }},
	{"login_delay", "2s", "answer delay after a failed login from a client address, doubling with each further failure", func(c *Config, v string) error { return setDuration(&c.LoginDelay, v) }},
	{"login_delay_max", "15s", "the most login_delay grows to", func(c *Config, v string) error { return setDuration(&c.LoginDelayMax, v) }},
	{"login_failure_rate", "10", "failed logins per second from all addresses together before each further failure waits login_delay_max (a token bucket); 0: no global limit", func(c *Config, v string) error { return setRate(&c.LoginFailureRate, v) }},
	{"login_failure_burst", "100", "failed logins at once the global limit lets through before login_failure_rate applies", func(c *Config, v string) error { return setInt(&c.LoginFailureBurst, v) }},
	{"memory_limit", "0", "octets (or with K, M, G) of memory the daemon aims to stay under: the Go runtime's soft limit, and new connections get BYE [UNAVAILABLE] while its memory in use nears it; 0: no bound", func(c *Config, v string) error { return setSize(&c.MemoryLimit, v) }},
	{"search_cache_memory", "32M", "octets (or with K, M, G) of header fields the daemon keeps in memory for SEARCH on header keys (SUBJECT, FROM, HEADER...), shared by all sessions, the mailboxes searched least lately dropped first; 0: none (they are read from the index each time)", func(c *Config, v string) error { return setSize(&c.SearchCacheMemory, v) }},
	{"max_literal_total", "262144", "octets in all the literals of one command (APPEND messages not counted)", func(c *Config, v string) error { return setInt64(&c.MaxLiteralTotal, v) }},
	{"max_fetch_items", "1000", "items in one FETCH (each HEADER.FIELDS name counts)", func(c *Config, v string) error { return setInt(&c.MaxFetchItems, v) }},
	{"max_search_keys", "1000", "keys in one SEARCH program", func(c *Config, v string) error { return setInt(&c.MaxSearchKeys, v) }},
	{"max_flags", "256", "flags in one STORE or APPEND", func(c *Config, v string) error { return setInt(&c.MaxFlags, v) }},
	{"write_timeout", "1m", "time a client may take to accept each write", func(c *Config, v string) error { return setDuration(&c.WriteTimeout, v) }},
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f, path)
	if err != nil {
		return nil, err
	}
	return c, c.Validate()
}

// Parse reads a configuration over the defaults; name is used in errors.
func Parse(r io.Reader, name string) (*Config, error) {
	c := Default()
	sawListen := false
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config: %s:%d: want \"key = value\", got %q", name, n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		key, found := lookup(k)
		if !found {
			return nil, fmt.Errorf("config: %s:%d: unknown key %q", name, n, k)
		}
		if k == "listen" && !sawListen {
			c.Listeners, sawListen = nil, true
		}
		if err := key.set(c, v); err != nil {
			return nil, fmt.Errorf("config: %s:%d: %s: %w", name, n, k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", name, err)
	}
	return c, nil
}

// ParsePrefix parses a network ("192.0.2.0/24", "2001:db8::/32") or a
// single address, which stands for itself alone. An IPv4-mapped IPv6
// prefix (::ffff:192.0.2.0/120) becomes the IPv4 prefix it maps, so that it
// matches the unmapped peer addresses Postern compares with.
func ParsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("want an address or a network such as 192.0.2.0/24, got %q", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("want an address or a network such as 192.0.2.0/24, got %q", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped network needs at least /96", s)
		}
		p = netip.PrefixFrom(a.Unmap(), bits)
	}
	return p.Masked(), nil
}

func lookup(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// Validate checks the values together; it returns every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Listeners) == 0 {
		errs = append(errs, errors.New("no listen address"))
	}
	if c.TLSKey != "" && c.TLSCert == "" {
		errs = append(errs, errors.New("tls_key without tls_cert"))
	}
	if len(c.SNICerts) > 0 && c.TLSCert == "" {
		errs = append(errs, errors.New("tls_sni_cert without tls_cert (the default certificate)"))
	}
	if c.Store() == StoreMbox && (!strings.Contains(c.MboxInbox, "%u") && !strings.Contains(c.MboxInbox, "%h") || !strings.Contains(c.MboxDir, "%u") && !strings.Contains(c.MboxDir, "%h")) {
		errs = append(errs, fmt.Errorf("mbox_inbox %q and mbox_dir %q must each contain %%u or %%h, or users would share mail", c.MboxInbox, c.MboxDir))
	}
	if c.Auth == AuthVirtual && c.Store() == StoreMbox {
		errs = append(errs, errors.New("mail_store = mbox needs system accounts (auth = system or pam): mbox files live in users' homes and /var/mail"))
	}
	if !strings.Contains(c.SystemMailRoot, "%u") && !strings.Contains(c.SystemMailRoot, "%h") {
		errs = append(errs, fmt.Errorf("system_mail_root %q: must contain %%u or %%h, or every user would share one Maildir", c.SystemMailRoot))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.MaxLineLength < 1024 {
		errs = append(errs, fmt.Errorf("max_line_length %d: must be at least 1024 (RFC 2683 §3.2.1.5 suggests 8000)", c.MaxLineLength))
	}
	if c.MaxLiteralSize < 1024 || c.MaxAppendSize < 1024 {
		errs = append(errs, errors.New("max_literal_size and max_append_size must be at least 1024"))
	}
	if c.MaxDepth < 2 {
		errs = append(errs, fmt.Errorf("max_depth %d: must be at least 2", c.MaxDepth))
	}
	if c.IdleTimeout < 30*time.Minute {
		errs = append(errs, fmt.Errorf("idle_timeout %v: RFC 3501 §5.4 requires at least 30m", c.IdleTimeout))
	}
	if c.MaxLoginFailures < 1 || c.MaxFetchItems < 1 || c.MaxSearchKeys < 1 || c.MaxFlags < 1 || c.MaxLiteralTotal < c.MaxLiteralSize {
		errs = append(errs, errors.New("max_login_failures, max_fetch_items, max_search_keys and max_flags must be at least 1, and max_literal_total at least max_literal_size"))
	}
	if c.LoginDelay <= 0 || c.LoginDelayMax < c.LoginDelay {
		errs = append(errs, fmt.Errorf("login_delay %v and login_delay_max %v: want 0 < login_delay <= login_delay_max", c.LoginDelay, c.LoginDelayMax))
	}
	if c.LoginFailureRate > 0 && c.LoginFailureBurst < 1 {
		errs = append(errs, fmt.Errorf("login_failure_burst %d: must be at least 1 while login_failure_rate is set", c.LoginFailureBurst))
	}
	if c.MemoryLimit != 0 && c.MemoryLimit < minMemoryLimit {
		errs = append(errs, fmt.Errorf("memory_limit %d: must be 0 (no bound) or at least %d (32M): the daemon needs that much to start", c.MemoryLimit, minMemoryLimit))
	}
	if c.LoginTimeout <= 0 || c.LiteralTimeout <= 0 || c.IdleCommandLimit <= 0 || c.WriteTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if !strings.Contains(c.MailRoot, "%u") {
		errs = append(errs, fmt.Errorf("mail_root %q must contain %%u", c.MailRoot))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

func setBool(p *bool, v string) error {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		*p = true
	case "no", "false", "off", "0":
		*p = false
	default:
		return fmt.Errorf("want yes or no, got %q", v)
	}
	return nil
}

func setInt(p *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("want a non-negative integer, got %q", v)
	}
	*p = n
	return nil
}

func setInt64(p *int64, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a non-negative integer, got %q", v)
	}
	*p = n
	return nil
}

// setRate parses a non-negative rate per second ("10", "0.5").
func setRate(p *float64, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("want a non-negative number per second, got %q", v)
	}
	*p = f
	return nil
}

// setSize parses octets, optionally with a binary K, M or G suffix
// ("512M" is 512 MiB).
func setSize(p *int64, v string) error {
	num, shift := v, 0
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'K', 'k':
			num, shift = v[:n-1], 10
		case 'M', 'm':
			num, shift = v[:n-1], 20
		case 'G', 'g':
			num, shift = v[:n-1], 30
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return fmt.Errorf("want a size in octets such as 1073741824 or 1G, got %q", v)
	}
	*p = n << shift
	return nil
}

func setDuration(p *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 30m or 90s, got %q", v)
	}
	*p = d
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Format writes the configuration in the file format Parse reads, so a
// generated configuration (the demo's) can be saved and reused.
func (c *Config) Format() string {
	var b strings.Builder
	for _, l := range c.Listeners {
		fmt.Fprintf(&b, "listen = %s %s\n", l.Service, l.Addr)
	}
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s = %v\n", k, v) }
	if c.TLSCert != "" {
		kv("tls_cert", c.TLSCert)
	}
	if c.TLSKey != "" {
		kv("tls_key", c.TLSKey)
	}
	for _, p := range c.SNICerts {
		kv("tls_sni_cert", strings.TrimSpace(p.Cert+" "+p.Key))
	}
	kv("auth", c.Auth)
	kv("require_valid_shell", yesNo(c.RequireValidShell))
	kv("pam_service", c.PAMService)
	kv("mail_store", c.MailStore)
	kv("mail_watch", c.MailWatch)
	kv("mbox_inbox", c.MboxInbox)
	kv("mbox_dir", c.MboxDir)
	kv("mbox_home_inbox", yesNo(c.MboxHomeInbox))
	kv("default_mailboxes", formatDefaultMailboxes(c.DefaultMailboxes))
	kv("mbox_default_mailboxes", yesNo(c.MboxDefaultMailboxes))
	kv("quota_storage", c.QuotaStorage)
	kv("quota_messages", c.QuotaMessages)
	kv("passwd_file", c.PasswdFile)
	kv("auth_cache_ttl", c.AuthCacheTTL)
	kv("auth_cache_size", c.AuthCacheSize)
	kv("mail_root", c.MailRoot)
	kv("system_mail_root", c.SystemMailRoot)
	if c.LogFile != "" {
		kv("log_file", c.LogFile)
	}
	kv("alert_file", c.AlertFile)
	kv("user_alert_file", c.UserAlertFile)
	kv("nologin_file", c.NoLoginFile)
	kv("insecure_auth", yesNo(c.InsecureAuth))
	kv("server_id", yesNo(c.ServerID))
	kv("log_level", c.LogLevel)
	kv("max_line_length", c.MaxLineLength)
	kv("max_literal_size", c.MaxLiteralSize)
	kv("max_append_size", c.MaxAppendSize)
	kv("max_depth", c.MaxDepth)
	kv("login_timeout", c.LoginTimeout)
	kv("idle_timeout", c.IdleTimeout)
	kv("idle_command_limit", c.IdleCommandLimit)
	kv("literal_timeout", c.LiteralTimeout)
	kv("max_connections", c.MaxConnections)
	kv("max_connections_per_ip", c.MaxConnsPerIP)
	if len(c.AllowFrom) > 0 {
		var ps []string
		for _, p := range c.AllowFrom {
			ps = append(ps, p.String())
		}
		kv("allow_from", strings.Join(ps, " "))
	}
	kv("max_login_failures", c.MaxLoginFailures)
	kv("login_delay", c.LoginDelay)
	kv("login_delay_max", c.LoginDelayMax)
	kv("login_failure_rate", strconv.FormatFloat(c.LoginFailureRate, 'g', -1, 64))
	kv("login_failure_burst", c.LoginFailureBurst)
	kv("memory_limit", c.MemoryLimit)
	kv("search_cache_memory", c.SearchCacheMemory)
	kv("max_literal_total", c.MaxLiteralTotal)
	kv("max_fetch_items", c.MaxFetchItems)
	kv("max_search_keys", c.MaxSearchKeys)
	kv("max_flags", c.MaxFlags)
	kv("write_timeout", c.WriteTimeout)
	return b.String()
}
