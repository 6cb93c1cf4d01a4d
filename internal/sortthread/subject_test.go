package sortthread

import "testing"

// The subject rules of RFC 5256 §2.1 and §5, case by case. RFC 5256 gives
// no worked subject examples, so each case names the rule it exercises;
// "behaviour of" cases match what Dovecot and Cyrus do for common list
// and client artifacts.
func TestBaseSubject(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		reply bool
	}{
		{"", "", false},
		{"foo", "foo", false},
		{"  foo \t  bar  ", "foo bar", false},         // (1) whitespace
		{"foo\r\n bar", "foo bar", false},             // (1) continuation
		{"Re: foo", "foo", true},                      // (3) subj-refwd
		{"RE: foo", "foo", true},                      // ABNF literals ignore case
		{"re:foo", "foo", true},                       // no space needed
		{"Re: Re: RE: foo", "foo", true},              // (5) repeat
		{"re:re:re: x", "x", true},                    // (5) repeat, no spaces
		{"Re[2]: foo", "foo", true},                   // subj-blob before ":"
		{"Re [2]: foo", "foo", true},                  // *WSP before the blob
		{"Re : foo", "foo", true},                     // *WSP before ":"
		{"Fw: foo", "foo", true},                      // "fw"
		{"Fwd: foo", "foo", true},                     // "fw" "d"
		{"FWD : foo", "foo", true},                    // "fwd" *WSP ":"
		{"foo (fwd)", "foo", true},                    // (2) subj-trailer
		{"foo(fwd)", "foo", true},                     // (2) no space needed
		{"foo (FWD) (fwd)  ", "foo", true},            // (2) repeat
		{"[list] foo", "foo", false},                  // (4) leading blob
		{"[list] Re: foo", "foo", true},               // (3) *subj-blob subj-refwd: list tag
		{"[PATCH v2] [list] Re: foo", "foo", true},    // (3) two blobs then refwd
		{"Re: [list] foo", "foo", true},               // (3) then (4)
		{"Re: [list] Re: foo", "foo", true},           // behaviour of Dovecot/Cyrus: list tag inside a reply
		{"[list]", "[list]", false},                   // (4) blob kept when nothing else
		{"Re: [list]", "[list]", true},                // (4) same after a refwd
		{"[a] [b]", "[b]", false},                     // (4) last blob is the base
		{"[a][b] c", "c", false},                      // (4) repeated
		{"[fwd: foo]", "foo", true},                   // (6) subj-fwd
		{"[FWD: foo]", "foo", true},                   // (6) ignores case
		{"Re: [fwd: Re: foo (fwd)]", "foo", true},     // (6) then (2)-(5) again
		{"Fwd: [fwd: [fwd: foo]] (fwd)", "foo", true}, // nested wrappers
		{"[fwd: ]", "", true},                         // (6) empties it
		{"[fwd: foo", "[fwd: foo", false},             // no trailer: not a wrapper
		{"Re:", "", true},                             // nothing left
		{"Ref: foo", "Ref: foo", false},               // "re" must be followed by WSP, blob or ":"
		{"Re foo", "Re foo", false},                   // no colon
		{"Re[: x", "Re[: x", false},                   // unclosed blob
		{"Fwdx: foo", "Fwdx: foo", false},             // not a refwd
		{"Reply: foo", "Reply: foo", false},           // not a refwd
		{"Aw: foo", "Aw: foo", false},                 // translations are not removed (§7)
		{"foo (fwd) bar", "foo (fwd) bar", false},     // only a trailing "(fwd)"
		{"=?UTF-8?Q?Re:_caf=C3=A9?=", "café", true},   // (1) decoded first
		{"Re: =?UTF-8?B?w6l0w6k=?=", "été", true},     // encoded base
		{"=?ISO-8859-1?Q?=5Bliste=5D_Re=3A_=E9t=E9?=", "été", true},
		{"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab", false},              // RFC 2047 §6.2 adjacent words
		{"=?x-unknown?Q?Re:_a?=", "=?x-unknown?Q?Re:_a?=", false}, // unknown charset kept
	}
	for _, tt := range tests {
		got, reply := baseSubject(tt.in)
		if got != tt.want || reply != tt.reply {
			t.Errorf("baseSubject(%q) = %q, %v, want %q, %v", tt.in, got, reply, tt.want, tt.reply)
		}
		if got := BaseSubject(tt.in); got != tt.want {
			t.Errorf("BaseSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCollate(t *testing.T) {
	equal := [][2]string{
		{"abc", "ABC"},
		{"café", "CAFÉ"},
		{"é", "e\u0301"},         // NFKD
		{"\u01c6", "\u01c4"},     // dž and DŽ both titlecase to Dž
		{"ß", "ß"},               // no titlecase change (not folded to SS)
		{"\xff\xfe", "\xff\xfe"}, // invalid UTF-8 kept
	}
	for _, p := range equal {
		if a, b := Collate(p[0]), Collate(p[1]); a != b {
			t.Errorf("Collate(%q) = %q, Collate(%q) = %q, want equal", p[0], a, p[1], b)
		}
	}
	less := [][2]string{
		{"", "a"}, // the empty string collates first (RFC 5256 §3)
		{"a", "B"},
		{"B", "c"},
		{"Eve", "Émile"}, // É is E + U+0301, which follows "V"
		{"é", "z"},       // é sorts with e
	}
	for _, p := range less {
		if a, b := Collate(p[0]), Collate(p[1]); a >= b {
			t.Errorf("Collate(%q) = %q, Collate(%q) = %q, want the first less", p[0], a, p[1], b)
		}
	}
}
