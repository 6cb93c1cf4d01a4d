package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// The hostile table (see hostile_test.go). Each helper builds one row;
// the families follow issue 8 item 2's list.

// ic is an IMAP row whose tagged answers are all tagged "x".
func ic(name string, st hostileState, send string, fate hostileFate, want ...string) hostileCase {
	return hostileCase{name: "imap/" + name, state: st, send: []byte(send), fate: fate, want: want}
}

// pc is a POP3 row.
func pc(name string, st hostileState, send string, fate hostileFate, want ...string) hostileCase {
	return hostileCase{name: "pop3/" + name, pop: true, state: st, send: []byte(send), fate: fate, want: want}
}

// withReason sets the row's reason pattern.
func (tc hostileCase) withReason(re string) hostileCase { tc.reason = re; return tc }

// withCheck sets the row's extra check.
func (tc hostileCase) withCheck(f func(string) error) hostileCase { tc.check = f; return tc }

// times is want repeated n times.
func times(n int, class string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = class
	}
	return out
}

// contains is a check that out contains each of subs.
func contains(subs ...string) func(string) error {
	return func(out string) error {
		for _, s := range subs {
			if !strings.Contains(out, s) {
				return fmt.Errorf("output lacks %q", s)
			}
		}
		return nil
	}
}

