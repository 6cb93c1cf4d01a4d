package imapserver

import (
	"bufio"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
)

func TestVisibleFlags(t *testing.T) {
	tests := []struct {
		in, want []imap.Flag
	}{
		{nil, nil},
		{[]imap.Flag{imap.FlagSeen}, []imap.Flag{imap.FlagSeen}},
		{[]imap.Flag{imap.FlagRecent}, []imap.Flag{}},
		{[]imap.Flag{imap.FlagRecent, imap.FlagSeen, imap.FlagRecent, "$Work"}, []imap.Flag{imap.FlagSeen, "$Work"}},
	}
	for _, tt := range tests {
		w := &writer{rev2: true}
		if got := w.visibleFlags(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("visibleFlags(%v) = %v, want %v", tt.in, got, tt.want)
		}
		w.rev2 = false
		if got := w.visibleFlags(tt.in); !slices.Equal(got, tt.in) {
			t.Errorf("visibleFlags(%v) in rev1 = %v, want it unchanged", tt.in, got)
		}
	}
}

// TestRev2Writer checks every writer path that could show \Recent or a
// RECENT count (RFC 9051 Appendix E item 12), rev1 and rev2.
func TestRev2Writer(t *testing.T) {
	flags := []imap.Flag{imap.FlagRecent, imap.FlagSeen}
	run := func(rev2 bool) string {
		var b strings.Builder
		bw := bufio.NewWriter(&b)
		w := newWriter(imapwire.NewEncoder(bw))
		w.rev2 = rev2
		w.WriteRecent(3)
		w.WriteMessageFlags(1, 7, flags)
		w.WriteMailboxFlags(flags, flags)
		fm := w.Message(2)
		fm.WriteFlags(flags)
		fm.Close()
		w.Flush()
		return b.String()
	}
	want1 := "* 3 RECENT\r\n* 1 FETCH (UID 7 FLAGS (\\Recent \\Seen))\r\n* FLAGS (\\Recent \\Seen)\r\n* OK [PERMANENTFLAGS (\\Recent \\Seen)] Flags permitted\r\n* 2 FETCH (FLAGS (\\Recent \\Seen))\r\n"
	want2 := "* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS (\\Seen)] Flags permitted\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"
	if got := run(false); got != want1 {
		t.Errorf("rev1 responses:\n%q\nwant\n%q", got, want1)
	}
	if got := run(true); got != want2 {
		t.Errorf("rev2 responses:\n%q\nwant\n%q", got, want2)
	}
}
