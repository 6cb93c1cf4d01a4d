package integration

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// exMemoryLimit is the memory_limit of TestExhaustMemoryLimit, and the
// bound asserted on the daemon's peak RSS.
const exMemoryLimit = 64 << 20

// TestExhaustMemoryLimit: with no connection caps, 10,000 connections
// (from 100 addresses) plus floods of pipelined commands and unfinished
// literals would take the daemon past memory_limit; instead, once its
// memory in use nears the limit it refuses new connections with
// BYE [UNAVAILABLE], its peak RSS (VmHWM) stays under memory_limit, the
// sessions already open keep working, and when the flood ends new
// clients are served again.
func TestExhaustMemoryLimit(t *testing.T) {
	raiseNoFile(t, 2*exhaustConns)
	s := startExhaustServer(t,
		"max_connections = 0", "max_connections_per_ip = 0", "login_timeout = 5m",
		fmt.Sprintf("memory_limit = %d", exMemoryLimit), "login_delay = 1ms", "login_delay_max = 1ms")
	const refusal = "* BYE [UNAVAILABLE] Server is short of memory, try again later"

	// The floods: logged-in clients pipelining FETCHes, and unfinished
	// APPENDs, all the while.
	stop := make(chan struct{})
	var floods sync.WaitGroup
	var fetched [8]int
	for i := range fetched {
		floods.Add(1)
		go func() {
			defer floods.Done()
			fetched[i] = fetchFlood(s.IMAP, fmt.Sprintf("127.0.0.%d", 20+i), stop)
		}()
	}

	var (
		mu       sync.Mutex
		open     []*exConn
		refused  int
		other    []string
		firstRef = -1
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c, err := dialFromErr(fmt.Sprintf("127.1.0.%d", 1+i%100), s.IMAP)
				if err != nil {
					mu.Lock()
					other = append(other, err.Error())
					mu.Unlock()
					continue
				}
				l, err := c.line(ioTimeout)
				mu.Lock()
				switch {
				case err == nil && strings.HasPrefix(l, "* OK"):
					open = append(open, c)
				case err == nil && l == refusal:
					refused++
					if firstRef < 0 {
						firstRef = i
					}
					c.Close()
				default:
					other = append(other, fmt.Sprintf("%q, %v", l, err))
					c.Close()
				}
				mu.Unlock()
			}
		}()
	}
	for i := range exhaustConns {
		work <- i
	}
	close(work)
	wg.Wait()
	// The sessions already open still work under the pressure.
	for _, c := range open[:min(len(open), 5)] {
		io.WriteString(c, "a NOOP\r\n")
		if l, err := c.line(ioTimeout); err != nil || l != "a OK NOOP completed" {
			t.Errorf("an open session under memory pressure: NOOP answered %q, %v", l, err)
		}
	}
	close(stop)
	floods.Wait()
	peak, err := procStatusKiB(s.proc.Pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := procStatusKiB(s.proc.Pid, "RssFile")
	t.Logf("memory_limit %d MiB: %d connections, %d accepted, %d refused (the first at #%d); FETCH floods %v; daemon peak RSS (VmHWM) %.1f MiB, of which code about %.1f MiB",
		exMemoryLimit>>20, exhaustConns, len(open), refused, firstRef, fetched, float64(peak)/1024, float64(code)/1024)
	if len(other) > 0 {
		t.Fatalf("%d connections got neither a greeting nor the memory BYE, first: %s", len(other), other[0])
	}
	if refused == 0 {
		t.Errorf("no connection was refused: the flood did not reach the memory bound, so this test shows nothing (raise the connections or lower memory_limit)")
	}
	if peak*1024 > exMemoryLimit {
		t.Errorf("daemon peak RSS %d KiB exceeds memory_limit %d MiB", peak, exMemoryLimit>>20)
	}
	for _, c := range open {
		c.Close()
	}
	// Served again once the flood is gone. The sessions' memory is freed
	// by a collection the daemon starts itself while over the bound, so
	// a few refusals may come first.
	deadline := time.Now().Add(ioTimeout)
	for {
		c, err := dialFromErr("127.0.0.2", s.IMAP)
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.line(ioTimeout)
		c.Close()
		if err == nil && strings.HasPrefix(l, "* OK") {
			break
		}
		if l != refusal || time.Now().After(deadline) {
			t.Fatalf("after the flood: greeting %q, %v; want * OK within %v", l, err, ioTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	served(t, "127.0.0.2", s.IMAP)
}

// fetchFlood logs in from src and pipelines FETCHes of every message,
// reading the answers, until stop is closed; it returns how many
// commands were answered. A refused connection counts 0.
func fetchFlood(addr, src string, stop <-chan struct{}) int {
	c, err := dialFromErr(src, addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	if g, err := c.line(ioTimeout); err != nil || !strings.HasPrefix(g, "* OK") {
		return 0
	}
	io.WriteString(c, "l LOGIN demo demo\r\ns SELECT INBOX\r\n")
	done := 0
	for {
		select {
		case <-stop:
			return done
		default:
		}
		c.SetWriteDeadline(time.Now().Add(ioTimeout))
		if _, err := io.WriteString(c, strings.Repeat("f FETCH 1:* (BODY.PEEK[] FLAGS)\r\n", 20)); err != nil {
			return done
		}
		for n := 0; n < 20; {
			l, err := c.line(ioTimeout)
			if err != nil {
				return done
			}
			if strings.HasPrefix(l, "f ") {
				n++
				done++
			}
		}
	}
}