// lacks is a check that out contains none of subs.
func lacks(subs ...string) func(string) error {
	return func(out string) error {
		for _, s := range subs {
			if strings.Contains(out, s) {
				return fmt.Errorf("output has %q", s)
			}
		}
		return nil
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func hostileCases() []hostileCase {
	var cs []hostileCase
	cs = append(cs, imapStateCases()...)
	cs = append(cs, imapSeqSetCases()...)
	cs = append(cs, imapSearchCases()...)
	cs = append(cs, imapFetchCases()...)
	cs = append(cs, imapLiteralCases()...)
	cs = append(cs, imapByteCases()...)
	cs = append(cs, imapMailboxCases()...)
	cs = append(cs, imapFloodCases()...)
	cs = append(cs, imapIdleCases()...)
	cs = append(cs, imapCompressCases()...)
	cs = append(cs, imapAuthCases()...)
	cs = append(cs, imapStartTLSCases()...)
	cs = append(cs, pop3Cases()...)
	return cs
}

// imapStateCases: commands in the wrong state (RFC 3501 §6, RFC 9051 §6)
// get a tagged BAD and leave the connection usable.
func imapStateCases() []hostileCase {
	var cs []hostileCase
	beforeLogin := []string{
		"SELECT INBOX", "EXAMINE INBOX", "CREATE x", "DELETE x", "RENAME x y",
		"SUBSCRIBE x", "UNSUBSCRIBE x", `LIST "" *`, `LSUB "" *`, "STATUS INBOX (MESSAGES)",
		"IDLE", "NAMESPACE", "ENABLE CONDSTORE", "GETQUOTAROOT INBOX", `GETQUOTA ""`,
		"FETCH 1 FLAGS", `STORE 1 +FLAGS (\Flagged)`, "SEARCH ALL", "COPY 1 INBOX", "MOVE 1 INBOX",
		"EXPUNGE", "CLOSE", "UNSELECT", "UID FETCH 1 FLAGS", "CHECK",
		"SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL", "COMPRESS DEFLATE",
	}
	for _, c := range beforeLogin {
		cs = append(cs, ic("before login/"+c, stGreeted, "x "+c+"\r\n", fateOpen, "BAD"))
	}
	cs = append(cs, ic("before login/APPEND with LITERAL+", stGreeted, "x APPEND INBOX {5+}\r\nhello\r\n", fateOpen, "BAD"))
	notSelected := []string{
		"FETCH 1 FLAGS", `STORE 1 +FLAGS (\Flagged)`, "SEARCH ALL", "COPY 1 Trash", "MOVE 1 Trash",
		"EXPUNGE", "CLOSE", "UID FETCH 1 FLAGS", `UID STORE 1 +FLAGS (\Flagged)`, "UID SEARCH ALL",
		"UID EXPUNGE 1", "UID COPY 1 Trash", "UID MOVE 1 Trash", "CHECK",
		"SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL",
	}
	for _, c := range notSelected {
		cs = append(cs, ic("not selected/"+c, stLoggedIn, "x "+c+"\r\n", fateOpen, "BAD"))
	}
	for _, c := range []string{"LOGIN demo demo", "AUTHENTICATE PLAIN " + b64("\x00demo\x00demo"), "STARTTLS"} {
		cs = append(cs, ic("after login/"+strings.Fields(c)[0], stLoggedIn, "x "+c+"\r\n", fateOpen, "BAD"))
	}
	cs = append(cs,
		ic("unknown command", stSelected, "x XYZZY\r\n", fateOpen, "BAD"),
		ic("unknown UID command", stSelected, "x UID XYZZY 1\r\n", fateOpen, "BAD"),
		ic("three BADs before login close", stGreeted, "x FOO\r\nx BAR\r\nx BAZ\r\nx NOOP\r\n", fateClosed, "BAD", "BAD", "BAD", "BYE"),
		ic("LOGOUT then more commands", stLoggedIn, "x LOGOUT\r\nx NOOP\r\nx SELECT INBOX\r\n", fateClosed, "BYE", "OK"),
	)
	return cs
}

// imapSeqSetCases: sequence sets (RFC 3501 §9 sequence-set; numbers are
// 32-bit, 0 is not one, "*" is the largest in use).
func imapSeqSetCases() []hostileCase {
	var cs []hostileCase
	for _, c := range []struct{ set, want string }{
		{"1:4294967295", "BAD"}, {"4294967295", "BAD"}, {"4294967296", "BAD"}, {"0", "BAD"},
		{"0:*", "BAD"}, {"*:*", "OK"}, {"*:1", "OK"}, {"5:1", "OK"}, {"-1", "BAD"}, {"1:", "BAD"},
		{":1", "BAD"}, {"1,,2", "BAD"}, {"1:2:3", "BAD"}, {"1,", "BAD"}, {",1", "BAD"}, {"a", "BAD"},
		{"99999999999999999999", "BAD"}, {"1:*,*:1,1:*,2:3,3:2", "OK"}, {"$", "OK"},
		{seqList(5) + "," + seqList(5) + "," + seqList(5), "OK"},
		{seqList(10000), "BAD"}, {rep("1:*,", 10000) + "1", "OK"},
	} {
		name := c.set
		if len(name) > 40 {
			name = fmt.Sprintf("%s...(%d octets)", name[:20], len(c.set))
		}
		cs = append(cs, ic("FETCH set/"+name, stSelected, "x FETCH "+c.set+" FLAGS\r\n", fateOpen, c.want))
	}
	for _, c := range []struct{ set, want string }{
		{"1:4294967295", "OK"}, {"4294967295", "OK"}, {"4294967296", "BAD"}, {"0", "BAD"},
		{"0:*", "BAD"}, {seqList(10000), "OK"}, {rep("4294967295:1,", 5000) + "1", "OK"},
	} {
		name := c.set
		if len(name) > 40 {
			name = fmt.Sprintf("%s...(%d octets)", name[:20], len(c.set))
		}
		cs = append(cs, ic("UID FETCH set/"+name, stSelected, "x UID FETCH "+c.set+" FLAGS\r\n", fateOpen, c.want))
	}
	cs = append(cs,
		ic("STORE 1:4294967295", stSelected, "x STORE 1:4294967295 +FLAGS (\\Flagged)\r\n", fateOpen, "BAD"),
		ic("COPY 1:4294967295", stSelected, "x COPY 1:4294967295 Trash\r\n", fateOpen, "BAD"),
		ic("MOVE 4294967296", stSelected, "x MOVE 4294967296 Trash\r\n", fateOpen, "BAD"),
		ic("UID STORE 1:4294967295", stSelected, "x UID STORE 1:4294967295 -FLAGS (\\Flagged)\r\n", fateOpen, "OK"),
		ic("UID COPY 4294967295", stSelected, "x UID COPY 4294967295 Trash\r\n", fateOpen, "OK"),
		ic("UID MOVE 4294967295:4294967294", stSelected, "x UID MOVE 4294967295:4294967294 Trash\r\n", fateOpen, "OK"),
		ic("UID EXPUNGE 4294967295", stSelected, "x UID EXPUNGE 4294967295\r\n", fateOpen, "OK"),
		ic("SEARCH 1:4294967295", stSelected, "x SEARCH 1:4294967295\r\n", fateOpen, "OK").withCheck(contains("* SEARCH 1 2 3 4 5\r\n")),
		ic("SEARCH UID 1:4294967295", stSelected, "x SEARCH UID 1:4294967295\r\n", fateOpen, "OK").withCheck(contains("* SEARCH 1 2 3 4 5\r\n")),
	)
	return cs
}

// imapSearchCases: SEARCH programs (RFC 3501 §6.4.4) too large, too deep
// or malformed get BAD, a [LIMIT] one when a limit is hit.
func imapSearchCases() []hostileCase {
	var cs []hostileCase
	s := func(name, prog, want string) hostileCase {
		return ic("SEARCH/"+name, stSelected, "x SEARCH "+prog+"\r\n", fateOpen, want)
	}
	cs = append(cs,
		s("3000 ORs", rep("OR ALL ", 3000)+"ALL", "BAD").withReason(`\[LIMIT\]`),
		s("5000 NOTs", rep("NOT ", 5000)+"ALL", "BAD").withReason(`\[LIMIT\]`),
		s("100 nested parentheses", rep("(", 100)+"ALL"+rep(")", 100), "BAD").withReason(`\[LIMIT\]`),
		s("1001 keys", strings.TrimSpace(rep("ALL ", 1001)), "BAD").withReason(`\[LIMIT\]`),
		s("999 keys", strings.TrimSpace(rep("ALL ", 999)), "OK"),
		s("4 NOTs", "NOT NOT NOT NOT ALL", "OK"),
		s("unbalanced parenthesis", "(ALL", "BAD"),
		s("stray close parenthesis", "ALL)", "BAD"),
		s("empty parentheses", "()", "BAD"),
		s("unknown key", "XYZZY", "BAD"),
		s("OR missing operand", "OR ALL", "BAD"),
		s("NOT missing operand", "NOT", "BAD"),
		s("unknown charset", "CHARSET XYZZY ALL", "NO").withReason(`\[BADCHARSET`),
		s("bad date", "BEFORE 99-Foo-9999", "BAD"),
		s("date with 8-bit", "SINCE 1-J\xe4n-2020", "BAD"),
		s("huge LARGER", "LARGER 99999999999999999999", "BAD"),
		s("LARGER 4294967295", "LARGER 4294967295", "OK"),
		s("SMALLER 0", "SMALLER 0", "OK"),
		s("huge MODSEQ", "MODSEQ 18446744073709551616", "BAD"),
		s("huge YOUNGER", "YOUNGER 99999999999999999999", "BAD"),
		s("UID huge list", "UID "+seqList(10000), "OK"),
		s("saved result with none saved", "$", "OK"),
		s("unknown RETURN option", "RETURN (XYZZY) ALL", "BAD"),
		s("KEYWORD with backslash", `KEYWORD \Seen`, "BAD"),
		s("HEADER with 8-bit name", "HEADER \xff\xfe x", "BAD"),
		s("TEXT with invalid UTF-8", "CHARSET UTF-8 TEXT \"\xff\xfe\"", "OK"),
		s("TEXT with NUL", "TEXT \"a\x00b\"", "BAD"),
		s("TEXT oversized literal", "TEXT {70000+}\r\n"+rep("a", 70000), "BAD").withReason(`\[TOOBIG\]`),
		s("literals past the command total", strings.TrimSuffix(rep("TEXT {60000+}\r\n"+rep("a", 60000)+" ", 5), " "), "BAD"),
		s("empty program", "", "BAD"),
	)
	cs = append(cs,
		ic("SORT/unknown criterion", stSelected, "x SORT (XYZZY) UTF-8 ALL\r\n", fateOpen, "BAD"),
		ic("SORT/empty criteria", stSelected, "x SORT () UTF-8 ALL\r\n", fateOpen, "BAD"),
		ic("SORT/double REVERSE", stSelected, "x SORT (REVERSE REVERSE DATE) UTF-8 ALL\r\n", fateOpen, "BAD"),
		ic("SORT/unknown charset", stSelected, "x SORT (DATE) XYZZY ALL\r\n", fateOpen, "NO"),
		ic("SORT/5000 criteria", stSelected, "x SORT ("+strings.TrimSpace(rep("DATE ", 5000))+") UTF-8 ALL\r\n", fateOpen, "OK"),
		ic("THREAD/unknown algorithm", stSelected, "x THREAD XYZZY UTF-8 ALL\r\n", fateOpen, "BAD"),
		ic("THREAD/3000 ORs", stSelected, "x THREAD REFERENCES UTF-8 "+rep("OR ALL ", 3000)+"ALL\r\n", fateOpen, "BAD"),
	)
	return cs
}

// imapFetchCases: FETCH items (RFC 3501 §6.4.5, RFC 3516 BINARY).
func imapFetchCases() []hostileCase {
	var cs []hostileCase
	f := func(name, items, want string) hostileCase {
		return ic("FETCH/"+name, stSelected, "x FETCH 1 "+items+"\r\n", fateOpen, want)
	}
	deep := strings.TrimSuffix(rep("1.", 100), ".")
	var distinct []string
	for i := 1; i <= 100; i++ {
		distinct = append(distinct, fmt.Sprint(i))
	}
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "X-H%d", i)
		}
		return b.String()
	}
	cs = append(cs,
		f("BODY 100 levels deep", "BODY["+deep+"]", "OK"),
		f("BODY 1.2.3...100", "BODY["+strings.Join(distinct, ".")+"]", "OK"),
		f("BODY.PEEK 100 levels MIME", "BODY.PEEK["+deep+".MIME]", "OK"),
		f("BINARY 100 levels deep", "BINARY.PEEK["+deep+"]", "OK"),
		f("BINARY.SIZE 100 levels deep", "BINARY.SIZE["+deep+"]", "OK"),
		f("BODY 100 levels HEADER.FIELDS", "BODY.PEEK["+deep+".HEADER.FIELDS (Subject)]", "OK"),
		f("partial past the end", "BODY.PEEK[]<4294967295.4294967295>", "OK"),
		f("partial at 1 MB", "BODY.PEEK[1]<1000000.1000000>", "OK"),
		f("partial offset 2^32", "BODY.PEEK[]<4294967296.1>", "BAD"),
		f("partial length 2^32", "BODY.PEEK[]<0.4294967296>", "BAD"),
		f("partial length 0", "BODY.PEEK[]<0.0>", "BAD"),
		f("partial negative", "BODY.PEEK[]<-1.5>", "BAD"),
		f("partial 20 digits", "BODY.PEEK[]<99999999999999999999.1>", "BAD"),
		f("partial no length", "BODY.PEEK[]<0>", "BAD"),
		f("partial unterminated", "BODY.PEEK[]<0.10", "BAD"),
		f("section 0", "BODY[0]", "BAD"),
		f("section 0.1", "BODY[0.1]", "BAD"),
		f("section 1.0", "BODY[1.0]", "BAD"),
		f("section 2^32", "BODY[4294967296]", "BAD"),
		f("section 2^32-1", "BODY.PEEK[4294967295]", "BAD"),
		f("section unknown", "BODY[XYZZY]", "BAD"),
		f("section TEXT.MIME", "BODY[TEXT.MIME]", "BAD"),
		f("section unterminated", "BODY[", "BAD"),
		f("HEADER.FIELDS empty", "BODY[HEADER.FIELDS ()]", "BAD"),
		f("HEADER.FIELDS 5000 names", "BODY.PEEK[HEADER.FIELDS ("+fields(5000)+")]", "BAD"),
		f("HEADER.FIELDS 900 names", "BODY.PEEK[HEADER.FIELDS ("+fields(900)+")]", "OK"),
		f("HEADER.FIELDS 8-bit name", "BODY.PEEK[HEADER.FIELDS (\xff\xfe)]", "BAD"),
		f("1001 items", "("+strings.TrimSpace(rep("FLAGS ", 1001))+")", "BAD"),
		f("nested item list", "((FLAGS))", "BAD"),
		f("empty item list", "()", "BAD"),
		f("unknown item", "XYZZY", "BAD"),
		f("huge CHANGEDSINCE", "(FLAGS) (CHANGEDSINCE 18446744073709551616)", "BAD"),
		f("VANISHED without QRESYNC", "(FLAGS) (CHANGEDSINCE 1 VANISHED)", "BAD"),
		f("unknown modifier", "(FLAGS) (XYZZY)", "BAD"),
		f("BINARY of a bad encoding", "BINARY.PEEK[1]<0.10>", "OK"),
		ic("FETCH/all bodies whole", stSelected, "x UID FETCH 1:* (BODY.PEEK[]<0.4294967295> BINARY.PEEK[] BODYSTRUCTURE ENVELOPE)\r\n", fateOpen, "OK"),
	)
	return cs
}

