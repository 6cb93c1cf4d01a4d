package mbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// sampleMsg is what a UW sample must show for one message.
type sampleMsg struct {
	uid   uint32
	flags []string
	date  string // INTERNALDATE as UW sent it
	size  int64  // RFC822.SIZE as UW sent it (CRLF form); 0: not observed
	// orig is the index (1-based) of the same message in
	// inbox-delivered.mbox, whose visible text must be identical; 0: none.
	orig int
}

var samples = []struct {
	file        string
	inbox       bool
	uidValidity uint32
	uidNext     uint32
	msgs        []sampleMsg
}{
	{"inbox-delivered.mbox", true, 0, 5, []sampleMsg{
		{1, nil, "23-Nov-2026 09:15:02 +0000", 521, 1},
		{2, nil, "23-Nov-2026 10:30:45 +0000", 497, 2},
		{3, nil, "", 629, 3},
		{4, nil, "24-Nov-2026 16:20:10 +0000", 707, 4},
	}},
	{"inbox-after-uw.mbox", true, 1795630326, 6, []sampleMsg{
		{1, []string{`\Seen`}, "23-Nov-2026 09:15:02 +0000", 521, 1},
		{2, []string{`\Answered`, `\Flagged`}, "23-Nov-2026 10:30:45 +0000", 497, 2},
		{4, nil, "24-Nov-2026 16:20:10 +0000", 707, 4},
		{5, []string{`\Seen`}, "25-Nov-2026 12:00:00 +0000", 189, 0},
	}},
	{"inbox-keywords.mbox", true, 1795630326, 6, []sampleMsg{
		{1, []string{"$Label1", "Work", `\Seen`}, "", 521, 1},
		{2, []string{`\Answered`, `\Flagged`}, "", 497, 2},
		{4, []string{"Work"}, "", 707, 4},
		{5, []string{`\Seen`}, "", 189, 0},
	}},
	{"inbox-after-pop3.mbox", true, 1795630326, 6, []sampleMsg{
		{1, []string{"$Label1", "Work", `\Seen`}, "", 521, 1},
		{2, []string{`\Answered`, `\Flagged`, `\Seen`}, "", 497, 2},
		{4, []string{"Work"}, "", 707, 4},
	}},
	{"saved-created-by-uw.mbox", false, 1795630345, 4, []sampleMsg{
		{1, []string{"Project-X", `\Seen`}, "23-Nov-2026 09:15:02 +0000", 521, 1},
		{2, []string{`\Answered`, `\Flagged`}, "23-Nov-2026 10:30:45 +0000", 497, 2},
		{3, []string{`\Draft`}, "25-Nov-2026 18:12:25 +0000", 0, 0},
	}},
}

// crlfLen is the length of b with bare LFs counted as CRLF.
func crlfLen(b []byte) int64 {
	n := int64(len(b))
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			n++
		}
	}
	return n
}

// deliveredMsgs returns the messages of inbox-delivered.mbox as an MTA
// wrote them (framed by hand here: "From " lines, blank separator).
func deliveredMsgs(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/inbox-delivered.mbox")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, part := range bytes.Split(b, []byte("\nFrom ")) {
		i := bytes.IndexByte(part, '\n')
		msg := part[i+1:]
		msg = bytes.TrimSuffix(msg, []byte("\n"))
		out = append(out, msg)
	}
	for i := 0; i < len(out)-1; i++ {
		out[i] = append(out[i], '\n')
	}
	return out
}

// installSample puts a sample file in place as INBOX or as "saved".
func installSample(t *testing.T, dir, file string, inbox bool) (mailstore.Store, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(dir)
	dest, name := opts.Inbox, "INBOX"
	if !inbox {
		dest, name = filepath.Join(opts.Root, "saved"), "saved"
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return openTest(t, dir), name
}

func TestSamples(t *testing.T) {
	ctx := context.Background()
	orig := deliveredMsgs(t)
	for _, sm := range samples {
		t.Run(sm.file, func(t *testing.T) {
			s, name := installSample(t, t.TempDir(), sm.file, sm.inbox)
			defer s.Close()
			mb, err := s.Open(ctx, name)
			if err != nil {
				t.Fatalf("Open(%s) = %v", name, err)
			}
			defer mb.Close()
			st, err := mb.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sm.uidValidity != 0 && st.UIDValidity != sm.uidValidity || st.UIDNext != sm.uidNext {
				t.Errorf("State = %+v, want UIDVALIDITY %d, UIDNEXT %d", st, sm.uidValidity, sm.uidNext)
			}
			var uids []uint32
			for _, m := range sm.msgs {
				uids = append(uids, m.uid)
			}
			info, err := mb.Info(ctx, uids)
			if err != nil || len(info) != len(sm.msgs) {
				t.Fatalf("Info(%v) = %d messages, %v, want %d", uids, len(info), err, len(sm.msgs))
			}
			for i, want := range sm.msgs {
				got := info[i]
				if got.UID != want.uid || !slices.Equal(got.Flags, want.flags) {
					t.Errorf("message %d = UID %d flags %q, want UID %d flags %q", i+1, got.UID, got.Flags, want.uid, want.flags)
				}
				if want.date != "" {
					if d := got.InternalDate.Format("02-Jan-2006 15:04:05 -0700"); d != want.date {
						t.Errorf("UID %d INTERNALDATE = %s, want %s", want.uid, d, want.date)
					}
				}
				r, err := mb.OpenMessage(ctx, want.uid)
				if err != nil {
					t.Fatalf("OpenMessage(%d) = %v", want.uid, err)
				}
				body, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
				r.Close()
				if int64(len(body)) != got.Size {
					t.Errorf("UID %d: read %d bytes, Info.Size %d", want.uid, len(body), got.Size)
				}
				if want.size != 0 && crlfLen(body) != want.size {
					t.Errorf("UID %d RFC822.SIZE = %d, want %d (UW's)", want.uid, crlfLen(body), want.size)
				}
				if want.orig != 0 && !bytes.Equal(body, orig[want.orig-1]) {
					t.Errorf("UID %d text = %q, want %q", want.uid, body, orig[want.orig-1])
				}
				for _, h := range []string{"\nStatus:", "\nX-Status:", "\nX-Keywords:", "\nX-UID:", "\nX-IMAP"} {
					if bytes.Contains(body, []byte(h)) {
						t.Errorf("UID %d shows hidden header %q", want.uid, h[1:])
					}
				}
			}
			if msgs, _ := mb.Messages(ctx); len(msgs) != len(sm.msgs) {
				t.Errorf("Messages = %d, want %d (the pseudo message hidden)", len(msgs), len(sm.msgs))
			}
		})
	}
}

// TestSampleUnchangedByReading checks that opening, reading and closing
// a UW file writes nothing to it.
func TestSampleUnchangedByReading(t *testing.T) {
	ctx := context.Background()
	for _, file := range []string{"inbox-after-uw.mbox", "inbox-keywords.mbox", "saved-created-by-uw.mbox"} {
		dir := t.TempDir()
		s, name := installSample(t, dir, file, true)
		mb, err := s.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := mb.Messages(ctx)
		for _, m := range msgs {
			r, err := mb.OpenMessage(ctx, m.UID)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}
		mb.Close()
		s.Close()
		want, _ := os.ReadFile(filepath.Join("testdata", file))
		got, _ := os.ReadFile(testOptions(dir).Inbox)
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed by reading:\n%s", file, got)
		}
	}
}

