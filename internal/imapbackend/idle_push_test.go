package imapbackend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
)

// lineUpdates sends each untagged update of an IDLE as its wire text.
type lineUpdates chan string

func (u lineUpdates) put(format string, a ...any) error {
	u <- fmt.Sprintf(format, a...)
	return nil
}
func (u lineUpdates) WriteExists(n uint32) error  { return u.put("* %d EXISTS", n) }
func (u lineUpdates) WriteRecent(n uint32) error  { return u.put("* %d RECENT", n) }
func (u lineUpdates) WriteExpunge(n uint32) error { return u.put("* %d EXPUNGE", n) }
func (u lineUpdates) WriteMailboxFlags(flags, _ []imap.Flag) error {
	return u.put("* FLAGS %s", flagList(flags))
}
func (u lineUpdates) WriteMessageFlags(seq, _ uint32, flags []imap.Flag) error {
	return u.put("* %d FETCH (FLAGS %s)", seq, flagList(flags))
}

func TestIdlePeriod(t *testing.T) {
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) {
			s := login(t, o.open(t))
			selectBox(t, s, "INBOX", false)
			s.sel.mb.Watch()
			want := DefaultIdlePoll
			if o.name == "maildir" {
				// Its Watch covers other processes (inotify): only
				// the safety poll is left.
				want = DefaultIdleSafetyPoll
			}
			if got := s.idlePeriod(); got != want {
				t.Errorf("idlePeriod() = %v, want %v", got, want)
			}
		})
	}
}

// TestIdleOutsideDelivery: a message an MTA drops into new/ reaches an IDLE
// session as EXISTS with every poll period far longer than the test's
// wait, so only the inotify path can deliver it.
func TestIdleOutsideDelivery(t *testing.T) {
	dir := t.TempDir()
	st, err := maildir.Open(dir, maildir.Options{NoFsync: true, Now: fixedClock, PollInterval: time.Hour, SafetyPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := newBackend(st, Options{IdlePoll: time.Hour, IdleSafetyPoll: time.Hour})
	b.opts.OpenStore = func(context.Context, *auth.User) (mailstore.Store, error) { return nopClose{st}, nil }
	ss, err := b.NewSession(context.Background(), testConn)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	if err := ss.Login(context.Background(), "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	s := ss.(*session)
	selectBox(t, s, "INBOX", false)

	u := make(lineUpdates, 16)
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- s.Idle(context.Background(), u, stop) }()

	// An in-process append first: once its EXISTS came, Idle has made
	// its first look and watches the mailbox (Watch comes before it).
	appendMsg(t, st, "INBOX", simpleMsg(1))
	want := func(line, what string) {
		t.Helper()
		for {
			select {
			case got := <-u:
				if strings.HasSuffix(got, " RECENT") {
					continue // follows each EXISTS (RFC 3501 §7.3.2)
				}
				if got != line {
					t.Errorf("update = %q, want %q", got, line)
				}
				return
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q for %s during IDLE", line, what)
			}
		}
	}
	want("* 1 EXISTS", "an append in this process")
	tmp := filepath.Join(dir, "tmp", "2.M1P1.mta")
	if err := os.WriteFile(tmp, []byte(simpleMsg(2)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", "2.M1P1.mta")); err != nil {
		t.Fatal(err)
	}
	want("* 2 EXISTS", "a delivery into new/ by another program")
	close(stop)
	if err := <-done; err != nil {
		t.Errorf("Idle = %v", err)
	}
}