// imapLiteralCases: oversized and lying literals (RFC 3501 §4.3, RFC 7888
// LITERAL+, RFC 3516 literal8; DESIGN.md §6: a refused synchronizing
// literal is not read, a refused non-synchronizing one is read and
// discarded, or the connection closed when it is too big to discard).
func imapLiteralCases() []hostileCase {
	return []hostileCase{
		ic("literal/sync 4 GiB", stGreeted, "x LOGIN {4294967295}\r\n", fateOpen, "BAD").withReason(`\[TOOBIG\]`),
		ic("literal/sync 2^32", stGreeted, "x LOGIN {4294967296}\r\n", fateOpen, "BAD"),
		ic("literal/sync 20 digits", stGreeted, "x LOGIN {99999999999999999999}\r\n", fateOpen, "BAD"),
		ic("literal/sync just too big", stGreeted, "x LOGIN {65537}\r\n", fateOpen, "BAD").withReason(`\[TOOBIG\]`),
		ic("literal/non-sync too big is discarded", stGreeted, "x LOGIN {70000+}\r\n"+rep("x", 70000)+" demo\r\n", fateOpen, "BAD").withReason(`\[TOOBIG\]`),
		ic("literal/non-sync 4 GiB closes", stGreeted, "x LOGIN {4294967295+}\r\nabc", fateClosed, "BYE"),
		ic("literal/negative", stGreeted, "x LOGIN {-1}\r\n", fateOpen, "BAD"),
		ic("literal/not a number", stGreeted, "x LOGIN {abc}\r\n", fateOpen, "BAD"),
		ic("literal/empty size", stGreeted, "x LOGIN {}\r\n", fateOpen, "BAD"),
		ic("literal/unterminated size", stGreeted, "x LOGIN {5\r\n", fateOpen, "BAD"),
		ic("literal/plus without brace", stGreeted, "x LOGIN {5+\r\n", fateOpen, "BAD"),
		ic("literal/text after size", stGreeted, "x LOGIN {4}demo demo\r\n", fateOpen, "BAD"),
		ic("literal/literal8 outside APPEND", stGreeted, "x LOGIN ~{4+}\r\ndemo demo\r\n", fateOpen, "BAD"),
		ic("literal/as tag", stGreeted, "{4+}\r\nabcd NOOP\r\n", fateOpen, "*BAD"),
		ic("literal/as command", stGreeted, "x {4+}\r\nNOOP\r\n", fateOpen, "BAD"),
		ic("literal/longer than declared", stGreeted, "x LOGIN {2+}\r\ndemo demo\r\n", fateOpen, "BAD"),
		ic("literal/sync then hang up", stGreeted, "x LOGIN {5}\r\n", fateHangup),
		ic("literal/sync partly sent then hang up", stGreeted, "x LOGIN {5}\r\nde", fateHangup),
		ic("literal/non-sync partly sent then hang up", stGreeted, "x LOGIN {50000+}\r\n"+rep("d", 20000), fateHangup),
		ic("literal/APPEND partly sent then hang up", stLoggedIn, "x APPEND INBOX {1000+}\r\nSubject: cut\r\n\r\n", fateHangup),
		ic("literal/APPEND size then hang up", stLoggedIn, "x APPEND INBOX {60000000}\r\n", fateHangup),
		ic("literal/APPEND 4 GiB sync", stLoggedIn, "x APPEND INBOX {4294967295}\r\n", fateOpen, "NO").withReason(`\[TOOBIG\]`),
		ic("literal/APPEND just over the limit", stLoggedIn, "x APPEND INBOX {67108865}\r\n", fateOpen, "NO").withReason(`\[TOOBIG\]`),
		ic("literal/APPEND 4 GiB literal8 non-sync", stLoggedIn, "x APPEND INBOX ~{4294967295+}\r\nabc", fateClosed, "BYE").withReason(`\[TOOBIG\]`),
		ic("literal/APPEND 20 digits", stLoggedIn, "x APPEND INBOX {99999999999999999999}\r\n", fateOpen, "BAD"),
		ic("literal/APPEND NUL in literal", stLoggedIn, "x APPEND Trash {5+}\r\nab\x00cd\r\n", fateOpen, "BAD"),
		ic("literal/APPEND NUL in literal8", stLoggedIn, "x APPEND Trash ~{5+}\r\nab\x00cd\r\n", fateOpen, "OK"),
		ic("literal/APPEND bad date", stLoggedIn, "x APPEND Trash (\\Seen) \"garbage\" {3+}\r\nabc\r\n", fateOpen, "BAD"),
		ic("literal/APPEND 300 flags", stLoggedIn, "x APPEND Trash ("+strings.TrimSpace(rep("$k ", 300))+") {3+}\r\nabc\r\n", fateOpen, "BAD").withReason(`\[LIMIT\]`),
		ic("literal/APPEND no literal", stLoggedIn, "x APPEND Trash \"abc\"\r\n", fateOpen, "BAD"),
		ic("literal/CREATE NUL in literal", stLoggedIn, "x CREATE {3+}\r\na\x00b\r\n", fateOpen, "BAD"),
		ic("literal/LIST NULs in literal", stLoggedIn, "x LIST \"\" {3+}\r\n\x00\x00\x00\r\n", fateOpen, "BAD"),
		ic("literal/MULTIAPPEND second too big", stLoggedIn, "x APPEND Trash {3+}\r\nabc ~{4294967295+}\r\nab", fateClosed, "BYE"),
		ic("literal/CATENATE huge URL literal", stLoggedIn, "x APPEND Trash CATENATE (TEXT {70000+}\r\n"+rep("a", 70000)+")\r\n", fateOpen, "OK"),
	}
}

