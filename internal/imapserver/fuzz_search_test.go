package imapserver

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/postern/postern/internal/memconn"
)

// searchFuzzCommands are the commands whose arguments FuzzSearchSortThread
// varies: the RETURN options (RFC 4731, RFC 5267), the WITHIN keys (RFC
// 5032), "$" (RFC 5182), sort criteria (RFC 5256, RFC 5957) and thread
// algorithms.
var searchFuzzCommands = []string{"SEARCH ", "UID SEARCH ", "SORT ", "UID SORT ", "THREAD ", "UID THREAD ", "FETCH ", "UID STORE "}

// FuzzSearchSortThread feeds arbitrary arguments to SEARCH, SORT, THREAD
// and the commands that take "$", in the selected state after a SEARCH
// RETURN (SAVE): the server must never panic, and a line without CR, LF or
// a literal must get a tagged answer.
func FuzzSearchSortThread(f *testing.F) {
	seeds := []struct {
		cmd  uint8
		args string
	}{
		{0, "RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 OLDER 5 YOUNGER 10 $"},
		{0, "RETURN () OR $ 1:*"},
		{0, "RETURN (MIN"},
		{0, "RETURN MIN"},
		{1, "RETURN (SAVE) UID $"},
		{2, "(REVERSE DATE SUBJECT) UTF-8 ALL"},
		{2, "RETURN (MIN MAX) (DISPLAYFROM) US-ASCII $"},
		{3, "(REVERSE) UTF-8 ALL"},
		{3, "() UTF-8 ALL"},
		{4, "REFERENCES UTF-8 ALL"},
		{5, "ORDEREDSUBJECT ISO-8859-1 SUBJECT x"},
		{4, "REFERENCES"},
		{6, "$ (UID FLAGS)"},
		{7, "$ +FLAGS (\\Seen)"},
	}
	for _, s := range seeds {
		f.Add(s.cmd, s.args)
	}
	f.Fuzz(func(t *testing.T, cmd uint8, args string) {
		line := "f " + searchFuzzCommands[int(cmd)%len(searchFuzzCommands)] + args
		const prefix = "L LOGIN alice secret\r\nS SELECT INBOX\r\nV SEARCH RETURN (SAVE) 2:*\r\n"
		conn := memconn.New(prefix+line+"\r\nzz9 LOGOUT\r\n", 143)
		var panics panicDetector
		srv := New(Options{
			NewSession: newFakeSessionFunc(newFakeStore(), true),
			Logger:     slog.New(slog.NewTextHandler(&panics, nil)),
		})
		srv.ServeConn(context.Background(), conn, false)
		if len(panics.panics) > 0 {
			t.Fatalf("panic for %q: %s", line, panics.panics)
		}
		if strings.ContainsAny(args, "\r\n{") {
			return
		}
		out := conn.Output()
		if _, rest, ok := strings.Cut(out, "\r\nV OK "); !ok || !statusLine.MatchString(rest) {
			t.Fatalf("no answer to %q; server said %q", line, out)
		}
	})
}
