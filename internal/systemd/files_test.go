package systemd

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestParseEnv(t *testing.T) {
	const us = 4242
	tests := []struct {
		pid, fds, names string
		n               int
		wantNames       []string
		err             string // substring of the error; "" for none
	}{
		{pid: "4242", fds: "2", names: "imap:imaps", n: 2, wantNames: []string{"imap", "imaps"}},
		{pid: "4242", fds: "1", names: "", n: 1, wantNames: []string{"unknown"}},
		{pid: "4242", fds: "3", names: "imap", n: 3, wantNames: []string{"imap", "unknown", "unknown"}},
		{pid: "4242", fds: "2", names: ":imaps", n: 2, wantNames: []string{"unknown", "imaps"}},
		{pid: "4242", fds: "1", names: "connection", n: 1, wantNames: []string{"connection"}},
		{pid: "4242", fds: "0", names: "", n: 0, wantNames: []string{}},
		{pid: "4242", fds: "", names: "imap", n: 0},     // LISTEN_FDS unset: none
		{pid: "1", fds: "2", names: "imap:imaps", n: 0}, // inherited from our parent
		{pid: "1", fds: "junk", names: "", n: 0},        // not ours: not even parsed
		{pid: "", fds: "2", err: `LISTEN_PID=""`},
		{pid: "abc", fds: "2", err: `LISTEN_PID="abc"`},
		{pid: "-4242", fds: "2", err: `LISTEN_PID="-4242"`},
		{pid: "4242", fds: "two", err: `LISTEN_FDS="two"`},
		{pid: "4242", fds: "-1", err: `LISTEN_FDS="-1"`},
		{pid: "4242", fds: "99999", err: `LISTEN_FDS="99999"`},
		{pid: "4242", fds: "1", names: "imap:imaps", err: `LISTEN_FDNAMES="imap:imaps" names 2 descriptors but LISTEN_FDS=1`},
	}
	for _, tt := range tests {
		n, names, err := parseEnv(us, tt.pid, tt.fds, tt.names)
		in := fmt.Sprintf("parseEnv(%d, %q, %q, %q)", us, tt.pid, tt.fds, tt.names)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "systemd: ") {
				t.Errorf("%s error = %v, want one containing %q", in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s error = %v, want nil", in, err)
			continue
		}
		if n != tt.n || (tt.wantNames != nil && !slices.Equal(names, tt.wantNames)) {
			t.Errorf("%s = %d, %q, want %d, %q", in, n, names, tt.n, tt.wantNames)
		}
	}
}

// TestFilesNotOurs: variables meant for another process give nothing and
// are removed, so our children cannot mistake them for theirs either.
func TestFilesNotOurs(t *testing.T) {
	t.Setenv(envPID, strconv.Itoa(os.Getppid()))
	t.Setenv(envFDs, "2")
	t.Setenv(envNames, "imap:imaps")
	files, err := Files()
	if err != nil || files != nil {
		t.Fatalf("Files() = %v, %v, want nil, nil", files, err)
	}
	for _, v := range []string{envPID, envFDs, envNames} {
		if val, ok := os.LookupEnv(v); ok {
			t.Errorf("after Files(), %s=%q, want it unset", v, val)
		}
	}
}

func TestFilesUnset(t *testing.T) {
	t.Setenv(envPID, "")
	os.Unsetenv(envPID)
	t.Setenv(envFDs, "3") // without LISTEN_PID, not ours
	files, err := Files()
	if err != nil || files != nil {
		t.Fatalf("Files() = %v, %v, want nil, nil", files, err)
	}
	if v, ok := os.LookupEnv(envFDs); ok {
		t.Errorf("after Files(), %s=%q, want it unset", envFDs, v)
	}
}

func TestFilesBadCount(t *testing.T) {
	t.Setenv(envPID, strconv.Itoa(os.Getpid()))
	t.Setenv(envFDs, "lots")
	_, err := Files()
	if err == nil || !strings.Contains(err.Error(), `LISTEN_FDS="lots"`) {
		t.Fatalf("Files() error = %v, want one naming LISTEN_FDS=\"lots\"", err)
	}
}

// helperEnv makes the test binary act as a socket-activated child
// (TestHelperActivated) instead of running the tests.
const helperEnv = "POSTERN_SYSTEMD_HELPER"

// TestFiles passes descriptors the way systemd does to a child process:
// fd 3 a TCP listener, fd 4 a connected TCP socket, fd 5 a pipe; LISTEN_PID
// is the child's own pid, set by the shell that execs it. The child reports
// what Files, Listener and Conn made of them.
func TestFiles(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	served, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	lf, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cf, err := served.(*net.TCPConn).File()
	served.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`, os.Args[0], "-test.run=^TestHelperActivated$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "LISTEN_FDS=3", "LISTEN_FDNAMES=imap:connection")
	cmd.ExtraFiles = []*os.File{lf, cf, pr}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	want := []string{
		"3 imap cloexec",
		"4 connection cloexec",
		"5 unknown cloexec",
		"env unset",
		"fd 3 listener 127.0.0.1",
		"fd 3 conn error: systemd: fd 3 (imap): a listening socket, not a connection",
		"fd 4 listener error: systemd: fd 4 (connection): not a listening socket",
		"fd 4 conn 127.0.0.1",
		"fd 5 listener error: systemd: fd 5 (unknown): not a socket: socket operation on non-socket",
		"second call 0",
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "helper: "); ok {
			got = append(got, line)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("activated child reported\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHelperActivated is the child of TestFiles; on its own it does
// nothing.
func TestHelperActivated(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestFiles")
	}
	say := func(format string, args ...any) { fmt.Printf("helper: "+format+"\n", args...) }
	files, err := Files()
	if err != nil {
		say("Files error: %v", err)
		return
	}
	for _, f := range files {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd.Fd(), syscall.F_GETFD, 0)
		state := "no-cloexec"
		if errno == 0 && flags&syscall.FD_CLOEXEC != 0 {
			state = "cloexec"
		}
		say("%d %s %s", f.Fd.Fd(), f.Name, state)
	}
	if os.Getenv(envPID) == "" && os.Getenv(envFDs) == "" && os.Getenv(envNames) == "" {
		say("env unset")
	}
	if len(files) != 3 {
		return
	}
	tryListener := func(f File) {
		l, err := dupFile(f).Listener()
		if err != nil {
			say("%s listener error: %v", f.Fd.Name()[:4], err)
			return
		}
		defer l.Close()
		say("%s listener %s", f.Fd.Name()[:4], l.Addr().(*net.TCPAddr).IP)
	}
	tryConn := func(f File) {
		c, err := dupFile(f).Conn()
		if err != nil {
			say("%s conn error: %v", f.Fd.Name()[:4], err)
			return
		}
		defer c.Close()
		say("%s conn %s", f.Fd.Name()[:4], c.LocalAddr().(*net.TCPAddr).IP)
	}
	tryListener(files[0])
	tryConn(files[0])
	tryListener(files[1])
	tryConn(files[1])
	tryListener(files[2])
	again, err := Files()
	say("second call %d", len(again))
	if err != nil {
		say("second call error: %v", err)
	}
}

// dupFile returns a File on a duplicate of f's descriptor, with f's name:
// Listener and Conn close the File they are given, and each original is
// tried twice.
func dupFile(f File) File {
	fd, err := syscall.Dup(int(f.Fd.Fd()))
	if err != nil {
		panic(err)
	}
	return File{Fd: os.NewFile(uintptr(fd), f.Fd.Name()), Name: f.Name}
}
