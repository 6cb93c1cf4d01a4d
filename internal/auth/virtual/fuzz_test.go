package virtual

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMailRoot checks that a name ValidUsername accepts cannot lead a
// user's mail directory out of the directory the template names: whatever
// the user name, the expanded path stays under the template's fixed part.
func FuzzMailRoot(f *testing.F) {
	templates := []string{"/srv/mail/%u", "/srv/mail/%d/%n", "/srv/mail/%n@%d/Maildir", "/srv/mail/%%/%u"}
	for _, u := range []string{"alice", "alice@example.org", "../root", "a/../../b", "a@..", "a@.", "@", "x@", "-x", ".x", "a\\b", "ä@ö.de", "%u"} {
		for i := range templates {
			f.Add(u, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, user string, which uint8) {
		if ValidUsername(user) != nil {
			return
		}
		tmpl := templates[int(which)%len(templates)]
		base, _, _ := strings.Cut(tmpl, "%")
		base = filepath.Clean(base)
		p, err := mailRoot(user, "", "", tmpl)
		if err != nil {
			t.Fatalf("mailRoot(%q, template %q): %v", user, tmpl, err)
		}
		rel, err := filepath.Rel(base, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("user %q with template %q gets %q, outside %s", user, tmpl, p, base)
		}
	})
}

// FuzzShaSetting checks parseShaSetting (Drepper's SHA-crypt
// specification, "$5$"/"$6$" [rounds=N$] salt): an accepted setting has its
// rounds clamped to 1000..999999999 and a salt of at most 16 octets without
// "$", and writing the parsed setting back gives the same setting.
func FuzzShaSetting(f *testing.F) {
	for _, tt := range shaCryptTests {
		f.Add(tt.hash)
	}
	for _, s := range []string{"$6$", "$5$rounds=$x", "$6$rounds=18446744073709551616$x", "$6$rounds=-1$x", "$6$rounds=10", "$5$$$", "$6$salt$hash$more"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, setting string) {
		st, err := parseShaSetting(setting)
		if err != nil {
			return
		}
		if st.rounds < shaCryptRoundsMin || st.rounds > shaCryptRoundsMax {
			t.Fatalf("parseShaSetting(%q) rounds = %d", setting, st.rounds)
		}
		if len(st.salt) > shaCryptSaltMax || strings.Contains(st.salt, "$") {
			t.Fatalf("parseShaSetting(%q) salt = %q", setting, st.salt)
		}
		again := st.magic
		if st.customRounds {
			again += fmt.Sprintf("rounds=%d$", st.rounds)
		}
		again += st.salt
		st2, err := parseShaSetting(again)
		if err != nil || st2 != st {
			t.Fatalf("parseShaSetting(%q) = %+v; written back %q parses as %+v, %v", setting, st, again, st2, err)
		}
	})
}
