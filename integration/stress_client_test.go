package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// stressBoxes are the two mailboxes the workers move mail between.
var stressBoxes = []string{"INBOX", "Archive"}

// stressKeywords are the flags workers set and clear; \Deleted is only
// ever set by a message's owner, just before it expunges it.
var stressKeywords = []imap.Flag{imap.FlagSeen, imap.FlagFlagged, imap.FlagAnswered, "$Stress1", "$Stress2"}

// stressWorker is one IMAP session of the stress test, driven by one
// goroutine; its number is the owner number of the messages it may remove.
type stressWorker struct {
	owner  int
	name   string
	login  [2]string // user name and password
	ledger *stressLedger
	rng    *rand.Rand
	c      *imapclient.Client
	box    string
	view   []stressView // the selected mailbox at the last refresh
	fresh  bool         // the last refresh succeeded
	update chan struct{}
}

// stressView is one message of the selected mailbox.
type stressView struct {
	uid imap.UID
	id  string
}

func (e *stressEnv) newWorker(owner int, name string) *stressWorker {
	return &stressWorker{
		owner: owner, name: name, ledger: e.ledger, login: [2]string{e.user, e.pass},
		rng:    rand.New(rand.NewPCG(uint64(owner), uint64(time.Now().UnixNano()))),
		update: make(chan struct{}, 1),
	}
}

// connect logs in over conn, whatever serves it, and selects a mailbox.
func (w *stressWorker) connect(conn net.Conn) error {
	note := func() {
		select {
		case w.update <- struct{}{}:
		default:
		}
	}
	w.c = imapclient.New(conn, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { note() },
		Mailbox: func(*imapclient.UnilateralDataMailbox) { note() },
		Fetch:   func(*imapclient.FetchMessageData) { note() },
	}})
	t0 := time.Now()
	if err := w.c.WaitGreeting(); err != nil {
		return fmt.Errorf("%s: greeting: %w", w.name, err)
	}
	if err := w.c.Login(w.login[0], w.login[1]).Wait(); err != nil {
		return fmt.Errorf("%s: LOGIN: %w", w.name, err)
	}
	err := w.selectBox(stressBoxes[w.rng.IntN(len(stressBoxes))])
	w.ledger.latency("connect", time.Since(t0))
	return err
}

// session runs random operations until ctx ends or, when ops > 0, ops of
// them ran, then logs out. An error is a broken connection or a failed
// check that makes going on pointless; NO and BAD answers are counted in
// the ledger instead.
func (w *stressWorker) session(ctx context.Context, ops int) error {
	for i := 0; (ops == 0 || i < ops) && ctx.Err() == nil; i++ {
		if err := w.step(); err != nil {
			w.c.Close()
			return err
		}
	}
	if err := w.c.Logout().Wait(); err != nil {
		return fmt.Errorf("%s: LOGOUT: %w", w.name, err)
	}
	return w.c.Close()
}

// step runs one random operation. Deletions weigh more in a big mailbox,
// so the mailboxes stay small while deliveries keep coming.
func (w *stressWorker) step() error {
	del := 12
	if len(w.view) > 60 {
		del = 40
	}
	ops := []struct {
		weight int
		run    func() error
	}{
		{10, w.appendOne}, {12, w.fetchBody}, {12, w.storeFlags}, {8, w.copySome},
		{8, w.moveOwned}, {del, w.expungeOwned}, {4, w.idle}, {6, w.switchBox}, {8, w.refresh},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := w.rng.IntN(total)
	for _, o := range ops {
		if n -= o.weight; n < 0 {
			t0 := time.Now()
			err := o.run()
			w.ledger.latency("step", time.Since(t0))
			return err
		}
	}
	return nil
}

// answer sorts out a command's error: nil and NO/BAD (recorded) let the
// session go on; anything else (the connection) ends it.
func (w *stressWorker) answer(cmd string, err error) (ok bool, fatal error) {
	if err == nil {
		w.ledger.count(strings.Fields(cmd)[0], 1)
		return true, nil
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		w.ledger.status(w.name, cmd, ie)
		return false, nil
	}
	return false, fmt.Errorf("%s: %s: %w", w.name, cmd, err)
}

func (w *stressWorker) selectBox(name string) error {
	d, err := w.c.Select(name, nil).Wait()
	if ok, fatal := w.answer("SELECT "+name, err); !ok {
		if fatal == nil {
			fatal = fmt.Errorf("%s: SELECT %s failed", w.name, name)
		}
		return fatal
	}
	w.box = name
	w.ledger.seeValidity(name, d.UIDValidity)
	return w.refresh()
}

func (w *stressWorker) switchBox() error {
	for _, b := range stressBoxes {
		if b != w.box {
			return w.selectBox(b)
		}
	}
	return nil
}

// refresh reads every UID and Message-ID of the selected mailbox: the
// UIDs must ascend with the sequence numbers and each must be the message
// it was before (UIDs are never reused, RFC 9051 §2.3.1.1).
func (w *stressWorker) refresh() error {
	w.fresh = false
	msgs, err := w.c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true,
		BodySection: []*imap.FetchItemBodySection{{
			Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true,
		}},
	}).Collect()
	if ok, fatal := w.answer("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Message-ID)])", err); !ok {
		return fatal
	}
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.SeqNum) - int(b.SeqNum) })
	w.view = w.view[:0]
	var last imap.UID
	for _, m := range msgs {
		if m.UID <= last {
			w.ledger.problem("%s: %s: UID %d at sequence %d follows UID %d", w.name, w.box, m.UID, m.SeqNum, last)
		}
		last = m.UID
		var hdr []byte
		if len(m.BodySection) > 0 {
			hdr = m.BodySection[0].Bytes
		}
		id := messageID(string(hdr))
		if id == "" {
			w.ledger.problem("%s: %s UID %d has no Message-ID: %q", w.name, w.box, m.UID, hdr)
			continue
		}
		w.ledger.seeUID(w.box, m.UID, id)
		w.view = append(w.view, stressView{m.UID, id})
	}
	w.fresh = true
	return nil
}

