package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout  = 30 * time.Second       // one command, or connecting
	DefaultIdleHold = 100 * time.Millisecond // time spent in IDLE before DONE
	DefaultMessages = 100                    // generated corpus size
	// DefaultStopTimeout bounds a run's end after a cancellation: what
	// clients still do (the command in flight, their cleanup and LOGOUT)
	// is cut off this long after the stop, so 10,000 clients stop in
	// seconds whatever the server's pace.
	DefaultStopTimeout = 2 * time.Second
	reconnectPause     = 100 * time.Millisecond // after a failed connection, so a dead server is not hammered
)

// Options configures a run. The zero value of each field is documented.
type Options struct {
	Addr      string      // host:port of the IMAP server; required
	TLS       TLSMode     // zero: plain
	TLSConfig *tls.Config // nil: ServerName from Addr, verification per Insecure
	Insecure  bool        // skip certificate verification (self-signed test servers)

	// Users is "name:password"; a %d in either is replaced by the user's
	// number, 1 to NUsers ("load%d:secret"). Required.
	Users  string
	NUsers int // zero: 1

	Clients  int           // concurrent clients; zero: 1. Client i logs in as user i mod NUsers + 1.
	Duration time.Duration // how long commands are started; zero: 10 s
	Profile  Profile       // zero: "mixed"
	// Commands, if any, replace Profile: a "custom" profile running these
	// command lines in turn after LOGIN and SELECT ("UID FETCH 1:* (FLAGS)",
	// "SEARCH BODY \"report\""), each checked for a tagged OK.
	Commands []string
	Mailbox  string // the mailbox the clients share per user; zero: INBOX

	// MinCommands keeps each client running past Duration until it has
	// run that many commands of the mix (tests use Profile.CycleLen so
	// every command is exercised whatever the machine's speed). Zero: none.
	MinCommands int

	// Populate APPENDs Corpus to every user's Mailbox before the run.
	Populate bool
	// Corpus is the messages APPEND and Populate use; nil: GenerateCorpus
	// (DefaultMessages, Seed).
	Corpus [][]byte
	Seed   uint64 // for the generated corpus and the clients' choices

	IdleHold time.Duration // zero: DefaultIdleHold
	Timeout  time.Duration // zero: DefaultTimeout
	// StopTimeout is how long clients may still talk to the server after
	// ctx is cancelled (their command in flight, then their cleanup and
	// LOGOUT, all at once); past it their connections are closed. The end
	// at Duration is not bounded by it. Zero: DefaultStopTimeout.
	StopTimeout time.Duration

	// Progress receives a line every ProgressEvery (zero: 1 s) while the
	// run lasts; nil: none.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// user is one account's credentials and what the preparation learnt of
// its mailbox.
type user struct {
	name, password string
	stable         uint32   // messages 1..stable are never expunged by the run
	uids           []uint32 // their UIDs, ascending
	boxes          []string // selectable mailboxes, as sent in commands
}

// runner is one run's shared state.
type runner struct {
	opts  Options
	tls   *tls.Config
	users []*user
	stats *stats
	caps  map[string]bool // from the probe; read-only once the clients start
	stop  chan struct{}   // closed at the deadline or on cancellation
	live  atomic.Int64    // connected clients, for the progress line
	// idling counts the clients in IDLE (the server's continuation
	// read, DONE not yet answered), for the progress line: a memory
	// figure is taken once every client is there (bench/compare-dovecot.sh).
	idling atomic.Int64

	// hard is cancelled StopTimeout after a cancellation: connecting
	// clients give up, and every tracked connection is closed.
	hard       context.Context
	hardCancel context.CancelFunc
	connMu     sync.Mutex
	conns      map[*conn]struct{} // the clients' open connections; guarded by connMu
	killed     bool               // hard stop done: new connections close at once; guarded by connMu
}

// Run prepares the users' mailboxes (populating them if asked), runs the
// clients for the duration and returns the figures. Connection and
// protocol errors during the run are counted, not returned; an error is
// returned when the run cannot start (bad options, no server, a user who
// cannot log in, an empty mailbox). Cancelling ctx stops the run early,
// as the deadline does: commands in flight finish and clients log out.
func Run(ctx context.Context, opts Options) (*Result, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	if err := r.probe(ctx); err != nil {
		return nil, err
	}
	populated := 0
	if r.opts.Populate {
		if err := r.populate(ctx); err != nil {
			return nil, err
		}
		populated = len(r.opts.Corpus)
	}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	elapsed := r.runClients(ctx)
	cmds, total := r.stats.result(r.opts.Profile, elapsed)
	res := &Result{
		Addr: r.opts.Addr, TLS: r.opts.TLS.String(), Profile: r.opts.Profile.Name,
		Clients: r.opts.Clients, Users: len(r.users),
		Duration: r.opts.Duration.Seconds(), Elapsed: elapsed.Seconds(),
		Populated: populated, Commands: cmds, Total: total,
	}
	if l, ok := res.Command(OpLogin.String()); ok {
		res.LoginsRate = l.Rate
	}
	return res, nil
}

func newRunner(opts Options) (*runner, error) {
	if opts.Addr == "" {
		return nil, errors.New("loadgen: no server address")
	}
	name, pass, ok := strings.Cut(opts.Users, ":")
	if !ok || name == "" || pass == "" {
		return nil, fmt.Errorf("loadgen: users %q: want NAME:PASSWORD (with %%d for the user number)", opts.Users)
	}
	opts.NUsers = max(opts.NUsers, 1)
	opts.Clients = max(opts.Clients, 1)
	if opts.Duration <= 0 {
		opts.Duration = 10 * time.Second
	}
	if len(opts.Commands) > 0 {
		opts.Profile = Profile{Name: "custom", Doc: "the given command lines", Commands: opts.Commands}
	}
	if opts.Profile.Name == "" {
		opts.Profile, _ = LookupProfile("mixed")
	}
	if opts.Profile.CycleLen() == 0 {
		return nil, fmt.Errorf("loadgen: profile %q has no commands", opts.Profile.Name)
	}
	if opts.Mailbox == "" {
		opts.Mailbox = "INBOX"
	}
	if opts.Corpus == nil {
		opts.Corpus = GenerateCorpus(DefaultMessages, opts.Seed)
	}
	if len(opts.Corpus) == 0 {
		return nil, errors.New("loadgen: empty corpus")
	}
	if opts.IdleHold <= 0 {
		opts.IdleHold = DefaultIdleHold
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Second
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	r := &runner{opts: opts, stop: make(chan struct{}), stats: newStats(opts.Profile), conns: map[*conn]struct{}{}}
	r.hard, r.hardCancel = context.WithCancel(context.Background())
	r.tls = opts.TLSConfig
	if r.tls == nil {
		host, _, err := net.SplitHostPort(opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		r.tls = &tls.Config{
			ServerName:         host,
			InsecureSkipVerify: opts.Insecure,
			MinVersion:         tls.VersionTLS12,
			// Mail clients resume TLS sessions when they reconnect.
			ClientSessionCache: tls.NewLRUClientSessionCache(opts.Clients),
		}
	}
	for i := 1; i <= opts.NUsers; i++ {
		n := strconv.Itoa(i)
		r.users = append(r.users, &user{
			name:     strings.ReplaceAll(name, "%d", n),
			password: strings.ReplaceAll(pass, "%d", n),
		})
	}
	return r, nil
}

// session connects and logs u in, outside the measurements.
func (r *runner) session(ctx context.Context, u *user) (*conn, error) {
	c, err := dial(ctx, r.opts.Addr, r.opts.TLS, r.tls, r.opts.Timeout)
	if err != nil {
		return nil, err
	}
	st, err := c.run("LOGIN "+quote(u.name)+" "+quote(u.password), nil)
	if err == nil && st.Kind != "OK" {
		err = fmt.Errorf("loadgen: LOGIN %s: %s", u.name, st)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	if c.caps == nil {
		c.caps = r.caps
	}
	return c, nil
}

// logout ends a session outside the measurements.
func (c *conn) logout() {
	_, _ = c.run("LOGOUT", nil)
	c.close()
}

// probe logs the first user in to learn the server's capabilities once:
// they decide literals, UIDPLUS checks, SORT and IDLE for every client.
func (r *runner) probe(ctx context.Context) error {
	c, err := r.session(ctx, r.users[0])
	if err != nil {
		return err
	}
	defer c.logout()
	if c.caps == nil || !c.caps["IMAP4REV1"] {
		if _, err := c.run("CAPABILITY", nil); err != nil {
			return err
		}
	}
	r.caps = c.caps
	if r.caps == nil {
		return errors.New("loadgen: the server sent no capabilities")
	}
	return nil
}

// forUsers runs f for every user, a few at a time, and returns the first
// error.
func (r *runner) forUsers(ctx context.Context, f func(context.Context, *user) error) error {
	sem := make(chan struct{}, min(r.opts.Clients, 8))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, u := range r.users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, u); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// populate APPENDs the corpus to every user's mailbox, unmeasured.
func (r *runner) populate(ctx context.Context) error {
	return r.forUsers(ctx, func(ctx context.Context, u *user) error {
		c, err := r.session(ctx, u)
		if err != nil {
			return err
		}
		defer c.logout()
		for i, m := range r.opts.Corpus {
			st, err := c.runLiteral("APPEND "+quote(r.opts.Mailbox), m, nil)
			if err == nil && st.Kind != "OK" {
				err = fmt.Errorf("loadgen: populating %s: APPEND message %d: %s", u.name, i+1, st)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// prepare selects every user's mailbox once to learn which messages are
// stable (all there now: the run only expunges what it adds), their UIDs,
// and the selectable mailboxes STATUS may ask about.
func (r *runner) prepare(ctx context.Context) error {
	return r.forUsers(ctx, func(ctx context.Context, u *user) error {
		c, err := r.session(ctx, u)
		if err != nil {
			return err
		}
		defer c.logout()
		if st, err := c.run("SELECT "+quote(r.opts.Mailbox), nil); err != nil || st.Kind != "OK" {
			return fmt.Errorf("loadgen: %s: SELECT %s: %s%v", u.name, r.opts.Mailbox, st, err)
		}
		if c.exists == 0 {
			return fmt.Errorf("loadgen: %s: mailbox %s is empty (use --populate)", u.name, r.opts.Mailbox)
		}
		u.stable = c.exists
		var uids []uint32
		st, err := c.run("UID SEARCH 1:"+strconv.FormatUint(uint64(u.stable), 10), func(d untagged) error {
			if d.Kind == "SEARCH" {
				n, err := parseNumbers(d.Rest)
				uids = append(uids, n...)
				return err
			}
			return nil
		})
		if err != nil || st.Kind != "OK" || len(uids) != int(u.stable) {
			return fmt.Errorf("loadgen: %s: UID SEARCH: %s %v (%d UIDs for %d messages)", u.name, st, err, len(uids), u.stable)
		}
		u.uids = sortedUIDs(uids)
		st, err = c.run(`LIST "" "*"`, func(d untagged) error {
			if d.Kind == "LIST" {
				if name, ok, err := parseList(d.Rest); err == nil && ok && name != "" {
					u.boxes = append(u.boxes, name)
				}
			}
			return nil
		})
		if err != nil || st.Kind != "OK" {
			return fmt.Errorf("loadgen: %s: LIST: %s %v", u.name, st, err)
		}
		if len(u.boxes) == 0 {
			u.boxes = []string{quote(r.opts.Mailbox)}
		}
		return nil
	})
}

// runClients runs the clients until the deadline (or ctx's end) and
// returns the measured time.
func (r *runner) runClients(ctx context.Context) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	var measuredEnd atomic.Int64 // latest end of a measured loop, as UnixNano
	for i := range r.opts.Clients {
		cl := newClient(r, i)
		wg.Go(func() {
			cl.loop(ctx)
			end := time.Now().UnixNano()
			for {
				old := measuredEnd.Load()
				if end <= old || measuredEnd.CompareAndSwap(old, end) {
					break
				}
			}
			cl.finish()
		})
	}
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		r.progress(ctx, start)
	}()
	t := time.NewTimer(r.opts.Duration)
	cancelled := false
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		cancelled = true
	}
	close(r.stop)
	if cancelled {
		// Interrupted: the clients wind down together, for StopTimeout
		// at most (a slow or stuck server must not hold the report).
		kill := time.AfterFunc(r.opts.StopTimeout, r.hardStop)
		defer kill.Stop()
	}
	wg.Wait()
	r.hardCancel()
	<-progressDone
	return time.Unix(0, measuredEnd.Load()).Sub(start)
}

// track records a client's connection, so that a hard stop can close it;
// after the hard stop it is closed at once.
func (r *runner) track(c *conn) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if r.killed {
		c.close()
		return
	}
	r.conns[c] = struct{}{}
}

// hardStopped reports whether the hard stop happened.
func (r *runner) hardStopped() bool {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	return r.killed
}

// untrack forgets a connection the client closed.
func (r *runner) untrack(c *conn) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	delete(r.conns, c)
}

// hardStop ends what the clients still do: connecting gives up, and
// closing the connections makes every read and write in flight fail at
// once (net.Conn allows Close concurrently with them).
func (r *runner) hardStop() {
	r.hardCancel()
	r.connMu.Lock()
	defer r.connMu.Unlock()
	r.killed = true
	for c := range r.conns {
		c.close()
	}
	clear(r.conns)
}

// progress prints a line every ProgressEvery until the stop.
func (r *runner) progress(ctx context.Context, start time.Time) {
	if r.opts.Progress == nil {
		return
	}
	tick := time.NewTicker(r.opts.ProgressEvery)
	defer tick.Stop()
	var lastDone uint64
	last := start
	for {
		select {
		case <-r.stop:
			return
		case now := <-tick.C:
			done, errs := r.stats.totals()
			rate := float64(done-lastDone) / now.Sub(last).Seconds()
			fmt.Fprintf(r.opts.Progress, "%6.1fs  %9.1f cmd/s  %9d commands  %6d errors  %5d connected  %5d idling\n",
				now.Sub(start).Seconds(), rate, done, errs, r.live.Load(), r.idling.Load())
			lastDone, last = done, now
		}
	}
}

// quote returns s as an IMAP quoted string (RFC 3501 §4.3).
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
