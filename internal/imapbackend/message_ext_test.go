package imapbackend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestFetchSaveDate checks FETCH SAVEDATE and the SAVED* search keys
// (RFC 8514 §4.2, §4.3): the save date is when the store took the message
// (the stores' clock, testTime), not the internal date.
func TestFetchSaveDate(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		if _, _, err := st.Append(context.Background(), "INBOX", strings.NewReader("Subject: old\r\n\r\nx\r\n"),
			mailstore.AppendOptions{InternalDate: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		if err := s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{InternalDate: true, SaveDate: true}); err != nil {
			t.Fatal(err)
		}
		want := `* 1 FETCH (INTERNALDATE "03-Feb-2001 04:05:06 +0000" SAVEDATE "25-Nov-2026 12:00:00 +0000")`
		if got := fr.take(); got != want {
			t.Errorf("Fetch = %q, want %q", got, want)
		}
		day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
		tests := []struct {
			c    imap.SearchCriteria
			want []uint32
		}{
			{imap.SearchCriteria{SavedOn: day(25)}, []uint32{1}},
			{imap.SearchCriteria{SavedSince: day(25)}, []uint32{1}},
			{imap.SearchCriteria{SavedSince: day(26)}, nil},
			{imap.SearchCriteria{SavedBefore: day(25)}, nil},
			{imap.SearchCriteria{SavedBefore: day(26)}, []uint32{1}},
			{imap.SearchCriteria{Not: []imap.SearchCriteria{{SavedOn: day(24)}}}, []uint32{1}},
		}
		for _, tt := range tests {
			d, err := s.Search(context.Background(), imap.NumKindSeq, &tt.c, &imap.SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.All, tt.want) {
				t.Errorf("Search(%+v) = %v, want %v", tt.c, d.All, tt.want)
			}
		}
	})
}

// TestObjectIDs checks RFC 8474 §5: EMAILID is kept by COPY and MOVE and
// differs between messages; THREADID follows the thread root.
func TestObjectIDs(t *testing.T) {
	root := "Message-ID: <r@x>\r\nSubject: a\r\n\r\nbody\r\n"
	reply := "Message-ID: <s@x>\r\nIn-Reply-To: <r@x>\r\nSubject: b\r\n\r\nbody\r\n"
	other := "Subject: c\r\n\r\nbody\r\n"
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		for _, m := range []string{root, reply, other} {
			appendMsg(t, st, "INBOX", m)
		}
		if err := st.Create(context.Background(), "Box", ""); err != nil {
			t.Fatal(err)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		ids := func() []string {
			fr := &fetchRec{}
			if err := s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1:*"), &imap.FetchOptions{EmailID: true, ThreadID: true}); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range strings.Split(fr.take(), "\n") {
				var seq int
				var e, th string
				if _, err := fmt.Sscanf(l, "* %d FETCH (EMAILID (%25s) THREADID (%25s)", &seq, &e, &th); err != nil {
					t.Fatalf("%q: %v", l, err)
				}
				out = append(out, e, th)
			}
			return out
		}
		in := ids()
		if in[0] == in[2] || in[0] == in[4] || in[2] == in[4] {
			t.Errorf("EMAILIDs %q, %q, %q are not distinct", in[0], in[2], in[4])
		}
		if in[1] != in[3] || in[1] == in[5] {
			t.Errorf("THREADIDs %q, %q, %q: want the first two equal, the third different", in[1], in[3], in[5])
		}
		if _, err := s.Copy(context.Background(), imap.NumKindSeq, set(t, "1"), "Box"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Move(context.Background(), &updates{}, imap.NumKindSeq, set(t, "2"), "Box"); err != nil {
			t.Fatal(err)
		}
		selectBox(t, s, "Box", true)
		box := ids()
		if !slices.Equal(box, in[:4]) {
			t.Errorf("object IDs after COPY and MOVE = %q, want %q", box, in[:4])
		}
	})
}

// TestAppendUndo checks the MULTIAPPEND rollback (RFC 3502 §6.3.11): the
// messages a failed APPEND stored are gone, in another mailbox and in the
// selected one, whose session is told nothing.
func TestAppendUndo(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", "Subject: keep\r\n\r\nx\r\n")
		if err := st.Create(context.Background(), "Box", ""); err != nil {
			t.Fatal(err)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		for _, box := range []string{"Box", "INBOX"} {
			var done []*imap.AppendData
			for i := 0; i < 2; i++ {
				msg := "Subject: undo\r\n\r\ny\r\n"
				d, err := s.Append(context.Background(), box, strings.NewReader(msg), int64(len(msg)), &imap.AppendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				done = append(done, d)
			}
			if err := s.AppendUndo(context.Background(), box, done); err != nil {
				t.Fatalf("AppendUndo(%s) = %v", box, err)
			}
			status, err := st.Status(context.Background(), box)
			if err != nil || status.Messages != map[string]uint32{"Box": 0, "INBOX": 1}[box] {
				t.Errorf("%s after AppendUndo: %+v, %v", box, status, err)
			}
		}
		var u updates
		if err := s.Poll(context.Background(), &u, true); err != nil {
			t.Fatal(err)
		}
		if got := u.take(); got != "" {
			t.Errorf("Poll after an undone APPEND to the selected mailbox = %q, want nothing", got)
		}
	})
}
