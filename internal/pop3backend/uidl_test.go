package pop3backend

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

func TestUIDLFormat(t *testing.T) {
	tests := []struct {
		v, uid uint32
		want   string
	}{
		{1795630326, 1, "6b0724f600000001"}, // uw-observed.md §4.4
		{1795630326, 5, "6b0724f600000005"},
		{0, 0, "0000000000000000"},
		{0xffffffff, 0xabcdef12, "ffffffffabcdef12"},
		{1, 0x10000, "0000000100010000"},
	}
	for _, tt := range tests {
		if got := uidl(tt.v, tt.uid); got != tt.want {
			t.Errorf("uidl(%d, %d) = %q, want %q", tt.v, tt.uid, got, tt.want)
		}
	}
}

// TestUIDLStable checks that UIDL values are UIDVALIDITY and UID in hex,
// the same in two sessions, and that expunged UIDs leave gaps.
func TestUIDLStable(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			appendMsg(t, st, simpleMsg(i))
		}
		status, err := st.Status(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		uids := func() []string {
			s := login(t, st)
			defer s.Close()
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range list {
				out = append(out, m.UID)
			}
			return out
		}
		first := uids()
		var want []string
		for uid := uint32(1); uid <= 4; uid++ {
			want = append(want, uidl(status.UIDValidity, uid))
		}
		if !slices.Equal(first, want) {
			t.Errorf("UIDL = %q, want %q", first, want)
		}
		if second := uids(); !slices.Equal(second, first) {
			t.Errorf("UIDL in a second session = %q, want %q", second, first)
		}
		// Remove message 2 through a session's Update: the others keep
		// their values.
		s := login(t, st)
		if err := s.Dele(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if third, w := uids(), slices.Delete(slices.Clone(want), 1, 2); !slices.Equal(third, w) {
			t.Errorf("UIDL after removing 2 = %q, want %q", third, w)
		}
	})
}

// installUW copies a UW-written mbox from testdata as the INBOX of a new
// mbox store in dir.
func installUW(t *testing.T, dir, file string) mailstore.Store {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	opts := mboxOptions(dir)
	if err := os.MkdirAll(filepath.Dir(opts.Inbox), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(opts.Inbox, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return openMbox(t, dir)
}

// uwList is what UW ipop3d 2007f answered to UIDL and LIST on
// inbox-keywords.mbox (uw-observed.md §3.3). UW's sizes count a "Status:"
// header it added (12 octets); ours do not.
var uwList = []struct {
	uidl string
	size int64
}{
	{"6b0724f600000001", 533},
	{"6b0724f600000002", 509},
	{"6b0724f600000004", 719},
	{"6b0724f600000005", 201},
}

const uwStatusLen = len("Status: RO\r\n")

// TestUWUIDL checks that a mailbox UW wrote gives, through our mbox store,
// the UIDL values UW's ipop3d gave, in two sessions.
func TestUWUIDL(t *testing.T) {
	for _, file := range []string{"inbox-after-uw.mbox", "inbox-keywords.mbox"} {
		t.Run(file, func(t *testing.T) {
			st := installUW(t, t.TempDir(), file)
			for pass := 0; pass < 2; pass++ {
				s := login(t, st)
				list, err := s.List(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != len(uwList) {
					t.Fatalf("pass %d: List has %d messages, want %d", pass, len(list), len(uwList))
				}
				for i, w := range uwList {
					if list[i].UID != w.uidl {
						t.Errorf("pass %d: UIDL %d = %q, want UW's %q", pass, i+1, list[i].UID, w.uidl)
					}
					if want := w.size - int64(uwStatusLen); list[i].Size != want {
						t.Errorf("pass %d: LIST %d = %d, want %d (UW's %d without its Status line)", pass, i+1, list[i].Size, want, w.size)
					}
				}
				s.Close()
			}
		})
	}
}

// withoutStatus is a UW transcript's output with UW's added Status line
// left out, CRLF line ends.
func withoutStatus(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, "Status: ") {
			continue
		}
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

// TestUWSession replays UW's POP3 session (uw-observed.md §3.3) on the
// file it ran on: TOP 1 0, RETR 2, DELE 4, QUIT. The result must be what
// UW left (inbox-after-pop3.mbox): UID 2 \Seen, UID 5 gone, and the same
// log lines but for the host.
func TestUWSession(t *testing.T) {
	ctx := context.Background()
	st := installUW(t, t.TempDir(), "inbox-keywords.mbox")
	lr := &logRec{}
	s := loginLog(t, st, lr)
	wantTop := withoutStatus(
		"Return-Path: <alice@example.org>",
		"Received: from mail.example.org (localhost [127.0.0.1])",
		"\tby vm with ESMTP id 4AB1C2D3; Mon, 23 Nov 2026 09:15:02 +0000",
		"Date: Mon, 23 Nov 2026 09:15:00 +0000",
		"From: Alice Example <alice@example.org>",
		"To: UW Test <uwtest@localhost>",
		"Subject: Welcome to the test mailbox",
		"Message-ID: <welcome-1@example.org>",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=us-ascii",
		"Content-Transfer-Encoding: 7bit",
		"Status: RO",
		"",
	)
	if got := top(t, s, 1, 0); got != wantTop {
		t.Errorf("TOP 1 0 =\n%q\nwant (UW's)\n%q", got, wantTop)
	}
	wantRetr := withoutStatus(
		"Return-Path: <bob@example.net>",
		"Date: Mon, 23 Nov 2026 10:30:40 +0100",
		"From: =?UTF-8?Q?Bj=C3=B6rn_Bob?= <bob@example.net>",
		"Reply-To: bob-replies@example.net",
		"To: uwtest@localhost, Carol <carol@example.com>",
		"Cc: dave@example.com",
		"Subject: =?UTF-8?Q?Caf=C3=A9_menu?= for Friday",
		"Message-ID: <cafe-2@example.net>",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=UTF-8",
		"Content-Transfer-Encoding: quoted-printable",
		"Status:  O",
		"",
		"Caf=C3=A9 menu:",
		">From the kitchen: soup, bread, cr=C3=A8me br=C3=BBl=C3=A9e.",
	)
	if got := retr(t, s, 2); got != wantRetr {
		t.Errorf("RETR 2 =\n%q\nwant (UW's)\n%q", got, wantRetr)
	}
	if err := s.Dele(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if n, size, _ := s.Stat(ctx); n != 3 || size != 1761-3*int64(uwStatusLen) {
		t.Errorf("Stat after DELE 4 = %d %d, want 3 %d (UW's 1761 without Status lines)", n, size, 1761-3*uwStatusLen)
	}
	if err := s.Update(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := []string{
		"Login user=alice host=" + testHost + " nmsgs=4/4",
		"Update user=alice host=" + testHost + " nmsgs=3 ndele=1 nseen=1",
		"Logout user=alice host=" + testHost,
	}
	if got := lr.take(); !slices.Equal(got, want) {
		t.Errorf("log =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// inbox-after-pop3.mbox, as our store reads it.
	ref := installUW(t, t.TempDir(), "inbox-after-pop3.mbox")
	want = inbox(t, ref)
	if len(want) != 3 || want[1] != `2:\Answered \Flagged \Seen` {
		t.Fatalf("inbox-after-pop3.mbox reads as %q, want UIDs 1 2 4, UID 2 \\Seen", want)
	}
	if got := inbox(t, st); !slices.Equal(got, want) {
		t.Errorf("INBOX after QUIT = %q, want UW's %q", got, want)
	}
}
