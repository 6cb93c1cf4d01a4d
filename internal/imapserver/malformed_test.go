package imapserver

import (
	"strings"
	"testing"
)

// TestMalformed sends one bad command per case, on a fresh connection in the
// given state, and checks the exact answer, then that the connection still
// answers NOOP (STYLE.md habit 5: a peer mistake is a BAD, not the end).
func TestMalformed(t *testing.T) {
	const (
		none = iota
		auth
		sel
	)
	long := strings.Repeat("x", 100<<10)
	tests := []struct {
		name  string
		state int
		send  string
		want  []string
	}{
		// Tags and command names (RFC 3501 §2.2.1, §9 tag).
		{"empty line", none, "\r\n", []string{"* BAD Invalid tag"}},
		{"tag with plus", none, "a+b NOOP\r\n", []string{"* BAD Invalid tag"}},
		{"tag starting with paren", none, "(a NOOP\r\n", []string{"* BAD Invalid tag"}},
		{"tag only", none, "a1\r\n", []string{"a1 BAD Missing command"}},
		{"tag and space only", none, "a1 \r\n", []string{"a1 BAD Missing command"}},
		{"unknown command", none, "a1 FROB\r\n", []string{"a1 BAD Unknown command"}},
		{"unknown command with literal", none, "a1 FROB {5}\r\n", []string{"a1 BAD Unknown command"}},
		{"NUL in command name", none, "a1 NO\x00OP\r\n", []string{"a1 BAD Unknown command"}},
		{"CR without LF", none, "a1 NOOP\rx\r\n", []string{"a1 BAD expected end of line, found CR without LF"}},
		{"extra args to NOOP", none, "a1 NOOP now\r\n", []string{`a1 BAD expected end of line, found SP`}},

		// Not authenticated state.
		{"SELECT before login", none, "a1 SELECT INBOX\r\n", []string{"a1 BAD Command not allowed before login"}},
		{"FETCH before login", none, "a1 FETCH 1 FLAGS\r\n", []string{"a1 BAD Command not allowed before login"}},
		{"LOGIN missing password", none, "a1 LOGIN alice\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"LOGIN extra argument", none, "a1 LOGIN alice secret extra\r\n", []string{"a1 BAD expected end of line, found SP"}},
		{"LOGIN NUL", none, "a1 LOGIN \x00alice secret\r\n", []string{"a1 BAD expected string, found NUL"}},
		{"LOGIN NUL in quoted", none, "a1 LOGIN \"al\x00ice\" secret\r\n", []string{"a1 BAD NUL in quoted string"}},
		{"LOGIN unterminated quoted", none, "a1 LOGIN \"alice secret\r\n", []string{"a1 BAD unterminated quoted string"}},
		{"LOGIN bad escape", none, "a1 LOGIN \"al\\ice\" secret\r\n", []string{`a1 BAD invalid escape \"i" in quoted string`}},
		{"literal too big", none, "a1 LOGIN {999999999}\r\n", []string{"a1 BAD [TOOBIG] literal of 999999999 octets exceeds the limit of 65536"}},
		{"LITERAL+ too big", none, "a1 LOGIN {70000+}\r\n" + strings.Repeat("y", 70000) + " secret\r\n",
			[]string{"a1 BAD [TOOBIG] literal of 70000 octets exceeds the limit of 65536"}},
		{"literal length lies", none, "a1 LOGIN {3+}\r\nalice secret\r\n", []string{`a1 BAD expected SP, found "c"`}},
		{"literal size not a number", none, "a1 LOGIN {abc}\r\n", []string{`a1 BAD expected literal size, found "a"`}},
		{"NUL in literal", none, "a1 LOGIN {5+}\r\nal\x00ce secret\r\n", []string{"a1 BAD NUL in literal"}},
		{"100 KiB garbage", none, long + "\r\n", []string{"* BAD [TOOBIG] command line longer than 65536 octets"}},
		{"100 KiB command name", none, "a1 " + long + "\r\n", []string{"a1 BAD [TOOBIG] command line longer than 65536 octets"}},
		{"100 KiB UID command name", sel, "a1 UID " + long + "\r\n", []string{"a1 BAD [TOOBIG] command line longer than 65536 octets"}},
		{"100 KiB line", none, "a1 LOGIN " + long + "\r\n", []string{"a1 BAD [TOOBIG] command line longer than 65536 octets"}},
		{"AUTHENTICATE no mechanism", none, "a1 AUTHENTICATE\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"AUTHENTICATE bad initial response", none, "a1 AUTHENTICATE PLAIN !!!!\r\n", []string{"a1 BAD Invalid initial response"}},

		// Authenticated state.
		{"LOGIN after login", auth, "a1 LOGIN alice secret\r\n", []string{"a1 BAD Command not allowed after login"}},
		{"FETCH without mailbox", auth, "a1 FETCH 1 FLAGS\r\n", []string{"a1 BAD Command not allowed without a selected mailbox"}},
		{"SELECT missing mailbox", auth, "a1 SELECT\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SELECT invalid mUTF-7", auth, "a1 SELECT &Jjo\r\n", []string{`a1 BAD invalid mailbox name "&Jjo": unterminated "&" run`}},
		{"SELECT encoded ASCII", auth, "a1 SELECT &AGE-\r\n", []string{`a1 BAD invalid mailbox name "&AGE-": printable ASCII 'a' must not be encoded`}},
		{"CREATE extra argument", auth, "a1 CREATE a b\r\n", []string{`a1 BAD expected "(", found "b"`}}, // RFC 4466 §2.2 create-params
		{"RENAME missing new name", auth, "a1 RENAME a\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"STATUS unknown item", auth, "a1 STATUS INBOX (MESSAGES FOO)\r\n", []string{"a1 BAD Unknown STATUS item"}},
		{"STATUS empty list", auth, "a1 STATUS INBOX ()\r\n", []string{"a1 BAD STATUS needs at least one item"}},
		{"STATUS unbalanced", auth, "a1 STATUS INBOX (MESSAGES\r\n", []string{`a1 BAD expected SP or ")", found end of line`}},
		{"STATUS no list", auth, "a1 STATUS INBOX MESSAGES\r\n", []string{`a1 BAD expected "(", found "M"`}},
		{"nesting too deep", sel, "a1 SEARCH ((((((((((SEEN))))))))))\r\n", []string{"a1 BAD [LIMIT] lists nested deeper than 8"}},
		{"LIST missing pattern", auth, "a1 LIST \"\"\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"APPEND invalid date", auth, "a1 APPEND INBOX \"99-Foo-2026 10:00:00 +0000\" {5}\r\n", []string{`a1 BAD invalid date-time "99-Foo-2026 10:00:00 +0000": unknown month Foo`}},
		{"APPEND missing literal", auth, "a1 APPEND INBOX (\\Seen)\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"APPEND wildcard flag", auth, "a1 APPEND INBOX (\\*) {5}\r\n", []string{`a1 BAD expected flag name after "\", found "*"`}},
		{"APPEND quoted message", auth, "a1 APPEND INBOX \"hello\"\r\n", []string{`a1 BAD invalid date-time "hello": expected dd-Mon-yyyy hh:mm:ss +zzzz`}},
		{"IDLE with argument", auth, "a1 IDLE now\r\n", []string{"a1 BAD expected end of line, found SP"}},

		// Selected state.
		{"sequence number 0", sel, "a1 FETCH 0 FLAGS\r\n", []string{"a1 BAD invalid sequence number 0"}},
		{"open range", sel, "a1 FETCH 1: FLAGS\r\n", []string{"a1 BAD expected sequence set, found SP"}},
		{"letter as set", sel, "a1 FETCH a FLAGS\r\n", []string{`a1 BAD expected sequence set, found "a"`}},
		{"set too large", sel, "a1 FETCH 4294967296 FLAGS\r\n", []string{"a1 BAD invalid sequence number 4294967296"}},
		// RFC 5182 §2.1: an empty "$" is a valid set that matches nothing.
		{"saved search empty", sel, "a1 FETCH $ FLAGS\r\n", []string{"a1 OK FETCH completed"}},
		{"saved search in range", sel, "a1 FETCH $:4 FLAGS\r\n", []string{"a1 BAD \"$\" cannot be combined with other numbers in a sequence set"}},

		// ESEARCH, WITHIN, SORT and THREAD arguments (RFC 4731, 5032, 5256).
		{"RETURN unknown option", sel, "a1 SEARCH RETURN (FOO) ALL\r\n", []string{"a1 BAD Unknown RETURN option"}},
		{"RETURN without list", sel, "a1 SEARCH RETURN MIN ALL\r\n", []string{"a1 BAD expected \"(\", found \"M\""}},
		{"RETURN not first", sel, "a1 SEARCH ALL RETURN (MIN)\r\n", []string{"a1 BAD RETURN must come first"}},
		{"RETURN twice", sel, "a1 SEARCH RETURN (MIN) RETURN (MAX) ALL\r\n", []string{"a1 BAD RETURN must come first"}},
		{"RETURN after CHARSET", sel, "a1 SEARCH CHARSET UTF-8 RETURN (MIN) ALL\r\n", []string{"a1 BAD RETURN must come first"}},
		{"RETURN without keys", sel, "a1 SEARCH RETURN (MIN)\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"OLDER zero", sel, "a1 SEARCH OLDER 0\r\n", []string{"a1 BAD expected non-zero number, found \"0\""}},
		{"YOUNGER no number", sel, "a1 SEARCH YOUNGER x\r\n", []string{"a1 BAD expected non-zero number, found \"x\""}},
		{"SORT unknown key", sel, "a1 SORT (FOO) UTF-8 ALL\r\n", []string{"a1 BAD Unknown sort key"}},
		{"SORT empty criteria", sel, "a1 SORT () UTF-8 ALL\r\n", []string{"a1 BAD Empty sort criteria"}},
		{"SORT REVERSE alone", sel, "a1 SORT (REVERSE) UTF-8 ALL\r\n", []string{"a1 BAD expected SP, found \")\""}},
		{"SORT no charset", sel, "a1 SORT (DATE) ALL\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SORT no criteria", sel, "a1 SORT UTF-8 ALL\r\n", []string{"a1 BAD Expected RETURN or sort criteria"}},
		{"SORT bad charset", sel, "a1 SORT (DATE) X-UNKNOWN ALL\r\n", []string{"a1 NO [BADCHARSET (US-ASCII UTF-8 ISO-8859-1)] Unsupported charset"}},
		{"SORT RETURN bad", sel, "a1 SORT RETURN (PARTIAL 1:10) (DATE) UTF-8 ALL\r\n", []string{"a1 BAD Unknown RETURN option"}},
		{"THREAD unknown algorithm", sel, "a1 THREAD FOO UTF-8 ALL\r\n", []string{"a1 BAD Unknown threading algorithm"}},
		{"THREAD no keys", sel, "a1 THREAD REFERENCES UTF-8\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SORT before SELECT", auth, "a1 SORT (DATE) UTF-8 ALL\r\n", []string{"a1 BAD Command not allowed without a selected mailbox"}},
		{"FETCH unknown item", sel, "a1 FETCH 1 (FLAGS FOO)\r\n", []string{"a1 BAD Unknown FETCH item"}},
		{"FETCH unbalanced", sel, "a1 FETCH 1 (FLAGS\r\n", []string{`a1 BAD expected SP or ")", found end of line`}},
		{"FETCH extra paren", sel, "a1 FETCH 1 (FLAGS))\r\n", []string{`a1 BAD expected end of line, found ")"`}},
		{"FETCH empty list", sel, "a1 FETCH 1 ()\r\n", []string{"a1 BAD Empty FETCH item list"}},
		{"FETCH missing items", sel, "a1 FETCH 1\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"FETCH bad section", sel, "a1 FETCH 1 BODY[FOO]\r\n", []string{"a1 BAD Invalid body section"}},
		{"FETCH part 0", sel, "a1 FETCH 1 BODY[0]\r\n", []string{"a1 BAD Invalid body section"}},
		{"FETCH MIME without part", sel, "a1 FETCH 1 BODY[MIME]\r\n", []string{"a1 BAD Invalid body section"}},
		{"FETCH unclosed section", sel, "a1 FETCH 1 BODY[TEXT\r\n", []string{`a1 BAD expected "]", found end of line`}},
		{"FETCH empty header list", sel, "a1 FETCH 1 BODY[HEADER.FIELDS ()]\r\n", []string{"a1 BAD Empty header field list"}},
		{"FETCH zero partial", sel, "a1 FETCH 1 BODY[]<0.0>\r\n", []string{"a1 BAD Invalid partial range"}},
		{"FETCH bad partial", sel, "a1 FETCH 1 BODY[]<x>\r\n", []string{"a1 BAD Invalid partial range"}},
		{"FETCH section on RFC822", sel, "a1 FETCH 1 RFC822[]\r\n", []string{"a1 BAD Unknown FETCH item"}},
		{"STORE bad operation", sel, "a1 STORE 1 FLAGZ (\\Seen)\r\n", []string{"a1 BAD Invalid STORE operation"}},
		{"STORE unknown system flag", sel, "a1 STORE 1 +FLAGS (\\Bogus)\r\n", []string{`a1 BAD Invalid system flag \Bogus`}},
		{"STORE missing flags", sel, "a1 STORE 1 +FLAGS\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"STORE wildcard flag", sel, "a1 STORE 1 +FLAGS \\*\r\n", []string{`a1 BAD expected flag name after "\", found "*"`}},
		{"SEARCH unknown key", sel, "a1 SEARCH FOO\r\n", []string{"a1 BAD Unknown search key"}},
		{"SEARCH missing argument", sel, "a1 SEARCH FROM\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SEARCH bad date", sel, "a1 SEARCH SINCE 32-Jan-2026\r\n", []string{`a1 BAD invalid date "32-Jan-2026": no such day`}},
		{"SEARCH unbalanced", sel, "a1 SEARCH (SEEN\r\n", []string{`a1 BAD expected SP or ")", found end of line`}},
		{"SEARCH nothing", sel, "a1 SEARCH\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SEARCH empty group", sel, "a1 SEARCH ()\r\n", []string{"a1 BAD Empty search key list"}},
		{"SEARCH CHARSET late", sel, "a1 SEARCH SEEN CHARSET UTF-8\r\n", []string{"a1 BAD CHARSET must come first"}},
		{"SEARCH bad charset", sel, "a1 SEARCH CHARSET X-MARTIAN TEXT x\r\n", []string{"a1 NO [BADCHARSET (US-ASCII UTF-8 ISO-8859-1)] Unsupported charset"}},
		{"SEARCH OR one key", sel, "a1 SEARCH OR SEEN\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"SEARCH deep NOT", sel, "a1 SEARCH " + strings.Repeat("NOT ", 200) + "SEEN\r\n", []string{"a1 BAD [LIMIT] Search program nested too deeply"}},
		{"SEARCH LARGER not a number", sel, "a1 SEARCH LARGER big\r\n", []string{`a1 BAD expected number, found "b"`}},
		{"COPY missing mailbox", sel, "a1 COPY 1\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"UID without command", sel, "a1 UID\r\n", []string{"a1 BAD Missing command after UID"}},
		{"UID unknown command", sel, "a1 UID FROB 1\r\n", []string{"a1 BAD Unknown command"}},
		{"UID FETCH missing set", sel, "a1 UID FETCH\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"UID EXPUNGE missing set", sel, "a1 UID EXPUNGE\r\n", []string{"a1 BAD expected SP, found end of line"}},
		{"EXPUNGE with argument", sel, "a1 EXPUNGE 1\r\n", []string{"a1 BAD expected end of line, found SP"}},
		{"CLOSE with argument", sel, "a1 CLOSE now\r\n", []string{"a1 BAD expected end of line, found SP"}},

		// Counts that the line limit alone leaves too high (Options.Max...).
		{"too many FETCH items", sel, "a1 FETCH 1 (" + strings.Repeat("FLAGS ", 1000) + "UID)\r\n",
			[]string{"a1 BAD [LIMIT] More than 1000 FETCH items"}},
		{"too many header field names", sel, "a1 FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (" + strings.Repeat("X-A ", 1000) + "X-B)])\r\n",
			[]string{"a1 BAD [LIMIT] More than 1000 FETCH items"}},
		{"too many search keys", sel, "a1 SEARCH " + strings.Repeat("ALL ", 1000) + "ALL\r\n",
			[]string{"a1 BAD [LIMIT] More than 1000 search keys"}},
		{"too many search keys in groups", sel, "a1 SEARCH " + strings.Repeat("(1 2) ", 333) + "(1 2)\r\n",
			[]string{"a1 BAD [LIMIT] More than 1000 search keys"}},
		{"too many STORE flags", sel, "a1 STORE 1 +FLAGS (" + strings.Repeat("k ", 256) + "k)\r\n",
			[]string{"a1 BAD [LIMIT] More than 256 flags"}},
		{"too many bare STORE flags", sel, "a1 STORE 1 +FLAGS " + strings.Repeat("\\Seen ", 256) + "k\r\n",
			[]string{"a1 BAD [LIMIT] More than 256 flags"}},
		{"too many APPEND flags", auth, "a1 APPEND INBOX (" + strings.Repeat("k ", 256) + "k) {5}\r\n",
			[]string{"a1 BAD [LIMIT] More than 256 flags"}},
		{"two literals of the largest size", none, "a1 LOGIN {65536+}\r\n" + strings.Repeat("u", 65536) + " {65536+}\r\n" + strings.Repeat("p", 65536) + "\r\n" +
			"a2 FROB {65536+}\r\n" + strings.Repeat("x", 65536) + "\r\n",
			[]string{"a1 NO [AUTHENTICATIONFAILED] Invalid credentials", "a2 BAD Unknown command"}},
		{"literals over the total", sel, "a1 SEARCH" + strings.Repeat(" TEXT {65536+}\r\n"+strings.Repeat("t", 65536), 5) + "\r\n",
			[]string{"a1 BAD [LIMIT] literals of one command exceed 262144 octets in all"}},
		{"literals over the total, synchronizing", sel, "a1 SEARCH" + strings.Repeat(" TEXT {65536+}\r\n"+strings.Repeat("t", 65536), 4) + " TEXT {1}\r\n",
			[]string{"a1 BAD [LIMIT] literals of one command exceed 262144 octets in all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			tc := ts.dial(t)
			switch tt.state {
			case none:
				tc.greet()
			case auth:
				tc.login()
			case sel:
				tc.selectInbox()
			}
			tc.send(tt.send)
			for _, w := range tt.want {
				got, ok := tc.line()
				if got != w || !ok {
					t.Fatalf("answer to %.60q = %q, want %q", tt.send, got, w)
				}
			}
			tc.send("z NOOP\r\n")
			tc.expect("z OK NOOP completed")
		})
	}
}
