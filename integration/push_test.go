package integration

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/demo"
)

// waitUpdate returns the next value on ch; a missing update fails the
// test after pushTimeout (a hang guard, not a speed assertion).
func waitUpdate(t *testing.T, ch <-chan uint32, what string) uint32 {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(pushTimeout):
		t.Fatalf("no %s at the IDLE client within %v", what, pushTimeout)
		return 0
	}
}

// TestPushInetd: with one imapd process per connection (inetd mode), an
// IDLE client hears of a delivery into new/ by another program and of a
// flag and an APPEND made through another imapd process (RFC 2177; the
// other process's changes reach this one through the index).
func TestPushInetd(t *testing.T) {
	conf := demoConfig(t)
	addr := listenInetd(t, conf)
	a := newIdler(t, dialTCP(t, addr), "demo", "demo")
	if a.count != 5 {
		t.Fatalf("SELECT INBOX: %d messages, want the demo's 5", a.count)
	}
	deliverMaildir(t, filepath.Join(filepath.Dir(conf), "users", demo.User, "Maildir"), 1)
	if n := waitUpdate(t, a.exists, "EXISTS for a delivery into new/"); n != 6 {
		t.Errorf("EXISTS after the delivery = %d, want 6", n)
	}

	b := loginClient(t, dialTCP(t, addr), "demo", "demo") // another imapd process
	toggleFlag(t, b, 0)
	if seq := waitUpdate(t, a.fetches, "FETCH for another process's STORE"); seq != 1 {
		t.Errorf("FETCH after STORE 1 +FLAGS = * %d FETCH, want * 1 FETCH", seq)
	}
	msg := demoMessages[1]
	cmd := b.Append("INBOX", int64(len(msg)), &imap.AppendOptions{})
	cmd.Write(msg)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND from the other process: %v", err)
	}
	for n := uint32(0); n != 7; {
		n = waitUpdate(t, a.exists, "EXISTS for another process's APPEND")
		if n != 6 && n != 7 {
			t.Fatalf("EXISTS after the APPEND = %d, want 7", n)
		}
	}
}

// TestPushDaemonDelivery: in the daemon (one process, sessions as
// goroutines), a delivery into new/ by another program reaches an IDLE
// client.
func TestPushDaemonDelivery(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := newIdler(t, dialTCP(t, s.IMAP), "demo", "demo")
	deliverMaildir(t, filepath.Join(s.Data, "users", demo.User, "Maildir"), 1)
	if n := waitUpdate(t, a.exists, "EXISTS for a delivery into new/"); n != 6 {
		t.Errorf("EXISTS after the delivery = %d, want 6", n)
	}
}

// TestPushMbox: an MDA appending to the spool file under flock reaches an
// IDLE client of the mbox driver.
func TestPushMbox(t *testing.T) {
	t.Parallel()
	spool, addr := startMboxServer(t)
	a := newIdler(t, dialTCP(t, addr), "bench", "bench")
	deliverMbox(t, spool, 1)
	if n := waitUpdate(t, a.exists, "EXISTS for an append to the spool file"); n != a.count+1 {
		t.Errorf("EXISTS after the append = %d, want %d", n, a.count+1)
	}
}