// TestSampleFlagsInPlace stores flags on UW's file and checks that UW's
// padded blocks are rewritten in place: same size, only those bytes.
func TestSampleFlagsInPlace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := installSample(t, dir, "inbox-after-uw.mbox", true)
	defer s.Close()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{4}, mailstore.FlagsAdd, []string{`\Flagged`, "Work"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{"Work", "$Label1"}, 0); err != nil {
		t.Fatal(err)
	}
	mb.Close()
	got, _ := os.ReadFile(testOptions(dir).Inbox)
	for _, want := range []string{
		"X-IMAPbase: 1795630326 5 Work $Label1\nStatus: RO\nX-Status: \nX-Keywords: Work $Label1\nX-UID: 1\n",
		"Status: O\nX-Status: F\nX-Keywords: Work            \nX-UID: 4\n",
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("file lacks %q:\n%s", want, got)
		}
	}
	s2 := openTest(t, dir)
	defer s2.Close()
	mb2, _ := s2.Open(ctx, "INBOX")
	defer mb2.Close()
	info, _ := mb2.Info(ctx, []uint32{1, 4})
	if len(info) != 2 || !slices.Equal(info[0].Flags, []string{"$Label1", "Work", `\Seen`}) || !slices.Equal(info[1].Flags, []string{"Work", `\Flagged`}) {
		t.Errorf("flags after reopen = %+v", info)
	}
}

var _ = time.UTC
var _ = mbox.IndexName

// TestDeliveredUIDsPersist opens an MTA-written INBOX (no UW headers):
// the UIDs handed out are written into the file at Close, with
// X-IMAPbase, so a lost index gives the same UIDVALIDITY and UIDs, and
// the texts clients see are unchanged.
func TestDeliveredUIDsPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := installSample(t, dir, "inbox-delivered.mbox", true)
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{3}, mailstore.FlagsAdd, []string{`\Flagged`, "Later"}, 0); err != nil {
		t.Fatal(err)
	}
	st1, _ := mb.State(ctx)
	var texts []string
	for uid := uint32(1); uid <= 4; uid++ {
		texts = append(texts, readMsg(t, mb, uid))
	}
	mb.Close()
	s.Close()
	b, _ := os.ReadFile(testOptions(dir).Inbox)
	for _, want := range []string{"X-IMAPbase: " + fmt.Sprint(st1.UIDValidity) + " 4 Later\n", "X-UID: 4\n", "X-Status: F\n"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("file lacks %q after Close:\n%s", want, b)
		}
	}
	os.Remove(testOptions(dir).IndexPath) // testOptions leaves it empty: Root/.postern-index.sqlite
	os.RemoveAll(filepath.Join(testOptions(dir).Root))
	s = openTest(t, dir)
	defer s.Close()
	mb, _ = s.Open(ctx, "INBOX")
	defer mb.Close()
	st2, _ := mb.State(ctx)
	if st2.UIDValidity != st1.UIDValidity || st2.UIDNext != 5 {
		t.Errorf("State from the file alone = %+v, want UIDVALIDITY %d, UIDNEXT 5", st2, st1.UIDValidity)
	}
	info, _ := mb.Info(ctx, []uint32{3})
	if len(info) != 1 || !slices.Equal(info[0].Flags, []string{"Later", `\Flagged`}) {
		t.Errorf("UID 3 from the file alone = %+v", info)
	}
	for i, want := range texts {
		if got := readMsg(t, mb, uint32(i+1)); got != want {
			t.Errorf("UID %d text changed by the rewrite: %q, want %q", i+1, got, want)
		}
	}
}
