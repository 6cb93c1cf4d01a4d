package maildir

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

func TestInfoRoundTrip(t *testing.T) {
	names := map[int]string{0: "Work", 1: "Home"}
	idx := func(k string) int {
		for i, n := range names {
			if n == k {
				return i
			}
		}
		return -1
	}
	tests := []struct {
		flags []string
		info  string
	}{
		{nil, ":2,"},
		{[]string{`\Seen`}, ":2,S"},
		{[]string{`\Answered`, `\Deleted`, `\Draft`, `\Flagged`, `\Seen`}, ":2,DFRST"},
		{[]string{"$Forwarded", `\Seen`}, ":2,PS"},
		{[]string{"Home", "Work", `\Flagged`}, ":2,Fab"},
	}
	for _, tt := range tests {
		sys, kws := splitFlags(tt.flags)
		if got := infoFor(sys, kws, idx); got != tt.info {
			t.Errorf("infoFor(%q) = %q, want %q", tt.flags, got, tt.info)
		}
		psys, pkws := parseInfo(tt.info, func(i int) string { return names[i] })
		slices.Sort(pkws)
		if got := joinFlags(psys, strings.Join(pkws, " ")); !slices.Equal(got, tt.flags) && len(got)+len(tt.flags) > 0 {
			t.Errorf("parseInfo(%q) = %q, want %q", tt.info, got, tt.flags)
		}
	}
	// Unknown letters and other info versions carry no flags.
	for _, info := range []string{":1,S", ":2,z", "", ":2,X"} {
		if sys, kws := parseInfo(info, func(int) string { return "" }); sys != 0 || len(kws) != 0 {
			t.Errorf("parseInfo(%q) = %d, %q, want none", info, sys, kws)
		}
	}
}

func TestParseUIDList(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		uv, nxt uint32
		special string
		uids    map[string]uint32
	}{
		{"postern-uidlist 1 77 5 -\n1 a\n3 b\n", true, 77, 5, "", map[string]uint32{"a": 1, "b": 3}},
		{"postern-uidlist 1 77 2 \\Sent\n9 a\n4 a\ntorn", true, 77, 10, `\Sent`, map[string]uint32{"a": 4}},
		{"postern-uidlist 1 0 2 -\n", false, 0, 0, "", nil},
		{"garbage\n", false, 0, 0, "", nil},
		{"", false, 0, 0, "", nil},
	}
	for _, tt := range tests {
		ul, ok := parseUIDList([]byte(tt.in))
		if ok != tt.ok {
			t.Errorf("parseUIDList(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if ul.uidValidity != tt.uv || ul.uidNext != tt.nxt || ul.specialUse != tt.special || len(ul.uids) != len(tt.uids) {
			t.Errorf("parseUIDList(%q) = %+v, want %d %d %q %v", tt.in, ul, tt.uv, tt.nxt, tt.special, tt.uids)
		}
		for b, u := range tt.uids {
			if ul.uids[b] != u {
				t.Errorf("parseUIDList(%q)[%q] = %d, want %d", tt.in, b, ul.uids[b], u)
			}
		}
	}
}

func TestParsePacked(t *testing.T) {
	got, err := parsePacked("1 5 1 \n2 6 0 $Forwarded Work\n10 7 9 ")
	if err != nil || len(got) != 3 || got[1].UID != 2 || got[1].ModSeq != 6 ||
		!slices.Equal(got[1].Flags, []string{"$Forwarded", "Work"}) ||
		!slices.Equal(got[2].Flags, []string{`\Deleted`, `\Seen`}) {
		t.Errorf("parsePacked = %+v, %v", got, err)
	}
	for _, bad := range []string{"x 1 1 ", "1 2", "1 2 3"} {
		if _, err := parsePacked(bad); err == nil {
			t.Errorf("parsePacked(%q) = nil error, want one", bad)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	for _, s := range []string{":2,DFPRST", ":2,abz", ":1,x", "", ":2,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, info string) {
		sys, kws := parseInfo(info, func(i int) string { return "k" + string(rune('a'+i)) })
		slices.Sort(kws)
		kws = slices.Compact(kws)
		idx := func(k string) int { return int(k[1] - 'a') }
		again := infoFor(sys, strings.Join(kws, " "), idx)
		sys2, kws2 := parseInfo(again, func(i int) string { return "k" + string(rune('a'+i)) })
		slices.Sort(kws2)
		if sys2 != sys || !slices.Equal(kws, kws2) {
			t.Errorf("parseInfo(infoFor(parseInfo(%q))) = %d %q, want %d %q", info, sys2, kws2, sys, kws)
		}
	})
}

func FuzzFolderName(f *testing.F) {
	for _, s := range []string{"a/b", "v1.2", "100%", ".%2E", "INBOX/x", "..", "a//b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		cn, err := mailstore.CanonicalName(name)
		if err != nil || cn == "INBOX" {
			return
		}
		d, err := folderName(cn)
		if err != nil {
			return
		}
		if strings.ContainsAny(d, "/\x00") || d == "." || d == ".." || !strings.HasPrefix(d, ".") {
			t.Fatalf("folderName(%q) = %q: not one safe path element", cn, d)
		}
		if back, ok := nameOfFolder(d); !ok || back != cn {
			t.Errorf("nameOfFolder(folderName(%q)) = %q, %v", cn, back, ok)
		}
	})
}

