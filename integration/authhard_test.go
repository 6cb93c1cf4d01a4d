package integration

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Authentication hardening (issue 8, item 6) against a real daemon: the
// failed-login delay spans connections from one address and leaves other
// addresses alone; unknown users and wrong passwords get the very same
// answer; no password reaches the log in any of the ways a client can
// send one.

// exchange sends each step to c and reads the answer: up to the line
// tagged with the step's tag (its first word), or a continuation request
// ("+"). It returns every line read.
func (c *exConn) exchange(t *testing.T, steps ...string) []string {
	t.Helper()
	var out []string
	for _, step := range steps {
		c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(c, step+"\r\n"); err != nil {
			t.Fatalf("sending %q: %v", step, err)
		}
		tag, _, _ := strings.Cut(step, " ")
		for {
			l, err := c.line(ioTimeout)
			if err != nil {
				t.Fatalf("after %q: %q, %v (read so far %q)", step, l, err, out)
			}
			out = append(out, l)
			if strings.HasPrefix(l, "+") || strings.HasPrefix(l, tag+" ") {
				break
			}
		}
	}
	return out
}

// pop3Exchange is exchange for POP3: one status line (or continuation)
// per step.
func (c *exConn) pop3Exchange(t *testing.T, steps ...string) []string {
	t.Helper()
	var out []string
	for _, step := range steps {
		c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(c, step+"\r\n"); err != nil {
			t.Fatalf("sending %q: %v", step, err)
		}
		l, err := c.line(ioTimeout)
		if err != nil {
			t.Fatalf("after %q: %q, %v", step, l, err)
		}
		out = append(out, l)
	}
	return out
}

// greeted dials addr from src and reads the greeting.
func greeted(t *testing.T, src, addr string) *exConn {
	t.Helper()
	c := dialFrom(t, src, addr)
	if g, err := c.line(ioTimeout); err != nil || !(strings.HasPrefix(g, "* OK") || strings.HasPrefix(g, "+OK")) {
		t.Fatalf("greeting %q, %v", g, err)
	}
	return c
}

// TestAuthPenaltyAcrossConnections: with login_delay 100ms doubling to
// 400ms, failed logins on successive connections from one address are
// answered after 100, 200, 400 and 400 ms at least; the daemon's log
// shows each delay, and that a failure from another address right after
// gets the first delay, not the first address's.
func TestAuthPenaltyAcrossConnections(t *testing.T) {
	s := startExhaustServer(t, "log_level = debug", "login_delay = 100ms", "login_delay_max = 400ms")
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond}
	for i, d := range want {
		c := greeted(t, "127.0.0.1", s.IMAP)
		start := time.Now()
		out := c.exchange(t, "a LOGIN demo wrong")
		elapsed := time.Since(start)
		if last := out[len(out)-1]; last != "a NO [AUTHENTICATIONFAILED] Authentication failed" {
			t.Fatalf("failure %d: %q", i+1, last)
		}
		// A lower bound only: the delay is a sleep of at least d.
		if elapsed < d {
			t.Errorf("failure %d from 127.0.0.1 answered after %v, want at least %v", i+1, elapsed, d)
		}
	}
	c := greeted(t, "127.0.0.2", s.IMAP)
	c.exchange(t, "a LOGIN demo wrong")
	// The right password from the first address succeeds (after no delay
	// of its own) and forgets its failures.
	greeted(t, "127.0.0.1", s.IMAP).exchange(t, "a LOGIN demo demo")
	c = greeted(t, "127.0.0.1", s.IMAP)
	c.exchange(t, "a LOGIN demo wrong")

	re := regexp.MustCompile(`failed login answer delayed" host="(127\.0\.0\.\d+) .*" delay=(\S+)`)
	var got []string
	for _, l := range strings.Split(s.stderr.String(), "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			got = append(got, m[1]+" "+m[2])
		}
	}
	wantLog := []string{"127.0.0.1 100ms", "127.0.0.1 200ms", "127.0.0.1 400ms", "127.0.0.1 400ms", "127.0.0.2 100ms", "127.0.0.1 100ms"}
	if fmt.Sprint(got) != fmt.Sprint(wantLog) {
		t.Errorf("delays logged = %q, want %q", got, wantLog)
	}
}