// imapByteCases: NUL, 8-bit and stray control bytes everywhere.
func imapByteCases() []hostileCase {
	return []hostileCase{
		ic("bytes/NULs alone", stGreeted, "\x00\x00\x00\r\n", fateOpen, "*BAD"),
		ic("bytes/8-bit alone", stGreeted, "\xff\xfe\r\n", fateOpen, "*BAD"),
		ic("bytes/empty line", stGreeted, "\r\n", fateOpen, "*BAD"),
		ic("bytes/spaces only", stGreeted, "   \r\n", fateOpen, "*BAD"),
		ic("bytes/tag only", stGreeted, "x\r\n", fateOpen, "BAD"),
		ic("bytes/tag and space", stGreeted, "x \r\n", fateOpen, "BAD"),
		ic("bytes/NUL in tag", stGreeted, "x\x00 NOOP\r\n", fateOpen, "BAD"),
		ic("bytes/NUL in command", stGreeted, "x NO\x00OP\r\n", fateOpen, "BAD"),
		ic("bytes/NUL after command", stGreeted, "x NOOP\x00\r\n", fateOpen, "BAD"),
		ic("bytes/8-bit in tag", stGreeted, "x\xff NOOP\r\n", fateOpen, "BAD"),
		ic("bytes/8-bit in command", stGreeted, "x N\xffOOP\r\n", fateOpen, "BAD"),
		ic("bytes/NUL in LOGIN atom", stGreeted, "x LOGIN demo\x00 demo\r\n", fateOpen, "BAD"),
		ic("bytes/NUL in LOGIN quoted", stGreeted, "x LOGIN demo \"de\x00mo\"\r\n", fateOpen, "BAD"),
		ic("bytes/8-bit LOGIN atom", stGreeted, "x LOGIN \xff\xfe demo\r\n", fateOpen, "BAD"),
		ic("bytes/UTF-8 LOGIN quoted", stGreeted, "x LOGIN \"d\xc3\xa9mo\" demo\r\n", fateOpen, "NO"),
		ic("bytes/bare CR", stGreeted, "x NO\rOP\r\n", fateOpen, "BAD"),
		ic("bytes/bare LF refused with a reason", stGreeted, "x NOOP\n", fateOpen, "BAD").withReason("bare LF"),
		ic("bytes/tag star", stGreeted, "* NOOP\r\n", fateOpen, "*BAD"),
		ic("bytes/tag plus", stGreeted, "+ NOOP\r\n", fateOpen, "*BAD"),
		ic("bytes/tag with parenthesis", stGreeted, "x( NOOP\r\n", fateOpen, "BAD"),
		ic("bytes/escape sequences", stGreeted, "x \x1b[2J\x1b[0m\r\n", fateOpen, "BAD"),
		ic("bytes/DEL bytes", stGreeted, "x NOOP \x7f\x7f\r\n", fateOpen, "BAD"),
		ic("bytes/quoted with bad escape", stGreeted, "x LOGIN \"de\\mo\" demo\r\n", fateOpen, "BAD"),
		ic("bytes/unterminated quoted", stGreeted, "x LOGIN \"demo demo\r\n", fateOpen, "BAD"),
		ic("bytes/SEARCH NUL in atom", stSelected, "x SEARCH FROM a\x00b\r\n", fateOpen, "BAD"),
		ic("bytes/STORE 8-bit flag", stSelected, "x STORE 1 +FLAGS (\xff)\r\n", fateOpen, "BAD"),
		ic("bytes/STORE NUL in flag", stSelected, "x STORE 1 +FLAGS (\\Se\x00en)\r\n", fateOpen, "BAD"),
		ic("bytes/STORE unknown system flag", stSelected, "x STORE 1 +FLAGS (\\Xyzzy)\r\n", fateOpen, "BAD"),
		ic("bytes/STORE 300 flags", stSelected, "x STORE 1 +FLAGS ("+strings.TrimSpace(rep("$k ", 300))+")\r\n", fateOpen, "BAD").withReason(`\[LIMIT\]`),
		ic("bytes/FETCH NUL after set", stSelected, "x FETCH 1\x00 FLAGS\r\n", fateOpen, "BAD"),
		ic("bytes/SELECT NUL in quoted name", stLoggedIn, "x SELECT \"IN\x00BOX\"\r\n", fateOpen, "BAD"),
		ic("bytes/line over 64 KiB", stGreeted, "x LOGIN "+rep("a", 70000)+" b\r\n", fateOpen, "BAD").withReason(`\[TOOBIG\]`),
		ic("bytes/line of 1 MiB", stLoggedIn, "x NOOP "+rep("a", 1<<20)+"\r\n", fateOpen, "BAD"),
		ic("bytes/16 MiB without line end", stLoggedIn, "x NOOP "+rep("a", 16<<20), fateClosed, "BYE").withReason(`\[TOOBIG\]`),
		ic("bytes/ID with NUL", stLoggedIn, "x ID (\"name\" \"a\x00b\")\r\n", fateOpen, "BAD"),
		ic("bytes/ID with 100 pairs", stLoggedIn, "x ID ("+strings.TrimSpace(rep("\"k\" \"v\" ", 100))+")\r\n", fateOpen, "OK"),
		ic("bytes/ENABLE 5000 names", stLoggedIn, "x ENABLE "+strings.TrimSpace(rep("XYZZY ", 5000))+"\r\n", fateOpen, "OK"),
	}
}

