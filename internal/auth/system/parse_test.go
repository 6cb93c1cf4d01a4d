package system

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePasswdLine(t *testing.T) {
	tests := []struct {
		in      string
		want    passwdEntry
		wantErr bool
	}{
		{in: "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash",
			want: passwdEntry{name: "alice", password: "x", uid: 1000, gid: 1000, gecos: "Alice,,,", home: "/home/alice", shell: "/bin/bash"}},
		{in: "root:x:0:0:root:/root:/bin/bash",
			want: passwdEntry{name: "root", password: "x", uid: 0, gid: 0, gecos: "root", home: "/root", shell: "/bin/bash"}},
		{in: "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
			want: passwdEntry{name: "nobody", password: "x", uid: 65534, gid: 65534, gecos: "nobody", home: "/nonexistent", shell: "/usr/sbin/nologin"}},
		{in: "big:x:4294967294:0:::",
			want: passwdEntry{name: "big", password: "x", uid: 4294967294}},
		{in: "big:x:4294967295:0:::", wantErr: true}, // (uid_t)-1
		{in: "big:x:4294967296:0:::", wantErr: true},
		{in: "neg:x:-1:0:::", wantErr: true},
		{in: "plus:x:+1:0:::", wantErr: true},
		{in: "hex:x:0x10:0:::", wantErr: true},
		{in: "nouid:x::0:::", wantErr: true},
		{in: "nogid:x:1::::", wantErr: true},
		{in: ":x:1:1:::", wantErr: true},
		{in: "short:x:1:1::", wantErr: true},
		{in: "long:x:1:1::::", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parsePasswdLine(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parsePasswdLine(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseShadowLine(t *testing.T) {
	tests := []struct {
		in      string
		want    shadowEntry
		wantErr bool
	}{
		{in: "alice:$y$j9T$s$h:19000:0:99999:7:::",
			want: shadowEntry{name: "alice", password: "$y$j9T$s$h", lastChg: 19000, min: 0, max: 99999, warn: 7, inactive: -1, expire: -1}},
		{in: "bob:!:0:1:2:3:4:5:",
			want: shadowEntry{name: "bob", password: "!", lastChg: 0, min: 1, max: 2, warn: 3, inactive: 4, expire: 5}},
		{in: "carol::::::::",
			want: shadowEntry{name: "carol", lastChg: -1, min: -1, max: -1, warn: -1, inactive: -1, expire: -1}},
		{in: "dave:*:-1:-1:-1:-1:-1:-1:",
			want: shadowEntry{name: "dave", password: "*", lastChg: -1, min: -1, max: -1, warn: -1, inactive: -1, expire: -1}},
		{in: "erin:x:1:2:3:4:5:6:reserved",
			want: shadowEntry{name: "erin", password: "x", lastChg: 1, min: 2, max: 3, warn: 4, inactive: 5, expire: 6}},
		{in: "bad:x:abc:0:99999:7:::", wantErr: true},
		{in: "bad:x:1:0:99999:7::1e5:", wantErr: true},
		{in: "bad:x:+1:0:99999:7:::", wantErr: true},
		{in: "bad:x: 1:0:99999:7:::", wantErr: true},
		{in: "huge:x:99999999999999:0:99999:7:::", wantErr: true},
		{in: "short:x:1:0:99999:7::", wantErr: true},
		{in: "long:x:1:0:99999:7::::", wantErr: true},
		{in: ":x:1:0:99999:7:::", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseShadowLine(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseShadowLine(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestScanFor(t *testing.T) {
	long := strings.Repeat("y", maxLine+10)
	file := "# comment\n" +
		"+::::::\n" +
		"-mallory::::::\n" +
		"alice:first\n" +
		"alice:second\n" +
		"alicea:other\n" +
		long + "\n" +
		"bob:after a long line\r\n" +
		"carol:no newline"
	tests := []struct {
		name, want string
		found      bool
	}{
		{"alice", "alice:first", true},
		{"alicea", "alicea:other", true},
		{"bob", "bob:after a long line", true},
		{"carol", "carol:no newline", true},
		{"mallory", "", false},
		{"+", "", false},
		{"ali", "", false},
		{"y", "", false},
	}
	for _, tt := range tests {
		got, found, err := scanFor(strings.NewReader(file), tt.name)
		if err != nil || found != tt.found || got != tt.want {
			t.Errorf("scanFor(%q) = %q, %v, %v; want %q, %v, nil", tt.name, got, found, err, tt.want, tt.found)
		}
	}
}

// FuzzParsePasswdLine checks that any line either fails or gives an entry
// whose fields print back to the same line.
func FuzzParsePasswdLine(f *testing.F) {
	f.Add("alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash")
	f.Add("root:x:0:0:root:/root:/bin/bash")
	f.Add("big:x:4294967295:0:::")
	f.Add("a:b:c:d:e:f:g")
	f.Add("::::::")
	f.Add("x:x:01:007:::")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parsePasswdLine(line)
		if err != nil {
			return
		}
		if e.name == "" || e.uid < 0 || e.gid < 0 || e.uid > 1<<32-2 || e.gid > 1<<32-2 {
			t.Fatalf("parsePasswdLine(%q) = %+v: bad name or id", line, e)
		}
		for _, s := range []string{e.name, e.password, e.gecos, e.home, e.shell} {
			if strings.Contains(s, ":") {
				t.Fatalf("parsePasswdLine(%q) = %+v: field holds a colon", line, e)
			}
		}
		back := fmt.Sprintf("%s:%s:%d:%d:%s:%s:%s", e.name, e.password, e.uid, e.gid, e.gecos, e.home, e.shell)
		e2, err := parsePasswdLine(back)
		if err != nil || e2 != e {
			t.Fatalf("parsePasswdLine(%q) = %+v, %v; want %+v (reparsing %q)", back, e2, err, e, line)
		}
	})
}

// FuzzParseShadowLine checks that any line either fails or gives an entry
// with day fields either unset (-1) or in range, that reparse the same.
func FuzzParseShadowLine(f *testing.F) {
	f.Add("alice:$y$j9T$s$h:19000:0:99999:7:::")
	f.Add("bob:!:0:1:2:3:4:5:")
	f.Add("carol::::::::")
	f.Add("dave:*:-1:-1:-1:-1:-1:-1:")
	f.Add("e:x:99999999999999:0:0:0:0:0:")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := parseShadowLine(line)
		if err != nil {
			return
		}
		days := []int64{e.lastChg, e.min, e.max, e.warn, e.inactive, e.expire}
		for _, d := range days {
			if d < -1 || d > 1<<40 {
				t.Fatalf("parseShadowLine(%q) = %+v: day field out of range", line, e)
			}
		}
		if e.name == "" || strings.Contains(e.name, ":") || strings.Contains(e.password, ":") {
			t.Fatalf("parseShadowLine(%q) = %+v: bad name or password", line, e)
		}
		back := e.name + ":" + e.password
		for _, d := range days {
			back += ":"
			if d >= 0 {
				back += fmt.Sprint(d)
			}
		}
		back += ":"
		e2, err := parseShadowLine(back)
		if err != nil || e2 != e {
			t.Fatalf("parseShadowLine(%q) = %+v, %v; want %+v (reparsing %q)", back, e2, err, e, line)
		}
		// The aging checks must not overflow or panic on any entry.
		_, _ = ageReason(e, 0)
		_, _ = ageReason(e, 1<<40)
	})
}

// FuzzScanFor checks that a lookup returns only a line that starts with
// the name and a colon.
func FuzzScanFor(f *testing.F) {
	f.Add("alice:x\nbob:y\n", "bob")
	f.Add("+bob:x\n#bob:y\n", "bob")
	f.Add("a\r\nb:\r\n", "b")
	f.Fuzz(func(t *testing.T, file, name string) {
		line, found, err := scanFor(strings.NewReader(file), name)
		if err != nil {
			t.Fatalf("scanFor = %v", err)
		}
		if found && (!strings.HasPrefix(line, name+":") || strings.Contains(line, "\n") || skipLine(line)) {
			t.Fatalf("scanFor(%q, %q) = %q", file, name, line)
		}
	})
}
