package systemd

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenNotify opens the datagram socket a service manager would, at name
// (a path or an @abstract name).
func listenNotify(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readDatagram returns the next datagram; the deadline only turns a hang
// into a failure (Notify has sent before we read).
func readDatagram(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	tests := []struct {
		name   string
		socket string
	}{
		{"path", filepath.Join(t.TempDir(), "notify")},
		{"abstract", fmt.Sprintf("@postern-systemd-test-%d", os.Getpid())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := listenNotify(t, tt.socket)
			t.Setenv(envNotify, tt.socket)
			for _, state := range []string{Ready + "\n" + Status("serving 127.0.0.1:143"), Stopping} {
				if err := Notify(state); err != nil {
					t.Fatalf("Notify(%q) = %v, want nil", state, err)
				}
				if got := readDatagram(t, c); got != state {
					t.Errorf("Notify(%q) sent %q, want %q", state, got, state)
				}
			}
		})
	}
}

func TestNotifyUnset(t *testing.T) {
	t.Setenv(envNotify, "")
	os.Unsetenv(envNotify)
	if err := Notify(Ready); err != nil {
		t.Errorf("Notify(%q) without %s = %v, want nil", Ready, envNotify, err)
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		socket string
		err    string
	}{
		{"relative/notify", `NOTIFY_SOCKET="relative/notify"`},
		{"vsock:2:1234", `NOTIFY_SOCKET="vsock:2:1234"`},
		{filepath.Join(t.TempDir(), "nobody-listens"), "systemd: NOTIFY_SOCKET: "},
	}
	for _, tt := range tests {
		t.Setenv(envNotify, tt.socket)
		err := Notify(Ready)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Notify(%q) with %s=%q = %v, want an error containing %q", Ready, envNotify, tt.socket, err, tt.err)
		}
	}
}

func TestReloading(t *testing.T) {
	got := Reloading()
	rest, ok := strings.CutPrefix(got, "RELOADING=1\nMONOTONIC_USEC=")
	if !ok {
		t.Fatalf("Reloading() = %q, want RELOADING=1\\nMONOTONIC_USEC=N", got)
	}
	us, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || us == 0 {
		t.Errorf("Reloading() MONOTONIC_USEC = %q, want a positive number", rest)
	}
	// CLOCK_MONOTONIC never goes back.
	later, _ := strconv.ParseUint(strings.TrimPrefix(Reloading(), "RELOADING=1\nMONOTONIC_USEC="), 10, 64)
	if later < us {
		t.Errorf("MONOTONIC_USEC went back: %d then %d", us, later)
	}
}

func TestStatus(t *testing.T) {
	if got, want := Status("a\nb"), "STATUS=a b"; got != want {
		t.Errorf("Status(%q) = %q, want %q", "a\nb", got, want)
	}
}
