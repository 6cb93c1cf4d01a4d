package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// mboxFromLine is the "From " line outside writers put before a message:
// ctime(3) format, as MTAs write it.
func mboxFromLine(sender string) string {
	return "From " + sender + " " + time.Now().UTC().Format("Mon Jan _2 15:04:05 2006") + "\n"
}

// mboxQuote quotes body lines starting with "From " (mboxo, as UW and
// Debian's MTAs do) and ends the message with the blank separator line.
func mboxQuote(text string) string {
	hdr, body, _ := strings.Cut(text, "\n\n")
	var b strings.Builder
	b.WriteString(hdr + "\n\n")
	for _, line := range strings.SplitAfter(body, "\n") {
		if strings.HasPrefix(line, "From ") {
			b.WriteByte('>')
		}
		b.WriteString(line)
	}
	b.WriteString("\n")
	return b.String()
}

// mboxDeliver appends one message to a spool file the way Debian's mail
// programs lock it (mutt takes all three; exim and postfix's local the
// first two): NAME.lock, then a classic fcntl write lock (F_SETLKW), then
// flock. The dotlock is made by liblockfile's dotlockfile when useHelper
// is set (one delivery in five), else in Go the way liblockfile and
// procmail make it (an exclusive create holding the PID), retried every
// 20 ms rather than their seconds, so the MDA keeps the spool busy.
func mboxDeliver(ctx context.Context, spool, text string, useHelper bool) error {
	lock := spool + ".lock"
	if useHelper {
		if out, err := exec.CommandContext(ctx, "dotlockfile", "-l", "-r", "30", lock).CombinedOutput(); err != nil {
			return fmt.Errorf("dotlockfile -l %s: %v: %s", lock, err, out)
		}
		defer exec.Command("dotlockfile", "-u", lock).Run()
	} else {
		for {
			f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				fmt.Fprintf(f, "%d\n", os.Getpid())
				f.Close()
				break
			}
			if !errors.Is(err, os.ErrExist) {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("dotlock %s: %w", lock, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		defer os.Remove(lock)
	}
	f, err := os.OpenFile(spool, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	flk := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLKW, &flk); err != nil {
		return fmt.Errorf("fcntl %s: %w", spool, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("flock %s: %w", spool, err)
	}
	if _, err := f.WriteString(mboxFromLine("MAILER-DAEMON") + mboxQuote(text)); err != nil {
		return err
	}
	return f.Sync() // the locks go with the close
}

// maildirDeliver drops one message into a Maildir's new/ as an MDA does:
// written and synced in tmp/, then renamed (the Maildir protocol).
func maildirDeliver(root, text string, n int64, uid, gid int) error {
	name := fmt.Sprintf("%d.M%dP%dQ%d.stress", time.Now().Unix(), time.Now().Nanosecond()/1000, os.Getpid(), n)
	tmp := filepath.Join(root, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if os.Geteuid() == 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			return err
		}
	}
	return os.Rename(tmp, filepath.Join(root, "new", name))
}

// runDeliveries is the outside MDA: a message every few tens of
// milliseconds into INBOX until ctx ends.
func (e *stressEnv) runDeliveries(ctx context.Context) {
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := 0; ctx.Err() == nil; i++ {
		id, _ := e.ledger.newID("mda")
		var err error
		if e.kind == "mbox" {
			err = mboxDeliver(ctx, e.spool, stressText(id), i%5 == 0)
		} else {
			err = maildirDeliver(e.maildir, stressText(id), int64(i), e.uid, e.gid)
		}
		if err != nil {
			if ctx.Err() == nil {
				e.ledger.problem("MDA delivery of <%s>: %v", id, err)
			}
			return
		}
		e.ledger.add("INBOX", id, 1)
		e.ledger.count("delivered", 1)
		e.ledger.count("mda", 1)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(20+rng.IntN(60)) * time.Millisecond):
		}
	}
}

// uwName is the name UW's mailutil knows a mailbox by: INBOX is the
// user's spool file, other names are relative to HOME.
func uwName(box string) string { return box }

// mailutil runs UW's mailutil as the mail's owner with HOME set to the
// user's home (names relative to it).
func (e *stressEnv) mailutil(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, progTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.mailutilBin, args...)
	cmd.Dir = e.home
	cmd.Env = []string{"HOME=" + e.home, "USER=" + e.user, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("mailutil %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// runMailutil is UW's mailutil working on the same mailboxes while the
// servers run: it appends staged messages to INBOX or Archive (taking
// UW's locks) and copies a mailbox out (every other time opening it
// read-write), whose every message must be one delivered, intact. A mailutil started is never killed: the ledger must
// know whether its append happened.
func (e *stressEnv) runMailutil(ctx context.Context) {
	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	for i := 0; ctx.Err() == nil; i++ {
		box := stressBoxes[rng.IntN(len(stressBoxes))]
		if i%3 == 2 {
			dst := fmt.Sprintf("uw/copy-%d", i)
			args := []string{"copy", uwName(box), dst}
			if i%2 == 0 {
				// Source opened read-write: c-client may rewrite the file
				// when it closes it (its own X-UID, X-IMAPbase, Status), as
				// another MUA with the mailbox open would.
				args = []string{"copy", "-rw", uwName(box), dst}
			}
			if _, err := e.mailutil(context.Background(), args...); err != nil {
				if ctx.Err() == nil {
					e.ledger.problem("UW copy from %s: %v", box, err)
				}
				return
			}
			e.ledger.count("uw-copy", 1)
			if _, err := e.readMbox(filepath.Join(e.home, dst)); err != nil {
				e.ledger.problem("UW's copy of %s: %v", box, err)
			}
			continue
		}
		stage := fmt.Sprintf("uw/stage-%d", i)
		var ids []string
		var text strings.Builder
		for range 1 + rng.IntN(2) {
			id, _ := e.ledger.newID("uw")
			ids = append(ids, id)
			text.WriteString(mboxFromLine("uw@example.org") + mboxQuote(stressText(id)))
		}
		path := filepath.Join(e.home, stage)
		if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
			e.ledger.problem("staging for UW: %v", err)
			return
		}
		os.Chown(path, e.uid, e.gid)
		if _, err := e.mailutil(context.Background(), "append", stage, uwName(box)); err != nil {
			if ctx.Err() == nil {
				e.ledger.problem("UW append to %s: %v", box, err)
			}
			return
		}
		for _, id := range ids {
			e.ledger.add(box, id, 1)
		}
		e.ledger.count("delivered", len(ids))
		e.ledger.count("uw-append", len(ids))
	}
}
