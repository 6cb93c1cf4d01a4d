package migrate

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseDovecotUIDList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "V N uid:name..." or "error"
	}{
		{"3 V1700000000 N9 G0123\n1 :a.host\n2 W352 S340 :b.host,S=340\n", "1700000000 9 1:a.host 2:b.host,S=340"},
		{"3 V5 N2\n7 :x\n", "5 8 7:x"},                                     // N raised past the highest UID
		{"3 V5 N2\r\n1 :x\r\n", "5 2 1:x"},                                 // CRLF
		{"3 V5 N9\n1 :x\n2 :y:2,S\n3 \n4\nz :w\n0 :zero\n", "5 9 1:x 2:y"}, // bad lines skipped, info cut
		{"3 V5 N9\n1 G00 :name with space\n", "5 9 1:name with space"},
		{"1 1234 5\n1 a\n3 b\n", "1234 5 1:a 3:b"}, // version 1
		{"3 N9\n", "error"},
		{"3 Vx N9\n", "error"},
		{"9 V1 N1\n", "error"},
		{"", "error"},
		{"1 1234\n", "error"},
	} {
		ul, err := parseDovecotUIDList([]byte(tc.in))
		got := "error"
		if err == nil {
			got = fmt.Sprintf("%d %d", ul.uidValidity, ul.nextUID)
			for uid := uint32(1); uid < 20; uid++ {
				for n, u := range ul.uids {
					if u == uid {
						got += fmt.Sprintf(" %d:%s", u, n)
					}
				}
			}
		}
		if got != tc.want {
			t.Errorf("parseDovecotUIDList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUIDListLookup(t *testing.T) {
	ul, _ := parseDovecotUIDList([]byte("3 V1 N9\n1 :a.host\n2 :b.host,S=10\n"))
	for _, tc := range []struct {
		base string
		want uint32
	}{{"a.host", 1}, {"a.host,S=5,W=6", 1}, {"b.host,S=10", 2}, {"b.host", 0}, {"c", 0}} {
		if got, _ := ul.lookup(tc.base); got != tc.want {
			t.Errorf("lookup(%q) = %d, want %d", tc.base, got, tc.want)
		}
	}
}

func TestDecodeMUTF7(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Sent", "Sent", true},
		{"Entw&APw-rfe", "Entwürfe", true},
		{"&-", "&", true},
		{"&ZeVnLIqe-", "日本語", true},
		{"&AGE-", "", false}, // encoded ASCII
		{"&APw", "", false},  // unterminated
		{"a\x01", "", false},
		{"&2D0-", "", false}, // lone surrogate
	} {
		got, ok := decodeMUTF7(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("decodeMUTF7(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseDovecotKeywords(t *testing.T) {
	got := parseDovecotKeywords([]byte("0 Work\n1 $Label1\r\n26 TooFar\nx y\n3 \n2 a b\n"))
	if fmt.Sprint(got) != "map[0:Work 1:$Label1]" {
		t.Errorf("parseDovecotKeywords = %v, want map[0:Work 1:$Label1]", got)
	}
}

func FuzzDovecotUIDList(f *testing.F) {
	f.Add([]byte("3 V1700000000 N9 G0123456789abcdef\n1 :a.host\n2 W352 S340 :b.host,S=340\n"))
	f.Add([]byte("1 1234 5\n1 a\n3 b\n"))
	f.Add([]byte("3 V5 N4294967295\n4294967294 :x\n"))
	f.Add([]byte("3 V1 N1\n1 :\n2  :\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ul, err := parseDovecotUIDList(data)
		if err != nil {
			return
		}
		if ul.uidValidity == 0 {
			t.Fatalf("parsed UIDVALIDITY 0 from %q", data)
		}
		for name, uid := range ul.uids {
			if uid == 0 || uid >= ul.nextUID {
				t.Fatalf("UID %d for %q with next UID %d, from %q", uid, name, ul.nextUID, data)
			}
			if name == "" || strings.ContainsAny(name, "/:\x00") {
				t.Fatalf("file name %q from %q", name, data)
			}
		}
	})
}

func FuzzDecodeMUTF7(f *testing.F) {
	for _, s := range []string{"Sent", "Entw&APw-rfe", "&-", "&ZeVnLIqe-", "&AGE-", "&2D0-", "&Jjo-&Jjo-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodeMUTF7(s)
		if ok && !utf8.ValidString(got) {
			t.Fatalf("decodeMUTF7(%q) = %q, not UTF-8", s, got)
		}
	})
}

// FuzzDovecotKeywords checks parseDovecotKeywords: every keyword kept has
// an index Maildir can name (0..25, 'a'..'z') and is one atom, so it can
// become an IMAP keyword (RFC 3501 §2.3.2) and never carries a CR, LF or
// other control into a FLAGS response (testdata/fuzz/FuzzDovecotKeywords/
// crasher-cr-in-keyword: "0 0\r0" kept "0\r0").
func FuzzDovecotKeywords(f *testing.F) {
	f.Add([]byte("0 Work\n1 $Label1\n"))
	f.Add([]byte("26 x\n-1 y\n0  \n0 a b\r\n3 \x00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, name := range parseDovecotKeywords(data) {
			bad := strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f })
			if i < 0 || i >= 26 || name == "" || bad || strings.HasPrefix(name, `\`) {
				t.Fatalf("keyword %d %q from %q", i, name, data)
			}
		}
	})
}
