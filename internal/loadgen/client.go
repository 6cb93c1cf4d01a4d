package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// errSkipped is returned by a command the server cannot run (its
// capability is not advertised): counted apart, neither done nor failed.
var errSkipped = errors.New("loadgen: not advertised")

// client is one simulated mail client.
type client struct {
	r     *runner
	id    int
	u     *user
	c     *conn // nil when not connected
	rng   *rand.Rand
	cycle []Op
	pos   int
	ran   int      // commands of the mix run so far
	added []uint32 // UIDs this client appended or copied: the run's to expunge
	flag  bool     // the next STORE adds \Flagged (else removes it)
}

func newClient(r *runner, id int) *client {
	cycle := r.opts.Profile.cycle()
	return &client{
		r:     r,
		id:    id,
		u:     r.users[id%len(r.users)],
		rng:   rand.New(rand.NewPCG(r.opts.Seed, uint64(id)+1)),
		cycle: cycle,
		pos:   id * 7 % len(cycle), // spread the clients over the cycle
	}
}

// stopped reports whether the run's deadline has passed.
func (cl *client) stopped() bool {
	select {
	case <-cl.r.stop:
		return true
	default:
		return false
	}
}

// loop runs commands until the stop (and MinCommands are done).
func (cl *client) loop(ctx context.Context) {
	for !cl.stopped() || (cl.ran < cl.r.opts.MinCommands && ctx.Err() == nil) {
		if cl.c == nil {
			if !cl.connect(ctx) {
				if cl.stopped() {
					return // past the deadline a dead server ends the run, MinCommands or not
				}
				t := time.NewTimer(reconnectPause)
				select {
				case <-t.C:
				case <-cl.r.stop:
					t.Stop()
				}
			}
			continue
		}
		op := cl.cycle[cl.pos%len(cl.cycle)]
		cl.pos++
		cl.ran++
		c, in := cl.c, cl.c.in
		start := time.Now()
		d, err := cl.do(op)
		if d == 0 {
			d = time.Since(start)
		}
		cl.record(op, d, c.in-in, err)
	}
}

// record counts one outcome and drops a connection that broke.
func (cl *client) record(op Op, d time.Duration, in uint64, err error) {
	if err != nil && cl.r.hardStopped() {
		cl.drop() // cut off by the run's own hard stop: not the server's failure
		return
	}
	if errors.Is(err, errSkipped) {
		cl.r.stats.ops[op].skipped.Add(1)
		return
	}
	cl.r.stats.record(op, d, in, err)
	if err != nil && isFatal(err) {
		cl.drop()
	}
}

func (cl *client) drop() {
	if cl.c != nil {
		cl.r.untrack(cl.c)
		cl.c.close()
		cl.c = nil
		cl.r.live.Add(-1)
	}
}

// connect opens a session: CONNECT, LOGIN and SELECT, each measured.
func (cl *client) connect(ctx context.Context) bool {
	start := time.Now()
	// A connection under way when the run is cancelled completes (bounded
	// by the timeout and StopTimeout) and then logs out, as commands in
	// flight do.
	c, err := dial(cl.r.hard, cl.r.opts.Addr, cl.r.opts.TLS, cl.r.tls, cl.r.opts.Timeout)
	if err != nil {
		if !cl.r.hardStopped() {
			cl.r.stats.record(OpConnect, time.Since(start), 0, err)
		}
		return false
	}
	cl.r.stats.record(OpConnect, time.Since(start), c.in, nil)
	cl.r.track(c)
	cl.c = c
	cl.r.live.Add(1)
	start, in := time.Now(), c.in
	err = cl.ok(cl.c.run("LOGIN "+quote(cl.u.name)+" "+quote(cl.u.password), nil))
	cl.record(OpLogin, time.Since(start), c.in-in, err)
	if err != nil {
		cl.drop()
		return false
	}
	cl.c.caps = cl.r.caps // as probed: the same server, the same answers
	start, in = time.Now(), c.in
	err = cl.selectBox()
	cl.record(OpSelect, time.Since(start), c.in-in, err)
	if err != nil {
		cl.drop()
		return false
	}
	return true
}

// finish, after the stop, expunges what the client added and logs out,
// unmeasured, so the mailboxes end as they started.
func (cl *client) finish() {
	if cl.c == nil {
		return
	}
	if len(cl.added) > 0 && cl.markDeleted() == nil {
		_, _ = cl.c.run("EXPUNGE", nil)
	}
	cl.c.logout()
	cl.r.untrack(cl.c)
	cl.c = nil
	cl.r.live.Add(-1)
}

// ok turns a tagged NO or BAD into an error carrying its text.
func (cl *client) ok(st status, err error) error {
	if err != nil {
		return err
	}
	if st.Kind != "OK" {
		return fmt.Errorf("%s", st)
	}
	return nil
}

// do runs one command of the mix and checks its answer. It returns the
// latency when it is not the wall time of the call (IDLE).
func (cl *client) do(op Op) (time.Duration, error) {
	switch op {
	case OpList:
		return 0, cl.list()
	case OpStatus:
		return 0, cl.status()
	case OpSelect:
		return 0, cl.selectBox()
	case OpFetchFlags:
		return 0, cl.fetch(20, "FLAGS", func(f fetchData) bool { return f.HasFlags })
	case OpFetchEnvelope:
		return 0, cl.fetch(10, "ENVELOPE", func(f fetchData) bool { return f.Envelope })
	case OpFetchStructure:
		return 0, cl.fetch(5, "BODYSTRUCTURE", func(f fetchData) bool { return f.Structure })
	case OpFetchBody:
		// RFC822.SIZE beside the body lets the check see that the whole
		// message came (RFC 3501 §7.4.2: the size is that of BODY[]).
		return 0, cl.fetch(2, "RFC822.SIZE BODY.PEEK[]", func(f fetchData) bool {
			return f.Body && f.BodyLen == int(f.Size)
		})
	case OpUIDFetch:
		return 0, cl.uidFetch()
	case OpSearch:
		return 0, cl.search()
	case OpSort:
		return 0, cl.sort()
	case OpStore:
		return 0, cl.store()
	case OpCopy:
		return 0, cl.copyMsg()
	case OpExpunge:
		return 0, cl.expunge()
	case OpAppend:
		return 0, cl.appendMsg()
	case OpNoop:
		return 0, cl.ok(cl.c.run("NOOP", nil))
	case OpIdle:
		return cl.idle()
	case OpLogout:
		return 0, cl.logout()
	}
	if i := int(op - numOps); i >= 0 && i < len(cl.r.opts.Profile.Commands) {
		return 0, cl.ok(cl.c.run(cl.r.opts.Profile.Commands[i], nil))
	}
	return 0, fmt.Errorf("loadgen: op %v is not in a mix", op)
}