// imapMailboxCases: names that try to leave the user's store or break the
// Maildir++ mapping (RFC 3501 §5.1, §5.1.3 mUTF-7; DESIGN.md §5).
func imapMailboxCases() []hostileCase {
	var cs []hostileCase
	names := []struct{ name, want string }{
		{"..", "NO"}, {"../x", "NO"}, {"a/../b", "NO"}, {"../../../../etc/passwd", "NO"},
		{"/etc", "NO"}, {"/", "NO"}, {"a//b", "NO"}, {"a/", "OK"}, {".", "NO"}, {"./x", "NO"},
		{"~", "OK"}, {"~root", "OK"}, {"~/x", "OK"}, {`"a*b"`, "NO"}, {`"a%b"`, "NO"},
		{"&Jjo", "BAD"}, {"&AGE-", "BAD"}, {"&2D3eAA-", "OK"}, {"&2D0-", "BAD"}, {"\"\xff\xfe\"", "BAD"},
		{rep("x", 300), "NO"}, {strings.TrimSuffix(rep("x/", 2000), "/"), "NO"},
		{"a.b", "OK"}, {"cur", "OK"}, {"tmp", "OK"}, {"new", "OK"}, {`"a\\b"`, "OK"},
	}
	for _, n := range names {
		label := n.name
		if len(label) > 40 {
			label = fmt.Sprintf("%s...(%d octets)", label[:12], len(label))
		}
		cs = append(cs, ic("CREATE/"+label, stLoggedIn, "x CREATE "+n.name+"\r\n", fateOpen, n.want))
	}
	for _, n := range []string{"..", "../x", "/etc", "/etc/passwd", "a/../INBOX", "~/../../etc"} {
		cs = append(cs,
			ic("SELECT/"+n, stLoggedIn, "x SELECT "+n+"\r\n", fateOpen, "NO"),
			ic("STATUS/"+n, stLoggedIn, "x STATUS "+n+" (MESSAGES)\r\n", fateOpen, "NO"),
			ic("DELETE/"+n, stLoggedIn, "x DELETE "+n+"\r\n", fateOpen, "NO"),
			ic("APPEND/"+n, stLoggedIn, "x APPEND "+n+" {3+}\r\nabc\r\n", fateOpen, "NO"),
		)
	}
	cs = append(cs,
		ic("RENAME/to ..", stLoggedIn, "x RENAME Junk ../Junk\r\n", fateOpen, "NO"),
		ic("RENAME/to absolute", stLoggedIn, "x RENAME Junk /tmp/Junk\r\n", fateOpen, "NO"),
		ic("RENAME/INBOX to ..", stLoggedIn, "x RENAME INBOX ..\r\n", fateOpen, "NO"),
		ic("DELETE/INBOX", stLoggedIn, "x DELETE INBOX\r\n", fateOpen, "NO"),
		ic("SUBSCRIBE/..", stLoggedIn, "x SUBSCRIBE ../x\r\n", fateOpen, "NO"),
		ic("COPY/to ..", stSelected, "x COPY 1 ../x\r\n", fateOpen, "NO"),
		ic("MOVE/to absolute", stSelected, "x MOVE 1 /tmp/x\r\n", fateOpen, "NO"),
		ic("GETQUOTAROOT/..", stLoggedIn, "x GETQUOTAROOT ../../x\r\n", fateOpen, "NO"),
		ic("LIST/absolute reference", stLoggedIn, "x LIST \"/\" *\r\n", fateOpen, "OK").withCheck(lacks("* LIST")),
		ic("LIST/.. pattern", stLoggedIn, "x LIST \"\" ../*\r\n", fateOpen, "OK").withCheck(lacks("* LIST")),
		ic("LIST/absolute pattern", stLoggedIn, "x LIST \"\" /etc/*\r\n", fateOpen, "OK").withCheck(lacks("* LIST")),
		ic("LIST/~ reference", stLoggedIn, "x LIST \"~\" *\r\n", fateOpen, "OK"),
		ic("LIST/1000 stars", stLoggedIn, "x LIST \"\" \""+rep("*", 1000)+"\"\r\n", fateOpen, "OK"),
		ic("LIST/alternating wildcards", stLoggedIn, "x LIST \"\" \""+rep("%*a", 3000)+"\"\r\n", fateOpen, "OK"),
		ic("LIST/invalid UTF-7 pattern", stLoggedIn, "x LIST \"\" &Jjo\r\n", fateOpen, "BAD"),
		ic("LIST/1000 patterns", stLoggedIn, "x LIST \"\" ("+strings.TrimSpace(rep("INBOX ", 1000))+")\r\n", fateOpen, "OK"),
		ic("symlink/SELECT a folder linked outside", stLoggedIn, "x SELECT escape\r\n", fateOpen, "NO"),
		ic("symlink/STATUS a folder linked outside", stLoggedIn, "x STATUS escape (MESSAGES)\r\n", fateOpen, "NO"),
		ic("symlink/DELETE a folder linked outside", stLoggedIn, "x DELETE escape\r\n", fateOpen, "NO"),
		ic("symlink/RENAME a folder linked outside", stLoggedIn, "x RENAME escape escaped\r\n", fateOpen, "NO"),
		ic("symlink/APPEND to a folder linked outside", stLoggedIn, "x APPEND escape {3+}\r\nabc\r\n", fateOpen, "NO"),
		ic("symlink/LIST does not show it", stLoggedIn, "x LIST \"\" *\r\n", fateOpen, "OK").withCheck(lacks("escape")),
		ic("symlink/message linked outside is not read", stSelected, "x FETCH 1:* BODY.PEEK[]\r\nx SEARCH TEXT "+hostileSecret+"\r\n", fateOpen, "OK", "OK").
			withCheck(func(out string) error {
				if err := lacks(hostileSecret)(out); err != nil {
					return err
				}
				return contains("* SEARCH\r\n")(out)
			}),
		pc("symlink/message linked outside is not read", stLoggedIn, "RETR 6\r\nRETR 7\r\nRETR 8\r\n", fateOpen).withCheck(lacks(hostileSecret)),
		ic("dotted name stays one mailbox", stLoggedIn, "x CREATE dot.name\r\nx LIST \"\" dot*\r\n", fateOpen, "OK", "OK").
			withCheck(contains("\"/\" dot.name\r\n")),
	)
	return cs
}