func FuzzNameOfFolder(f *testing.F) {
	for _, s := range []string{".a.b", ".%2E", ".%", ".%zz", "..", ".", ".INBOX", ".a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dir string) {
		name, ok := nameOfFolder(dir)
		if !ok {
			return
		}
		if d, err := folderName(name); err != nil || d != dir {
			t.Errorf("folderName(nameOfFolder(%q)) = %q, %v", dir, d, err)
		}
	})
}

func FuzzParseUIDList(f *testing.F) {
	f.Add([]byte("postern-uidlist 1 77 5 -\n1 a\n3 b\n"))
	f.Add([]byte("postern-uidlist 1 77 5 \\Sent\n4294967295 x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ul, ok := parseUIDList(data)
		if !ok {
			return
		}
		for b, u := range ul.uids {
			if u == 0 || u >= ul.uidNext && ul.uidNext != 0 {
				t.Errorf("uid %d for %q not below UIDNEXT %d", u, b, ul.uidNext)
			}
		}
	})
}

// FuzzParseKeywords checks that every keyword read back from a (possibly
// hand-edited) keyword file has a letter index and is an atom, never
// carrying a control, NUL or space into FLAGS responses.
func FuzzParseKeywords(f *testing.F) {
	f.Add([]byte("0 Work\n1 $Label1\n"))
	f.Add([]byte("0 a\x00b\n1 x\ry\n26 z\n-1 w\n2 \\Seen\n3 (x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, name := range parseKeywords(data) {
			bad := strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f })
			if i < 0 || i >= 26 || name == "" || bad || strings.HasPrefix(name, `\`) {
				t.Fatalf("keyword %d %q from %q", i, name, data)
			}
		}
	})
}

// FuzzUIDListMax checks the gate of the lost-commit check (lostcommits.go)
// against the parser: every UID parseUIDList takes from a uidlist is at
// most uidListMax, so no UID a client was given is missed, whatever the
// lines' spacing or damage.
func FuzzUIDListMax(f *testing.F) {
	f.Add([]byte("postern-uidlist 1 77 5 -\n1 a\n3 b\n"))
	f.Add([]byte("postern-uidlist 1 77 5 -\n\t9\tb\r\n 12  c\n7 d e\n"))
	f.Add([]byte("postern-uidlist 1 77 5 -\n4294967295 x\n4294967294 y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		highest := uidListMax(data)
		ul, ok := parseUIDList(data)
		if !ok {
			return
		}
		for b, u := range ul.uids {
			if u > highest {
				t.Errorf("UID %d for %q above uidListMax %d", u, b, highest)
			}
		}
	})
}

// FuzzTwoFields checks the uidlist line splitter against bytes.Fields,
// whose semantics it keeps without allocating.
func FuzzTwoFields(f *testing.F) {
	for _, s := range []string{"1 a", " 1\ta \r", "1", "1 a b", "\u00a01\u2003a", "1\x85a", "\xff 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		a, b, ok := twoFields(line)
		want := bytes.Fields(line)
		if ok != (len(want) == 2) || ok && (!bytes.Equal(a, want[0]) || !bytes.Equal(b, want[1])) {
			t.Errorf("twoFields(%q) = %q, %q, %v; bytes.Fields = %q", line, a, b, ok, want)
		}
	})
}
