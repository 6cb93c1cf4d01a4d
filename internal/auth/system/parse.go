package system

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// maxLine bounds one line of /etc/passwd or /etc/shadow; glibc has no
// fixed limit, but no real entry comes near it.
const maxLine = 64 << 10

// passwdEntry is one line of /etc/passwd (passwd(5)):
//
//	name:password:UID:GID:GECOS:directory:shell
type passwdEntry struct {
	name     string
	password string // "x" means: see shadow
	uid, gid int
	gecos    string
	home     string
	shell    string
}

// shadowEntry is one line of /etc/shadow (shadow(5)):
//
//	name:password:lastchg:min:max:warn:inactive:expire:reserved
//
// The day fields count days since 1970-01-01 UTC (lastchg, expire) or
// days (min, max, warn, inactive); unset fields (empty, or negative as
// getspnam reports them) are -1.
type shadowEntry struct {
	name     string
	password string
	lastChg  int64
	min, max int64
	warn     int64
	inactive int64
	expire   int64
}

// parsePasswdLine parses one passwd(5) line, without its newline.
func parsePasswdLine(line string) (passwdEntry, error) {
	f := strings.Split(line, ":")
	if len(f) != 7 {
		return passwdEntry{}, fmt.Errorf("system: passwd line has %d fields, want 7", len(f))
	}
	if f[0] == "" {
		return passwdEntry{}, errors.New("system: passwd line has an empty name")
	}
	uid, err := parseID(f[2])
	if err != nil {
		return passwdEntry{}, fmt.Errorf("system: passwd entry %q: uid: %w", f[0], err)
	}
	gid, err := parseID(f[3])
	if err != nil {
		return passwdEntry{}, fmt.Errorf("system: passwd entry %q: gid: %w", f[0], err)
	}
	return passwdEntry{name: f[0], password: f[1], uid: uid, gid: gid, gecos: f[4], home: f[5], shell: f[6]}, nil
}

// parseID parses a numeric uid or gid: decimal, 0 to 2^32-2 (2^32-1 is
// (uid_t)-1, "no id").
func parseID(s string) (int, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("bad id %q", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("bad id %q", s)
	}
	return int(n), nil
}

// parseShadowLine parses one shadow(5) line, without its newline.
func parseShadowLine(line string) (shadowEntry, error) {
	f := strings.Split(line, ":")
	if len(f) != 9 {
		return shadowEntry{}, fmt.Errorf("system: shadow line has %d fields, want 9", len(f))
	}
	if f[0] == "" {
		return shadowEntry{}, errors.New("system: shadow line has an empty name")
	}
	e := shadowEntry{name: f[0], password: f[1]}
	for i, p := range []*int64{&e.lastChg, &e.min, &e.max, &e.warn, &e.inactive, &e.expire} {
		n, err := parseDays(f[2+i])
		if err != nil {
			return shadowEntry{}, fmt.Errorf("system: shadow entry %q: field %d: %w", f[0], 3+i, err)
		}
		*p = n
	}
	return e, nil
}

// parseDays parses a shadow day field: empty or negative means unset (-1).
// A malformed number is an error, so that a damaged entry fails closed
// instead of losing its expiry.
func parseDays(s string) (int64, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s[0] == '+' {
		return 0, fmt.Errorf("bad number %q", s)
	}
	if n < 0 {
		return -1, nil
	}
	// Days beyond any calendar would overflow the additions of the
	// expiry checks; no tool writes them.
	if n > 1<<40 {
		return 0, fmt.Errorf("number %q out of range", s)
	}
	return n, nil
}

// skipLine reports whether a line holds no entry: blank, a comment (glibc
// does not allow them but hand-edited files have them), or an NIS compat
// "+"/"-" line, which only nsswitch's compat module understands.
func skipLine(line string) bool {
	return line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-'
}

// findLine returns the first line of the file at path whose first
// colon-separated field is name, or ok=false. Like getpwnam and getspnam,
// the first entry wins.
func findLine(path, name string) (line string, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	return scanFor(f, name)
}

// scanFor is findLine on a reader. Lines longer than maxLine are skipped
// whole rather than failing the lookup of every later user.
func scanFor(r io.Reader, name string) (string, bool, error) {
	br := bufio.NewReaderSize(r, maxLine)
	prefix := name + ":"
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return "", false, nil
			}
			if err != nil {
				return "", false, err
			}
			continue
		}
		line := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if !skipLine(line) && strings.HasPrefix(line, prefix) {
			return line, true, nil
		}
		if err == io.EOF {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
	}
}