// imapFloodCases: pipelined floods in one write.
func imapFloodCases() []hostileCase {
	return []hostileCase{
		ic("flood/10000 NOOPs", stLoggedIn, rep("x NOOP\r\n", 10000), fateOpen, times(10000, "OK")...),
		ic("flood/10000 NOOPs before login", stGreeted, rep("x NOOP\r\n", 10000), fateOpen, times(10000, "OK")...),
		ic("flood/10000 CAPABILITY", stGreeted, rep("x CAPABILITY\r\n", 10000), fateOpen, times(10000, "OK")...),
		ic("flood/2000 SELECTs", stLoggedIn, rep("x SELECT INBOX\r\n", 2000), fateOpen, times(2000, "OK")...),
		ic("flood/5000 FETCHes", stSelected, rep("x FETCH 1:* (FLAGS UID)\r\n", 5000), fateOpen, times(5000, "OK")...),
		ic("flood/2000 STATUS", stLoggedIn, rep("x STATUS INBOX (MESSAGES UIDNEXT SIZE)\r\n", 2000), fateOpen, times(2000, "OK")...),
		ic("flood/10000 BAD before login", stGreeted, rep("x XYZZY\r\n", 10000), fateClosed, "BAD", "BAD", "BAD", "BYE"),
		ic("flood/10000 BAD after login", stLoggedIn, rep("x XYZZY\r\n", 10000), fateOpen, times(10000, "BAD")...),
		ic("flood/100 wrong passwords", stGreeted, rep("x LOGIN demo wrong\r\n", 100), fateClosed, "NO", "NO", "NO", "NO", "NO", "BYE"),
		ic("flood/1000 IDLE DONE", stLoggedIn, rep("x IDLE\r\nDONE\r\n", 1000), fateOpen, times(1000, "OK")...),
		ic("flood/1000 LITERAL+ APPENDs", stLoggedIn, rep("x APPEND Junk {12+}\r\nSubject: f\r\n\r\n", 1000), fateOpen, times(1000, "OK")...),
		ic("flood/10000 empty lines", stLoggedIn, rep("\r\n", 10000), fateOpen, times(10000, "*BAD")...),
	}
}

// imapIdleCases: IDLE abuse (RFC 2177).
func imapIdleCases() []hostileCase {
	return []hostileCase{
		ic("IDLE/DONE", stSelected, "x IDLE\r\nDONE\r\n", fateOpen, "OK"),
		ic("IDLE/lower-case done", stSelected, "x IDLE\r\ndone\r\n", fateOpen, "OK"),
		ic("IDLE/garbage instead of DONE", stSelected, "x IDLE\r\nXYZZY\r\n", fateOpen, "BAD"),
		ic("IDLE/DONE with argument", stSelected, "x IDLE\r\nDONE now\r\n", fateOpen, "BAD"),
		ic("IDLE/a command instead of DONE", stSelected, "x IDLE\r\nx NOOP\r\n", fateOpen, "BAD"),
		ic("IDLE/NUL instead of DONE", stSelected, "x IDLE\r\n\x00\x00\r\n", fateOpen, "BAD"),
		ic("IDLE/long line instead of DONE", stSelected, "x IDLE\r\n"+rep("D", 70000)+"\r\n", fateOpen, "BAD"),
		ic("IDLE/with argument", stSelected, "x IDLE now\r\n", fateOpen, "BAD"),
		ic("IDLE/DONE without IDLE", stSelected, "DONE\r\n", fateOpen).withCheck(contains("DONE BAD")),
		ic("IDLE/then hang up", stSelected, "x IDLE\r\n", fateHangup),
		ic("IDLE/16 MiB without line end", stSelected, "x IDLE\r\n"+rep("D", 16<<20), fateClosed, "BAD", "BYE"),
	}
}

// imapCompressCases: COMPRESS=DEFLATE abuse (RFC 4978), bombs included.
func imapCompressCases() []hostileCase {
	// One flushed deflate chunk of 1 MiB of "a": repeated, it is a valid
	// stream (each chunk starts with a literal and refers back no further
	// than its own octets), 1024 of them inflate to 1 GiB.
	chunk := deflated(bytes.Repeat([]byte("a"), 1<<20))
	bomb := append(deflated([]byte("x NOOP ")), bytes.Repeat(chunk, 4096)...)
	appendBomb := append(deflated([]byte("x APPEND Junk {33554432+}\r\n")), bytes.Repeat(chunk, 32)...)
	appendBomb = append(appendBomb, deflated([]byte("\r\n"))...)
	// A refused LITERAL+ literal is read and dropped up to 1 GiB (imapwire
	// maxDiscardLiteral, RFC 7888 §4 choice 1); past that the server
	// closes with BYE [TOOBIG] (choice 2) without reading it.
	skipBomb := append(deflated([]byte("x SEARCH TEXT {268435456+}\r\n")), bytes.Repeat(chunk, 256)...)
	skipBomb = append(skipBomb, deflated([]byte("\r\n"))...)
	literalBomb := append(deflated([]byte("x SEARCH TEXT {1073741825+}\r\n")), bytes.Repeat(chunk, 1025)...)
	cmp := func(name string, st hostileState, send []byte, fate hostileFate, want ...string) hostileCase {
		tc := hostileCase{name: "imap/COMPRESS/" + name, state: st, send: send, fate: fate, want: want, compress: true}
		return tc
	}
	return []hostileCase{
		ic("COMPRESS/unknown mechanism", stLoggedIn, "x COMPRESS XYZZY\r\n", fateOpen, "BAD"),
		ic("COMPRESS/no mechanism", stLoggedIn, "x COMPRESS\r\n", fateOpen, "BAD"),
		cmp("twice", stLoggedIn, deflated([]byte("x COMPRESS DEFLATE\r\n")), fateOpen, "NO"),
		cmp("then NOOPs", stSelected, deflated([]byte(rep("x NOOP\r\n", 1000))), fateOpen, times(1000, "OK")...),
		cmp("garbage stream", stLoggedIn, []byte("x NOOP\r\n\xff\xff\xff\xff"), fateClosed).withQuiet(),
		cmp("bomb: 4 GiB line", stLoggedIn, bomb, fateClosed, "BYE").withReason(`\[TOOBIG\]`),
		cmp("bomb: 32 MiB APPEND", stLoggedIn, appendBomb, fateOpen, "OK"),
		cmp("bomb: 256 MiB refused literal is skipped", stSelected, skipBomb, fateOpen, "BAD").withReason(`\[TOOBIG\]`),
		cmp("bomb: 1 GiB literal", stLoggedIn, literalBomb, fateClosed, "BYE").withReason(`\[TOOBIG\]`),
	}
}

// withQuiet marks a closed row that needs no BYE.
func (tc hostileCase) withQuiet() hostileCase { tc.quiet = true; return tc }

