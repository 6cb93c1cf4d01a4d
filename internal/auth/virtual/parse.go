package virtual

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// entry is one parsed line of the password file.
type entry struct {
	name     string
	cred     credential
	credErr  error // non-nil when cred cannot be checked; logged at load
	uid, gid int   // -1 when empty
	home     string
	extra    map[string]string
	disabled bool
	line     int
}

// lineError is a problem found on one line of the file.
type lineError struct {
	line int
	err  error
}

func (e lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// parseFile parses a password file. Comments ("#") and blank lines are
// skipped. Bad lines are skipped and reported; the first of duplicate names
// wins.
func parseFile(data []byte) (map[string]*entry, []lineError) {
	users := make(map[string]*entry)
	var problems []lineError
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		e, err := parseLine(sc.Text())
		if err != nil {
			problems = append(problems, lineError{n, err})
			continue
		}
		if e == nil {
			continue
		}
		e.line = n
		if prev, dup := users[e.name]; dup {
			problems = append(problems, lineError{n, fmt.Errorf("user %q already defined on line %d; ignored", e.name, prev.line)})
			continue
		}
		users[e.name] = e
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, lineError{n + 1, err})
	}
	return users, problems
}

// parseLine parses one line in Dovecot's passwd-file shape:
//
//	user:password:uid:gid:gecos:home:shell:extra_fields
//
// All fields after the password may be left out. The extra fields are
// space-separated "key=value" or bare "key"; a "userdb_" prefix (Dovecot's
// marker for userdb fields) is dropped. It returns nil, nil for blank lines
// and comments.
func parseLine(line string) (*entry, error) {
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
		return nil, nil
	}
	f := strings.SplitN(line, ":", 8)
	for len(f) < 8 {
		f = append(f, "")
	}
	e := &entry{name: f[0], uid: -1, gid: -1, home: f[5]}
	if err := ValidUsername(e.name); err != nil {
		return nil, err
	}
	if f[1] == "" {
		return nil, fmt.Errorf("user %q: empty password field", e.name)
	}
	e.cred = parseCredential(f[1])
	e.credErr = e.cred.validate()
	var err error
	if e.uid, err = parseID(f[2]); err != nil {
		return nil, fmt.Errorf("user %q: uid: %w", e.name, err)
	}
	if e.gid, err = parseID(f[3]); err != nil {
		return nil, fmt.Errorf("user %q: gid: %w", e.name, err)
	}
	for _, field := range strings.Fields(f[7]) {
		k, v, _ := strings.Cut(field, "=")
		k = strings.TrimPrefix(k, "userdb_")
		if k == "" {
			continue
		}
		if e.extra == nil {
			e.extra = make(map[string]string)
		}
		e.extra[k] = v
	}
	e.disabled = isDisabled(e.extra)
	return e, nil
}

// parseID parses a numeric uid or gid; "" gives -1.
func parseID(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return int(n), nil
}

// isDisabled reports whether the extra fields refuse logins: Dovecot's
// "nologin" (any value) and "deny" (unless explicitly "n"/"no"/"0"/"false").
func isDisabled(extra map[string]string) bool {
	if _, ok := extra["nologin"]; ok {
		return true
	}
	v, ok := extra["deny"]
	if !ok {
		return false
	}
	switch strings.ToLower(v) {
	case "n", "no", "0", "false":
		return false
	}
	return true
}
