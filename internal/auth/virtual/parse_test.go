package virtual

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want string // fmt of the entry's fields, "" for a skipped line, "error" for an error
	}{
		{"", ""},
		{"   ", ""},
		{"# comment", ""},
		{"  # indented comment", ""},
		{"alice:{PLAIN}pw", "alice PLAIN pw -1 -1  map[] false"},
		{"alice:{PLAIN}pw\r", "alice PLAIN pw -1 -1  map[] false"},
		{"bob:{BCRYPT}h:1001:1002:Bob:/home/bob:/bin/sh:mail=maildir:~/Maildir quota=1G", "bob BCRYPT h 1001 1002 /home/bob map[mail:maildir:~/Maildir quota:1G] false"},
		{"carol@example.org:$6$s$h::::/srv/carol::userdb_mail=maildir:/m/carol", "carol@example.org CRYPT $6$s$h -1 -1 /srv/carol map[mail:maildir:/m/carol] false"},
		{"dave:{PLAIN}pw:::::: nologin reason=gone", "dave PLAIN pw -1 -1  map[nologin: reason:gone] true"},
		{"erin:{PLAIN}pw:::::: deny=y", "erin PLAIN pw -1 -1  map[deny:y] true"},
		{"erin:{PLAIN}pw:::::: deny=no", "erin PLAIN pw -1 -1  map[deny:no] false"},
		{"frank:{PLAIN}a:b", "error"}, // uid "b"
		{"frank:{PLAIN}a:1:-2", "error"},
		{"frank:", "error"},
		{"frank", "error"},
		{":{PLAIN}pw", "error"},
		{"../etc:{PLAIN}pw", "error"},
		{"a/b:{PLAIN}pw", "error"},
		{"a\x01b:{PLAIN}pw", "error"},
		{strings.Repeat("u", 256) + ":{PLAIN}pw", "error"},
	}
	for _, tt := range tests {
		e, err := parseLine(tt.in)
		var got string
		switch {
		case err != nil:
			got = "error"
		case e != nil:
			got = fmt.Sprint(e.name, " ", e.cred.scheme, " ", e.cred.hash, " ", e.uid, " ", e.gid, " ", e.home, " ", e.extra, " ", e.disabled)
		}
		if got != tt.want {
			t.Errorf("parseLine(%q) = %q (err %v), want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	data := "# users\nalice:{PLAIN}a\nbad line/x:{PLAIN}b\nalice:{PLAIN}dup\nbob:{PLAIN}b"
	users, problems := parseFile([]byte(data))
	if len(users) != 2 || users["alice"].cred.hash != "a" || users["bob"] == nil {
		t.Errorf("parseFile users = %v, want alice (first definition) and bob", users)
	}
	var lines []int
	for _, p := range problems {
		lines = append(lines, p.line)
	}
	if fmt.Sprint(lines) != "[3 4]" {
		t.Errorf("parseFile problem lines = %v, want [3 4]", lines)
	}
}

func TestValidUsername(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"alice", true},
		{"alice@example.org", true},
		{"jörg", true},
		{"a.b-c_d+e", true},
		{"", false},
		{"..", false},
		{"a..b", false},
		{".hidden", false},
		{"-flag", false},
		{"a/b", false},
		{"a\\b", false},
		{"a:b", false},
		{"a b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7fb", false},
		{"\xff", false},
		{"@", false},
		{"x@", false},
		{"@example.org", false},
		{"a@b@c", false},
		{strings.Repeat("x", 255), true},
		{strings.Repeat("x", 256), false},
	}
	for _, tt := range tests {
		err := ValidUsername(tt.in)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadUsername)) {
			t.Errorf("ValidUsername(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestMailRoot(t *testing.T) {
	tests := []struct {
		user, home, mail, tmpl string
		want                   string
	}{
		{"a", "/home/a", "", "", "/home/a/Maildir"},
		{"a", "/home/a", "maildir:~/Maildir", "", "/home/a/Maildir"},
		{"a", "/home/a", "maildir:~/mail:LAYOUT=fs", "", "/home/a/mail"},
		{"a", "/home/a", "mbox:~/mail:INBOX=/var/mail/%u", "", "/home/a/mail"},
		{"a", "/home/a", "~", "", "/home/a"},
		{"a", "/home/a", "/srv/mail/%u/", "", "/srv/mail/a"},
		{"a", "", "", "/var/vmail/%u", "/var/vmail/a"},
		{"a@ex.org", "", "", "/var/vmail/%d/%n", "/var/vmail/ex.org/a"},
		{"a", "", "", "/var/vmail/%d/%n", "/var/vmail/a"},
		{"a", "", "maildir:~/Maildir", "/var/vmail/%u", "/var/vmail/a"}, // ~ without home
		{"a", "", "maildir:/m/%u", "/var/vmail/%u", "/m/a"},
		{"a", "", "", "", ""},
		{"a", "", "", "/v/100%%/%u", "/v/100%/a"},
	}
	for _, tt := range tests {
		got, err := mailRoot(tt.user, tt.home, tt.mail, tt.tmpl)
		if err != nil || got != tt.want {
			t.Errorf("mailRoot(%q, %q, %q, %q) = %q, %v, want %q", tt.user, tt.home, tt.mail, tt.tmpl, got, err, tt.want)
		}
	}
	for _, tmpl := range []string{"/v/%x", "/v/%"} {
		if got, err := mailRoot("a", "", "", tmpl); err == nil {
			t.Errorf("mailRoot(template %q) = %q, nil, want an error", tmpl, got)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"alice:{PLAIN}pw",
		"bob:{BCRYPT}$2y$10$abcdefghijklmnopqrstuu5Rq2y0Z3V2lIp6uRJd7y3b2XrKfOe:1001:1002:Bob:/home/bob:/bin/sh:mail=maildir:~/Maildir quota=1G",
		"carol:$6$rounds=5000$salt$hash::::/srv/carol::userdb_mail=maildir:/m/carol nologin",
		"dave:{SHA512-CRYPT}$6$rounds=x$",
		"# comment",
		"e:{X:1:2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") {
			return // parseLine gets one line at a time
		}
		e, err := parseLine(line)
		if err != nil || e == nil {
			return
		}
		if verr := ValidUsername(e.name); verr != nil {
			t.Fatalf("parseLine(%q) accepted name %q: %v", line, e.name, verr)
		}
		if e.uid < -1 || e.gid < -1 {
			t.Fatalf("parseLine(%q) gave uid %d gid %d", line, e.uid, e.gid)
		}
		// setUserLine must round-trip the line's other fields.
		out := setUserLine([]byte(line+"\n"), e.name, "{PLAIN}new", "/h")
		e2, err := parseLine(strings.TrimSuffix(string(out), "\n"))
		if err != nil || e2 == nil || e2.cred.hash != "new" || e2.home != "/h" || e2.uid != e.uid || fmt.Sprint(e2.extra) != fmt.Sprint(e.extra) {
			t.Fatalf("setUserLine(%q) = %q, reparsed %+v, %v", line, out, e2, err)
		}
	})
}