// imapAuthCases: AUTHENTICATE garbage and SASL abuse (RFC 3501 §6.2.2,
// RFC 4959 SASL-IR, RFC 4616 PLAIN).
func imapAuthCases() []hostileCase {
	return []hostileCase{
		ic("AUTH/garbage response", stGreeted, "x AUTHENTICATE PLAIN\r\ngarbage!!\r\n", fateOpen, "BAD"),
		ic("AUTH/cancel", stGreeted, "x AUTHENTICATE PLAIN\r\n*\r\n", fateOpen, "BAD"),
		ic("AUTH/response over 64 KiB", stGreeted, "x AUTHENTICATE PLAIN\r\n"+rep("QUFB", 20000)+"\r\n", fateOpen, "BAD"),
		ic("AUTH/unknown mechanism", stGreeted, "x AUTHENTICATE XYZZY\r\n", fateOpen, "NO"),
		ic("AUTH/no mechanism", stGreeted, "x AUTHENTICATE\r\n", fateOpen, "BAD"),
		ic("AUTH/empty initial response", stGreeted, "x AUTHENTICATE PLAIN =\r\n", fateOpen, "BAD"),
		ic("AUTH/bad base64 initial response", stGreeted, "x AUTHENTICATE PLAIN !!!!\r\n", fateOpen, "BAD"),
		ic("AUTH/wrong password", stGreeted, "x AUTHENTICATE PLAIN "+b64("\x00demo\x00wrong")+"\r\n", fateOpen, "NO"),
		ic("AUTH/other authzid", stGreeted, "x AUTHENTICATE PLAIN "+b64("root\x00demo\x00demo")+"\r\n", fateOpen, "NO"),
		ic("AUTH/no NULs", stGreeted, "x AUTHENTICATE PLAIN "+b64("demo")+"\r\n", fateOpen, "BAD"),
		ic("AUTH/4000 NULs", stGreeted, "x AUTHENTICATE PLAIN "+b64(rep("\x00", 4000))+"\r\n", fateOpen, "BAD"),
		ic("AUTH/NUL in user", stGreeted, "x AUTHENTICATE PLAIN "+b64("\x00de\x00mo\x00demo")+"\r\n", fateOpen, "BAD"),
		ic("AUTH/LOGIN then commands as responses", stGreeted, "x AUTHENTICATE LOGIN\r\n"+b64("demo")+"\r\n"+b64("wrong")+"\r\n", fateOpen, "NO"),
		ic("AUTH/LOGIN garbage", stGreeted, "x AUTHENTICATE LOGIN\r\n\x00\xff\r\n", fateOpen, "BAD"),
		ic("AUTH/endless attempts close", stGreeted, rep("x AUTHENTICATE PLAIN "+b64("\x00demo\x00wrong")+"\r\n", 50), fateClosed, "NO", "NO", "NO", "NO", "NO", "BYE"),
		ic("AUTH/endless exchanges", stGreeted, rep("x AUTHENTICATE LOGIN\r\n"+b64("demo")+"\r\n*\r\n", 50), fateClosed, "BAD", "BAD", "BAD", "BYE"),
		ic("AUTH/then hang up", stGreeted, "x AUTHENTICATE PLAIN\r\n", fateHangup),
		ic("LOGIN/wrong password", stGreeted, "x LOGIN demo wrong\r\n", fateOpen, "NO"),
		ic("LOGIN/unknown user", stGreeted, "x LOGIN nosuchuser wrong\r\n", fateOpen, "NO"),
		ic("LOGIN/user ..", stGreeted, "x LOGIN .. demo\r\n", fateOpen, "NO"),
		ic("LOGIN/user with slash", stGreeted, "x LOGIN \"../demo\" demo\r\n", fateOpen, "NO"),
		ic("LOGIN/missing password", stGreeted, "x LOGIN demo\r\n", fateOpen, "BAD"),
		ic("LOGIN/extra argument", stGreeted, "x LOGIN demo demo demo\r\n", fateOpen, "BAD"),
	}
}

// imapStartTLSCases: STARTTLS abuse (RFC 3501 §6.2.1; DESIGN.md §5:
// bytes buffered before the handshake are never read as commands).
func imapStartTLSCases() []hostileCase {
	return []hostileCase{
		tlsCase("imap/STARTTLS/garbage record", false, "", []byte("\x16\x03\x01\x00\x05hello")),
		tlsCase("imap/STARTTLS/16 KiB of zeros", false, "", bytes.Repeat([]byte{0}, 16<<10)),
		tlsCase("imap/STARTTLS/pipelined LOGIN is not run", false, "x LOGIN demo demo\r\n", nil),
		tlsCase("imap/STARTTLS/pipelined garbage is not read", false, "\x00\xff garbage\r\n", nil),
		ic("STARTTLS/with argument", stGreeted, "x STARTTLS now\r\n", fateOpen, "BAD"),
		ic("STARTTLS/then hang up", stGreeted, "x STARTTLS\r\n", fateHangup),
	}
}

// tlsCase sends STARTTLS (POP3: STLS) followed in the same write by
// pipelined. With after set, it then sends after instead of a TLS
// handshake, and the server must close the connection. Otherwise it
// completes a handshake, and the pipelined octets must not have been run
// as commands: the session is still before login and answers in step.
func tlsCase(name string, pop bool, pipelined string, after []byte) hostileCase {
	tc := hostileCase{name: name, pop: pop, state: stGreeted}
	tc.custom = func(t *testing.T, c *hostileConn) {
		start, ok := "x STARTTLS\r\n", "x OK"
		if pop {
			start, ok = "STLS\r\n", "+OK"
		}
		c.send([]byte(start + pipelined))
		if l := c.until(func(string) bool { return true }); !strings.HasPrefix(l, ok) {
			t.Fatalf("STARTTLS answered %q", l)
		}
		if after != nil {
			go func() { c.send(after) }()
			_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := io.Copy(io.Discard, c.r); err != nil && !isReset(err) {
				t.Fatalf("want the server to close after a bad handshake: %v", err)
			}
			return
		}
		tconn := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
		_ = tconn.SetDeadline(time.Now().Add(ioTimeout))
		if err := tconn.Handshake(); err != nil {
			// The pipelined octets broke the handshake: they were not run
			// as commands either.
			t.Logf("handshake failed (the pipelined octets were taken as TLS): %v", err)
			return
		}
		c.r, c.w = bufio.NewReader(tconn), tconn
		var out string
		if pop {
			c.send([]byte("STAT\r\n"))
			out = c.until(func(string) bool { return true })
			if !strings.HasPrefix(out, "-ERR") {
				t.Fatalf("after STLS with a pipelined login, STAT = %q, want -ERR (not logged in)", out)
			}
			return
		}
		c.send([]byte("ZZ NOOP\r\nZY SELECT INBOX\r\n"))
		out = c.until(tagged("ZY"))
		if strings.Contains(out, "x ") || !strings.Contains(out, "ZZ OK") || !strings.Contains(out, "ZY BAD") {
			t.Fatalf("after STARTTLS with pipelined %q the session answered:\n%s", pipelined, out)
		}
	}
	return tc
}