func (w *stressWorker) other() string {
	if w.box == stressBoxes[0] {
		return stressBoxes[1]
	}
	return stressBoxes[0]
}

// pick returns up to n distinct messages of the view, only the worker's
// own when owned is set.
func (w *stressWorker) pick(n int, owned bool) []stressView {
	var from []stressView
	for _, v := range w.view {
		if !owned || w.ledger.ownerOf(v.id) == w.owner {
			from = append(from, v)
		}
	}
	w.rng.Shuffle(len(from), func(i, j int) { from[i], from[j] = from[j], from[i] })
	return from[:min(n, len(from))]
}

func uidsOf(vs []stressView) imap.UIDSet {
	var s imap.UIDSet
	for _, v := range vs {
		s.AddNum(v.uid)
	}
	return s
}

func (w *stressWorker) appendOne() error {
	id, _ := w.ledger.newID("append")
	text := strings.ReplaceAll(stressText(id), "\n", "\r\n")
	var opts imap.AppendOptions
	if w.rng.IntN(2) == 0 {
		opts.Flags = []imap.Flag{imap.FlagSeen}
	}
	box := stressBoxes[w.rng.IntN(len(stressBoxes))]
	cmd := w.c.Append(box, int64(len(text)), &opts)
	if _, err := cmd.Write([]byte(text)); err != nil {
		return fmt.Errorf("%s: APPEND: %w", w.name, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("%s: APPEND: %w", w.name, err)
	}
	d, err := cmd.Wait()
	if ok, fatal := w.answer("APPEND "+box, err); !ok {
		return fatal
	}
	w.ledger.add(box, id, 1)
	w.ledger.count("delivered", 1)
	if d.UID == 0 {
		w.ledger.problem("%s: APPEND to %s: no APPENDUID", w.name, box)
	} else {
		w.ledger.seeUID(box, d.UID, id)
	}
	return nil
}

// fetchBody reads a whole message and compares it with what was delivered
// under its Message-ID. A message expunged meanwhile gives no data.
func (w *stressWorker) fetchBody() error {
	vs := w.pick(1, false)
	if len(vs) == 0 {
		return w.refresh()
	}
	msgs, err := w.c.Fetch(uidsOf(vs), &imap.FetchOptions{
		UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if ok, fatal := w.answer("FETCH BODY.PEEK[]", err); !ok {
		return fatal
	}
	for _, m := range msgs {
		if m.UID != vs[0].uid || len(m.BodySection) == 0 {
			continue // an unsolicited FETCH of flags
		}
		id, err := checkStressMessage(string(m.BodySection[0].Bytes))
		if err != nil || id != vs[0].id {
			w.ledger.problem("%s: %s UID %d (<%s>) read back wrong: id %q, %v", w.name, w.box, vs[0].uid, vs[0].id, id, err)
		}
	}
	return nil
}

func (w *stressWorker) storeFlags() error {
	vs := w.pick(1+w.rng.IntN(3), false)
	if len(vs) == 0 {
		return nil
	}
	op := imap.StoreFlagsAdd
	if w.rng.IntN(3) == 0 {
		op = imap.StoreFlagsDel
	}
	flag := stressKeywords[w.rng.IntN(len(stressKeywords))]
	err := w.c.Store(uidsOf(vs), &imap.StoreFlags{Op: op, Silent: w.rng.IntN(2) == 0, Flags: []imap.Flag{flag}}, nil).Close()
	_, fatal := w.answer("STORE "+string(flag), err)
	return fatal
}

// copySome copies any messages: COPYUID says which source UIDs (those not
// expunged meanwhile) were copied to which new UIDs (RFC 4315 §3).
func (w *stressWorker) copySome() error {
	vs := w.pick(1+w.rng.IntN(3), false)
	if len(vs) == 0 {
		return nil
	}
	dst := w.other()
	d, err := w.c.Copy(uidsOf(vs), dst).Wait()
	if ok, fatal := w.answer("COPY", err); !ok {
		return fatal
	}
	w.account("COPY", w.box, dst, d.SourceUIDs, d.DestUIDs, len(vs), false)
	return nil
}

// moveOwned moves some of the worker's own messages: nobody else removes
// them, so every one must move.
func (w *stressWorker) moveOwned() error {
	vs := w.pick(1+w.rng.IntN(3), true)
	if len(vs) == 0 {
		return nil
	}
	src, dst := w.box, w.other()
	d, err := w.c.Move(uidsOf(vs), dst).Wait()
	if ok, fatal := w.answer("MOVE", err); !ok {
		return fatal
	}
	srcSet, _ := d.SourceUIDs.(imap.UIDSet)
	dstSet, _ := d.DestUIDs.(imap.UIDSet)
	w.account("MOVE", src, dst, srcSet, dstSet, len(vs), true)
	return w.refresh()
}

// account books a COPY or MOVE from its COPYUID sets.
func (w *stressWorker) account(cmd, src, dst string, srcSet, dstSet imap.UIDSet, asked int, move bool) {
	from, _ := srcSet.Nums()
	to, _ := dstSet.Nums()
	if len(from) != len(to) {
		w.ledger.problem("%s: %s COPYUID %v -> %v: sets of different sizes", w.name, cmd, srcSet, dstSet)
		return
	}
	if move && len(from) != asked {
		w.ledger.problem("%s: MOVE of %d owned messages from %s moved %d (COPYUID %v)", w.name, asked, src, len(from), srcSet)
	}
	for i, uid := range from {
		id, ok := w.ledger.idOf(src, uid)
		if !ok {
			w.ledger.problem("%s: %s COPYUID names %s UID %d, never seen", w.name, cmd, src, uid)
			continue
		}
		if move {
			w.ledger.add(src, id, -1)
		}
		w.ledger.add(dst, id, 1)
		w.ledger.seeUID(dst, to[i], id)
	}
	w.ledger.count(strings.ToLower(cmd)+"d", len(from))
}

// expungeOwned flags some of the worker's own messages \Deleted and
// removes exactly those with UID EXPUNGE (RFC 4315 §2.1).
func (w *stressWorker) expungeOwned() error {
	vs := w.pick(1+w.rng.IntN(3), true)
	if len(vs) == 0 {
		return nil
	}
	set := uidsOf(vs)
	err := w.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	if ok, fatal := w.answer("STORE \\Deleted", err); !ok {
		return fatal
	}
	err = w.c.UIDExpunge(set).Close()
	if ok, fatal := w.answer("EXPUNGE (UID)", err); !ok {
		return fatal
	}
	// Nobody else removes these messages, so those still there after the
	// EXPUNGE were not expunged: their \Deleted was taken away meanwhile.
	// Only UW's c-client does that here: a read-write session (mailutil
	// copy -rw) rewrites the status headers from its memory when it
	// closes, undoing flag changes made since it opened the file, as it
	// would any other MUA's (UW counted on its own lock to be alone).
	if err := w.refresh(); err != nil || !w.fresh {
		if err == nil {
			err = fmt.Errorf("%s: cannot tell what UID EXPUNGE %v removed", w.name, set)
		}
		return err
	}
	left := map[imap.UID]bool{}
	for _, v := range w.view {
		left[v.uid] = true
	}
	for _, v := range vs {
		if left[v.uid] {
			w.ledger.count("expunge-undone", 1)
			continue
		}
		w.ledger.add(w.box, v.id, -1)
		w.ledger.count("expunged", 1)
	}
	return nil
}

// idle waits in IDLE for another session's change, or a short while.
func (w *stressWorker) idle() error {
	select {
	case <-w.update:
	default:
	}
	cmd, err := w.c.Idle()
	if ok, fatal := w.answer("IDLE", err); !ok {
		return fatal
	}
	t := time.NewTimer(time.Duration(100+w.rng.IntN(400)) * time.Millisecond)
	select {
	case <-w.update:
		w.ledger.count("idle-woken", 1)
	case <-t.C:
	}
	t.Stop()
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("%s: IDLE DONE: %w", w.name, err)
	}
	_, fatal := w.answer("IDLE DONE", cmd.Wait())
	if fatal != nil {
		return fatal
	}
	return w.refresh()
}