// pop3Cases: POP3 (RFC 1939, RFC 2449, RFC 5034) abuse.
func pop3Cases() []hostileCase {
	var cs []hostileCase
	for _, c := range []string{"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL", "LAST"} {
		cs = append(cs, pc("before login/"+c, stGreeted, c+"\r\n", fateOpen, "-ERR"))
	}
	for _, c := range []string{"USER demo", "PASS demo", "AUTH PLAIN " + b64("\x00demo\x00demo"), "STLS", "APOP demo 0123456789abcdef0123456789abcdef"} {
		cs = append(cs, pc("after login/"+strings.Fields(c)[0], stLoggedIn, c+"\r\n", fateOpen, "-ERR"))
	}
	bad := []string{
		"RETR 0", "RETR -1", "RETR 6", "RETR 99999999999999999999", "RETR abc", "RETR 1 2", "RETR",
		"RETR 4294967296", "RETR +1", "RETR 0x1", "TOP 1 -1", "TOP 1 abc", "TOP 0 1", "TOP 1",
		"LIST 0", "LIST 99999999999999999999", "LIST 1 2", "UIDL 0",
		"UIDL abc", "DELE 0", "DELE 6", "XYZZY", "", "RETR 1\x00", "RETR \xff", "STAT\x00",
	}
	for _, c := range bad {
		cs = append(cs, pc("bad argument/"+fmt.Sprintf("%q", c), stLoggedIn, c+"\r\n", fateOpen, "-ERR"))
	}
	cs = append(cs,
		pc("TOP 1 4294967295", stLoggedIn, "TOP 1 4294967295\r\n", fateOpen, "+OK"),
		pc("TOP 1 4294967296", stLoggedIn, "TOP 1 4294967296\r\n", fateOpen, "+OK"),
		pc("TOP 1 with 20 digits", stLoggedIn, "TOP 1 99999999999999999999\r\n", fateOpen, "+OK"),
		pc("TOP 1 0", stLoggedIn, "TOP 1 0\r\n", fateOpen, "+OK"),
		pc("lower-case command", stLoggedIn, "stat\r\n", fateOpen, "+OK"),
		pc("DELE twice", stLoggedIn, "DELE 1\r\nDELE 1\r\nRETR 1\r\nRSET\r\n", fateOpen, "+OK", "-ERR", "-ERR", "+OK"),
		pc("line of 2000 octets", stLoggedIn, "NOOP "+rep("a", 2000)+"\r\n", fateOpen, "-ERR"),
		pc("line of 100 KiB without end", stLoggedIn, "NOOP "+rep("a", 100<<10), fateClosed, "-ERR"),
		pc("line of 100 KiB before login", stGreeted, "USER "+rep("a", 100<<10)+"\r\n", fateClosed, "-ERR"),
		pc("long USER", stGreeted, "USER "+rep("u", 1000)+"\r\n", fateOpen, "+OK"),
		pc("USER twice", stGreeted, "USER demo\r\nUSER demo\r\n", fateOpen, "+OK", "+OK"),
		pc("PASS without USER", stGreeted, "PASS demo\r\n", fateOpen, "-ERR"),
		pc("empty USER", stGreeted, "USER\r\n", fateOpen, "-ERR"),
		pc("NUL in USER", stGreeted, "USER de\x00mo\r\n", fateOpen, "-ERR"),
		pc("8-bit USER and PASS", stGreeted, "USER d\xe9mo\r\nPASS \xff\r\n", fateOpen, "+OK", "-ERR"),
		pc("wrong password", stGreeted, "USER demo\r\nPASS wrong\r\n", fateOpen, "+OK", "-ERR"),
		pc("wrong passwords close", stGreeted, rep("USER demo\r\nPASS wrong\r\n", 20), fateClosed,
			"+OK", "-ERR", "+OK", "-ERR", "+OK", "-ERR", "+OK", "-ERR", "+OK", "-ERR"),
		pc("three bad commands before login close", stGreeted, "XYZZY\r\nXYZZY\r\nXYZZY\r\nCAPA\r\n", fateClosed, "-ERR", "-ERR", "-ERR"),
		pc("AUTH unknown mechanism", stGreeted, "AUTH XYZZY\r\n", fateOpen, "-ERR"),
		pc("AUTH without mechanism", stGreeted, "AUTH\r\n", fateOpen, "-ERR"),
		pc("AUTH garbage response", stGreeted, "AUTH PLAIN\r\ngarbage!!\r\n", fateOpen, "-ERR"),
		pc("AUTH cancel", stGreeted, "AUTH PLAIN\r\n*\r\n", fateOpen, "-ERR"),
		pc("AUTH bad initial response", stGreeted, "AUTH PLAIN !!!!\r\n", fateOpen, "-ERR"),
		pc("AUTH wrong password", stGreeted, "AUTH PLAIN "+b64("\x00demo\x00wrong")+"\r\n", fateOpen, "-ERR"),
		pc("AUTH other authzid", stGreeted, "AUTH PLAIN "+b64("root\x00demo\x00demo")+"\r\n", fateOpen, "-ERR"),
		pc("AUTH response over 4 KiB", stGreeted, "AUTH PLAIN\r\n"+rep("QUFB", 2000)+"\r\n", fateOpen, "-ERR"),
		pc("AUTH response of 100 KiB without end", stGreeted, "AUTH PLAIN\r\n"+rep("QUFB", 25<<10), fateClosed, "-ERR"),
		pc("AUTH LOGIN wrong", stGreeted, "AUTH LOGIN\r\n"+b64("demo")+"\r\n"+b64("wrong")+"\r\n", fateOpen, "-ERR"),
		pc("AUTH endless attempts close", stGreeted, rep("AUTH PLAIN "+b64("\x00demo\x00wrong")+"\r\n", 50), fateClosed, "-ERR", "-ERR", "-ERR", "-ERR", "-ERR"),
		pc("AUTH then hang up", stGreeted, "AUTH PLAIN\r\n", fateHangup),
		tlsCase("pop3/STLS garbage record", true, "", []byte("\x16\x03\x01\x00\x05hello")),
		tlsCase("pop3/STLS pipelined login is not run", true, "USER demo\r\nPASS demo\r\n", nil),
		pc("STLS with argument", stGreeted, "STLS now\r\n", fateOpen, "-ERR"),
		pc("QUIT then more", stLoggedIn, "QUIT\r\nSTAT\r\nRETR 1\r\n", fateClosed, "+OK"),
		pc("flood 10000 NOOPs", stLoggedIn, rep("NOOP\r\n", 10000), fateOpen, times(10000, "+OK")...),
		pc("flood 2000 RETRs", stLoggedIn, rep("RETR 1\r\n", 2000), fateOpen, times(2000, "+OK")...),
		pc("flood 10000 bad commands after login", stLoggedIn, rep("XYZZY\r\n", 10000), fateOpen, times(10000, "-ERR")...),
		pc("flood 10000 CAPA before login", stGreeted, rep("CAPA\r\n", 10000), fateOpen, times(10000, "+OK")...),
		pc("empty lines before login", stGreeted, "\r\n\r\n\r\n\r\n", fateClosed, "-ERR", "-ERR", "-ERR"),
		pc("bare LF tolerated", stLoggedIn, "STAT\n", fateOpen, "+OK"),
		pc("then hang up mid-line", stLoggedIn, "RETR", fateHangup),
	)
	return cs
}
