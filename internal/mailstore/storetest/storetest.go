// Package storetest is the conformance suite every mailstore driver runs, in
// the manner of testing/fstest: a driver's test calls Run with a function
// that opens a fresh, empty store, and RunPersistent with one that opens the
// store kept at a location, to check what must survive a reopen.
//
// The suite pins down the parts of the mailstore contract that the interface
// comments leave to interpretation:
//
//   - System flags are case-insensitive and stored in their canonical
//     spelling (`\seen` becomes `\Seen`); `\Recent` is never stored.
//   - A new mailbox starts with UIDNEXT 1 and MODSEQ 0 wherever it is not
//     changed yet; every change gives strictly greater MODSEQs.
//   - ClaimRecent returns the lowest UID the caller sees as recent: every
//     message whose UID is at least the value returned is recent for it. When
//     nothing is recent, the value is greater than every existing UID.
//   - A deleted and re-created mailbox gets a different UIDVALIDITY.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// Run runs the conformance suite; open must return a new, empty store for
// each call (each subtest calls it once). Run the driver's tests with -race:
// the concurrency subtests rely on it.
func Run(t *testing.T, open func(t *testing.T) mailstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s mailstore.Store)
	}{
		{"InboxExists", testInboxExists},
		{"CreateList", testCreateList},
		{"InvalidNames", testInvalidNames},
		{"Delete", testDelete},
		{"Rename", testRename},
		{"RenameInbox", testRenameInbox},
		{"Subscriptions", testSubscriptions},
		{"Append", testAppend},
		{"FlagCase", testFlagCase},
		{"UIDValidityStable", testUIDValidityStable},
		{"ExpungeNoReuse", testExpungeNoReuse},
		{"StoreFlags", testStoreFlags},
		{"UnchangedSince", testUnchangedSince},
		{"Changes", testChanges},
		{"ModSeqHistory", testModSeqHistory},
		{"Info", testInfo},
		{"OpenMessage", testOpenMessage},
		{"SetCache", testSetCache},
		{"HeaderCache", testHeaderCache},
		{"OpenBatch", testOpenBatch},
		{"CopyTo", testCopyTo},
		{"MoveTo", testMoveTo},
		{"ClaimRecent", testClaimRecent},
		{"Status", testStatus},
		{"Watch", testWatch},
		{"Concurrent", testConcurrent},
		{"SaveDate", testSaveDate},
		{"MailboxID", testMailboxID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

// RunPersistent checks what must survive closing and reopening a store:
// mailboxes, UIDVALIDITY, UIDNEXT after expunges (UIDs are never reused),
// flags and subscriptions. open is called twice with the same loc (a fresh
// directory the suite creates, which a driver that does not use the file
// system may treat as a key) and must return the same persistent store.
func RunPersistent(t *testing.T, open func(t *testing.T, loc string) mailstore.Store) {
	ctx := context.Background()
	loc := t.TempDir()
	s := open(t, loc)
	mustCreate(t, s, "Box", "")
	var uv uint32
	for i := 1; i <= 3; i++ {
		uv, _ = mustAppend(t, s, "Box", msg(i), `\Seen`)
	}
	mb := mustOpen(t, s, "Box")
	if _, err := mb.Expunge(ctx, []uint32{2, 3}); err != nil {
		t.Fatalf("Expunge: %v", err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{"Work"}, 0); err != nil {
		t.Fatalf("StoreFlags: %v", err)
	}
	st1, err := mb.State(ctx)
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	mb.Close()
	if err := s.SetSubscribed(ctx, "Box", true); err != nil {
		t.Fatalf("SetSubscribed: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, loc)
	defer s.Close()
	mb = mustOpen(t, s, "Box")
	defer mb.Close()
	st2, err := mb.State(ctx)
	if err != nil {
		t.Fatalf("State after reopen: %v", err)
	}
	if st2.UIDValidity != st1.UIDValidity || st2.UIDNext != st1.UIDNext || st2.HighestModSeq < st1.HighestModSeq || st2.MailboxID != st1.MailboxID {
		t.Errorf("State after reopen = %+v, want %+v", st2, st1)
	}
	checkHistoryPersists(t, mb, []uint32{2, 3})
	msgs := mustMessages(t, mb)
	if len(msgs) != 1 || msgs[0].UID != 1 || !slices.Equal(msgs[0].Flags, []string{"Work", `\Seen`}) {
		t.Errorf("Messages after reopen = %+v, want UID 1 with [Work \\Seen]", msgs)
	}
	uv2, uid := mustAppend(t, s, "Box", msg(4))
	if uv2 != uv || uid != 4 {
		t.Errorf("Append after reopen = (%d, %d), want (%d, 4)", uv2, uid, uv)
	}
	subs, err := s.Subscriptions(ctx)
	if err != nil || !slices.Equal(subs, []string{"Box"}) {
		t.Errorf("Subscriptions after reopen = %q, %v, want [Box]", subs, err)
	}
}

// LFWriter is an optional interface of a store that writes every message
// with LF line ends whatever line ends it was given (mbox, as UW's unix
// driver does): its messages read back, and count in sizes, in that form.
// The IMAP layer sends bare LFs as CRLF, so a client sees the same message
// either way. Other stores keep the octets they were given.
type LFWriter interface {
	WritesLF() bool
}

// stored returns message m as s stores it: m itself, or m with each CRLF
// made LF for an LFWriter.
func stored(s mailstore.Store, m string) string {
	if w, ok := s.(LFWriter); ok && w.WritesLF() {
		return strings.ReplaceAll(m, "\r\n", "\n")
	}
	return m
}

// msg returns the n-th test message, with CRLF line ends.
func msg(n int) string {
	return fmt.Sprintf("From: a@example.org\r\nSubject: message %d\r\n\r\nBody %d.\r\n", n, n)
}

func mustCreate(t *testing.T, s mailstore.Store, name, special string) {
	t.Helper()
	if err := s.Create(context.Background(), name, special); err != nil {
		t.Fatalf("Create(%q) = %v, want nil", name, err)
	}
}

func mustAppend(t *testing.T, s mailstore.Store, name, body string, flags ...string) (uint32, uint32) {
	t.Helper()
	uv, uid, err := s.Append(context.Background(), name, strings.NewReader(body), mailstore.AppendOptions{Flags: flags})
	if err != nil {
		t.Fatalf("Append(%q) = %v, want nil", name, err)
	}
	return uv, uid
}

func mustOpen(t *testing.T, s mailstore.Store, name string) mailstore.Mailbox {
	t.Helper()
	mb, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", name, err)
	}
	return mb
}

func mustMessages(t *testing.T, mb mailstore.Mailbox) []mailstore.MessageMeta {
	t.Helper()
	msgs, err := mb.Messages(context.Background())
	if err != nil {
		t.Fatalf("Messages(%q) = %v", mb.Name(), err)
	}
	return msgs
}

func mustStatus(t *testing.T, s mailstore.Store, name string) mailstore.Status {
	t.Helper()
	st, err := s.Status(context.Background(), name)
	if err != nil {
		t.Fatalf("Status(%q) = %v", name, err)
	}
	return st
}

func uidsOf(msgs []mailstore.MessageMeta) []uint32 {
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		uids[i] = m.UID
	}
	return uids
}

func names(t *testing.T, s mailstore.Store) []string {
	t.Helper()
	list, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	var out []string
	for _, mi := range list {
		out = append(out, mi.Name)
	}
	return out
}

func readAll(t *testing.T, mb mailstore.Mailbox, uid uint32) string {
	t.Helper()
	r, err := mb.OpenMessage(context.Background(), uid)
	if err != nil {
		t.Fatalf("OpenMessage(%d) = %v", uid, err)
	}
	defer r.Close()
	buf := make([]byte, r.Size())
	if n, err := r.ReadAt(buf, 0); n != len(buf) {
		t.Fatalf("ReadAt(%d bytes) = %d, %v", len(buf), n, err)
	}
	return string(buf)
}

func wantErr(t *testing.T, what string, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Errorf("%s = %v, want %v", what, err, kinds)
}

func testInboxExists(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	if got := names(t, s); !slices.Equal(got, []string{"INBOX"}) {
		t.Errorf("List = %q, want [INBOX]", got)
	}
	for _, n := range []string{"INBOX", "inbox", "InBox"} {
		st := mustStatus(t, s, n)
		if st.Messages != 0 || st.UIDNext != 1 || st.UIDValidity == 0 {
			t.Errorf("Status(%q) = %+v, want empty with UIDNEXT 1", n, st)
		}
		mb := mustOpen(t, s, n)
		if mb.Name() != "INBOX" {
			t.Errorf("Open(%q).Name() = %q, want INBOX", n, mb.Name())
		}
		mb.Close()
	}
	wantErr(t, `Create("INBOX")`, s.Create(ctx, "INBOX", ""), mailstore.ErrExist)
	wantErr(t, `Create("inbox")`, s.Create(ctx, "inbox", ""), mailstore.ErrExist)
	wantErr(t, `Delete("INBOX")`, s.Delete(ctx, "INBOX"), mailstore.ErrInvalidName)
	_, _, err := s.Append(ctx, "inbox", strings.NewReader(msg(1)), mailstore.AppendOptions{})
	if err != nil {
		t.Errorf(`Append("inbox") = %v, want nil`, err)
	}
	mustCreate(t, s, "inbox/sub", "")
	if got, want := names(t, s), []string{"INBOX", "INBOX/sub"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func testCreateList(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "Sent", mailstore.SpecialSent)
	mustCreate(t, s, "a/b/c", "")
	mustCreate(t, s, "Ünïcode ☃", "")
	mustCreate(t, s, "dots.and%percent", "")
	want := []string{"INBOX", "Sent", "a", "a/b", "a/b/c", "dots.and%percent", "Ünïcode ☃"}
	if got := names(t, s); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
	list, _ := s.List(ctx)
	for _, mi := range list {
		wantUse := ""
		if mi.Name == "Sent" {
			wantUse = mailstore.SpecialSent
		}
		if mi.SpecialUse != wantUse || mi.NoSelect || mi.Subscribed {
			t.Errorf("List entry %+v, want SpecialUse %q, selectable, unsubscribed", mi, wantUse)
		}
	}
	wantErr(t, `Create("Sent") again`, s.Create(ctx, "Sent", ""), mailstore.ErrExist)
	wantErr(t, `Create("a/b")`, s.Create(ctx, "a/b", ""), mailstore.ErrExist)
	for _, n := range want {
		st := mustStatus(t, s, n)
		if st.Messages != 0 || st.UIDNext != 1 || st.UIDValidity == 0 {
			t.Errorf("Status(%q) = %+v, want empty with UIDNEXT 1", n, st)
		}
	}
	mustAppend(t, s, "dots.and%percent", msg(1))
	if st := mustStatus(t, s, "dots.and%percent"); st.Messages != 1 {
		t.Errorf("Status(dots.and%%percent).Messages = %d, want 1", st.Messages)
	}
	wantErr(t, `Status("missing")`, func() error { _, err := s.Status(ctx, "missing"); return err }(), mailstore.ErrNotExist)
	wantErr(t, `Open("missing")`, func() error { _, err := s.Open(ctx, "missing"); return err }(), mailstore.ErrNotExist)
}

func testInvalidNames(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "ok", "")
	for _, n := range []string{"", ".", "..", "/", "/a", "a/", "a//b", "a/./b", "a/../b", "../a", "a/..", "a\x00b", "\xff\xfe"} {
		wantErr(t, fmt.Sprintf("Create(%q)", n), s.Create(ctx, n, ""), mailstore.ErrInvalidName)
		wantErr(t, fmt.Sprintf("Rename(ok, %q)", n), s.Rename(ctx, "ok", n), mailstore.ErrInvalidName)
		wantErr(t, fmt.Sprintf("Delete(%q)", n), s.Delete(ctx, n), mailstore.ErrInvalidName, mailstore.ErrNotExist)
		_, err := s.Status(ctx, n)
		wantErr(t, fmt.Sprintf("Status(%q)", n), err, mailstore.ErrInvalidName, mailstore.ErrNotExist)
		_, err = s.Open(ctx, n)
		wantErr(t, fmt.Sprintf("Open(%q)", n), err, mailstore.ErrInvalidName, mailstore.ErrNotExist)
		_, _, err = s.Append(ctx, n, strings.NewReader(msg(1)), mailstore.AppendOptions{})
		wantErr(t, fmt.Sprintf("Append(%q)", n), err, mailstore.ErrInvalidName, mailstore.ErrNotExist)
	}
	if got, want := names(t, s), []string{"INBOX", "ok"}; !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func testDelete(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	wantErr(t, `Delete("missing")`, s.Delete(ctx, "missing"), mailstore.ErrNotExist)
	mustCreate(t, s, "a/b", "")
	mustAppend(t, s, "a/b", msg(1))
	wantErr(t, `Delete("a")`, s.Delete(ctx, "a"), mailstore.ErrHasChildren)
	uv := mustStatus(t, s, "a/b").UIDValidity
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatalf(`Delete("a/b") = %v`, err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatalf(`Delete("a") = %v`, err)
	}
	if got := names(t, s); !slices.Equal(got, []string{"INBOX"}) {
		t.Errorf("List after Delete = %q, want [INBOX]", got)
	}
	_, err := s.Status(ctx, "a/b")
	wantErr(t, `Status("a/b") after Delete`, err, mailstore.ErrNotExist)
	mustCreate(t, s, "a/b", "")
	st := mustStatus(t, s, "a/b")
	if st.Messages != 0 || st.UIDValidity == uv {
		t.Errorf("Status of re-created a/b = %+v, want empty with UIDVALIDITY != %d", st, uv)
	}
}

func testRename(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "a/b", "")
	mustCreate(t, s, "other", "")
	uv, _ := mustAppend(t, s, "a", msg(1), `\Flagged`)
	mustAppend(t, s, "a/b", msg(2))
	wantErr(t, `Rename("missing", "x")`, s.Rename(ctx, "missing", "x"), mailstore.ErrNotExist)
	wantErr(t, `Rename("a", "other")`, s.Rename(ctx, "a", "other"), mailstore.ErrExist)
	wantErr(t, `Rename("a", "INBOX")`, s.Rename(ctx, "a", "INBOX"), mailstore.ErrExist)
	if err := s.Rename(ctx, "a", "x/y"); err != nil {
		t.Fatalf(`Rename("a", "x/y") = %v`, err)
	}
	want := []string{"INBOX", "other", "x", "x/y", "x/y/b"}
	if got := names(t, s); !slices.Equal(got, want) {
		t.Errorf("List after Rename = %q, want %q", got, want)
	}
	st := mustStatus(t, s, "x/y")
	if st.UIDValidity != uv || st.Messages != 1 || st.UIDNext != 2 {
		t.Errorf("Status(x/y) = %+v, want UIDVALIDITY %d, 1 message, UIDNEXT 2", st, uv)
	}
	mb := mustOpen(t, s, "x/y/b")
	defer mb.Close()
	if got := readAll(t, mb, 1); got != stored(s, msg(2)) {
		t.Errorf("x/y/b message 1 = %q, want %q", got, stored(s, msg(2)))
	}
	mb2 := mustOpen(t, s, "x/y")
	defer mb2.Close()
	if msgs := mustMessages(t, mb2); len(msgs) != 1 || !slices.Equal(msgs[0].Flags, []string{`\Flagged`}) {
		t.Errorf("x/y messages = %+v, want one \\Flagged", msgs)
	}
	_, err := s.Status(ctx, "a")
	wantErr(t, `Status("a") after Rename`, err, mailstore.ErrNotExist)
}

func testRenameInbox(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "INBOX/child", "")
	_, uid1 := mustAppend(t, s, "INBOX", msg(1), `\Seen`)
	_, uid2 := mustAppend(t, s, "INBOX", msg(2))
	inbox := mustOpen(t, s, "INBOX")
	defer inbox.Close()
	if err := s.Rename(ctx, "INBOX", "Old"); err != nil {
		t.Fatalf(`Rename("INBOX", "Old") = %v`, err)
	}
	want := []string{"INBOX", "INBOX/child", "Old"}
	if got := names(t, s); !slices.Equal(got, want) {
		t.Errorf("List after Rename INBOX = %q, want %q", got, want)
	}
	if st := mustStatus(t, s, "INBOX"); st.Messages != 0 {
		t.Errorf("Status(INBOX).Messages after Rename = %d, want 0", st.Messages)
	}
	if msgs := mustMessages(t, inbox); len(msgs) != 0 {
		t.Errorf("open INBOX Messages after Rename = %+v, want none", msgs)
	}
	old := mustOpen(t, s, "Old")
	defer old.Close()
	msgs := mustMessages(t, old)
	if len(msgs) != 2 || !slices.Equal(msgs[0].Flags, []string{`\Seen`}) {
		t.Fatalf("Old messages = %+v, want 2, the first \\Seen", msgs)
	}
	for i, m := range msgs {
		if got := readAll(t, old, m.UID); got != stored(s, msg(i+1)) {
			t.Errorf("Old message %d = %q, want %q", m.UID, got, stored(s, msg(i+1)))
		}
	}
	uv, uid3 := mustAppend(t, s, "INBOX", msg(3))
	if uv == mustStatus(t, s, "Old").UIDValidity && uid3 <= max(uid1, uid2) {
		t.Errorf("Append to INBOX after Rename got UID %d, want > %d", uid3, uid2)
	}
	if st, _ := inbox.State(ctx); st.UIDNext <= uid2 {
		t.Errorf("INBOX UIDNEXT after Rename = %d, want > %d", st.UIDNext, uid2)
	}
}

func testSubscriptions(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "Sent", "")
	for _, n := range []string{"Sent", "nonexistent", "INBOX"} {
		if err := s.SetSubscribed(ctx, n, true); err != nil {
			t.Fatalf("SetSubscribed(%q, true) = %v", n, err)
		}
	}
	subs, err := s.Subscriptions(ctx)
	if want := []string{"INBOX", "Sent", "nonexistent"}; err != nil || !slices.Equal(subs, want) {
		t.Errorf("Subscriptions = %q, %v, want %q", subs, err, want)
	}
	list, _ := s.List(ctx)
	for _, mi := range list {
		if !mi.Subscribed {
			t.Errorf("List entry %+v, want Subscribed", mi)
		}
	}
	if err := s.SetSubscribed(ctx, "Sent", false); err != nil {
		t.Fatalf("SetSubscribed(Sent, false) = %v", err)
	}
	if err := s.SetSubscribed(ctx, "never", false); err != nil {
		t.Errorf("SetSubscribed(never, false) = %v, want nil", err)
	}
	subs, _ = s.Subscriptions(ctx)
	if want := []string{"INBOX", "nonexistent"}; !slices.Equal(subs, want) {
		t.Errorf("Subscriptions = %q, want %q", subs, want)
	}
}

func testAppend(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "Box", "")
	date := time.Date(2024, 2, 29, 13, 14, 15, 0, time.FixedZone("", -5*3600))
	uv, uid1, err := s.Append(ctx, "Box", strings.NewReader(msg(1)), mailstore.AppendOptions{
		Flags:        []string{"$Forwarded", `\Seen`, `\Recent`, "Work", `\Seen`},
		InternalDate: date,
	})
	if err != nil || uid1 != 1 || uv == 0 {
		t.Fatalf("Append = (%d, %d, %v), want (nonzero, 1, nil)", uv, uid1, err)
	}
	_, uid2 := mustAppend(t, s, "Box", msg(2))
	if uid2 != 2 {
		t.Errorf("second Append UID = %d, want 2", uid2)
	}
	mb := mustOpen(t, s, "Box")
	defer mb.Close()
	info, err := mb.Info(ctx, []uint32{1, 2})
	if err != nil || len(info) != 2 {
		t.Fatalf("Info = %+v, %v, want 2 messages", info, err)
	}
	if want := []string{"$Forwarded", "Work", `\Seen`}; !slices.Equal(info[0].Flags, want) {
		t.Errorf("Info(1).Flags = %q, want %q", info[0].Flags, want)
	}
	if !info[0].InternalDate.Equal(date) {
		t.Errorf("Info(1).InternalDate = %v, want %v", info[0].InternalDate, date)
	}
	if _, off := info[0].InternalDate.Zone(); off != -5*3600 {
		t.Errorf("Info(1).InternalDate zone offset = %d, want %d", off, -5*3600)
	}
	if info[1].InternalDate.IsZero() || len(info[1].Flags) != 0 {
		t.Errorf("Info(2) = %+v, want a non-zero date and no flags", info[1])
	}
	if want := int64(len(stored(s, msg(1)))); info[0].Size != want {
		t.Errorf("Info(1).Size = %d, want %d", info[0].Size, want)
	}
	if info[0].ModSeq == 0 || info[1].ModSeq <= info[0].ModSeq {
		t.Errorf("ModSeqs = %d, %d, want increasing and non-zero", info[0].ModSeq, info[1].ModSeq)
	}
	st, _ := mb.State(ctx)
	if st.UIDNext != 3 || st.UIDValidity != uv || st.HighestModSeq != info[1].ModSeq {
		t.Errorf("State = %+v, want UIDNEXT 3, UIDVALIDITY %d, HIGHESTMODSEQ %d", st, uv, info[1].ModSeq)
	}
	_, _, err = s.Append(ctx, "missing", strings.NewReader(msg(1)), mailstore.AppendOptions{})
	wantErr(t, `Append("missing")`, err, mailstore.ErrNotExist)
	// An empty message is odd but legal at this layer.
	_, uid3 := mustAppend(t, s, "Box", "")
	if got := readAll(t, mb, uid3); got != "" {
		t.Errorf("empty message read back as %q", got)
	}
}

func testFlagCase(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1), `\seen`, `\FLAGGED`, `\Answered`)
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	msgs := mustMessages(t, mb)
	if want := []string{`\Answered`, `\Flagged`, `\Seen`}; len(msgs) != 1 || !slices.Equal(msgs[0].Flags, want) {
		t.Fatalf("Messages = %+v, want flags %q", msgs, want)
	}
	changed, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsRemove, []string{`\SEEN`, `\draft`}, 0)
	if want := []string{`\Answered`, `\Flagged`}; err != nil || len(changed) != 1 || !slices.Equal(changed[0].Flags, want) {
		t.Errorf("StoreFlags(-\\SEEN) = %+v, %v, want flags %q", changed, err, want)
	}
}

func testUIDValidityStable(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	uv1 := mustStatus(t, s, "INBOX").UIDValidity
	uv2, _ := mustAppend(t, s, "INBOX", msg(1))
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	if _, err := mb.Expunge(ctx, []uint32{1}); err != nil {
		t.Fatalf("Expunge = %v", err)
	}
	uv3, _ := mustAppend(t, s, "INBOX", msg(2))
	st, _ := mb.State(ctx)
	if uv1 != uv2 || uv2 != uv3 || st.UIDValidity != uv1 {
		t.Errorf("UIDVALIDITY = %d, %d, %d, %d, want all equal", uv1, uv2, uv3, st.UIDValidity)
	}
}

func testExpungeNoReuse(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		mustAppend(t, s, "INBOX", msg(i))
	}
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	got, err := mb.Expunge(ctx, []uint32{3, 2, 99})
	if err != nil || !slices.Equal(got, []uint32{2, 3}) {
		t.Errorf("Expunge(3, 2, 99) = %v, %v, want [2 3]", got, err)
	}
	got, err = mb.Expunge(ctx, []uint32{2})
	if err != nil || len(got) != 0 {
		t.Errorf("Expunge(2) again = %v, %v, want none", got, err)
	}
	if msgs := mustMessages(t, mb); !slices.Equal(uidsOf(msgs), []uint32{1}) {
		t.Errorf("Messages after Expunge = %v, want [1]", uidsOf(msgs))
	}
	if _, uid := mustAppend(t, s, "INBOX", msg(4)); uid != 4 {
		t.Errorf("Append after Expunge UID = %d, want 4", uid)
	}
	_, err = mb.OpenMessage(ctx, 2)
	wantErr(t, "OpenMessage(expunged)", err, mailstore.ErrNotExist)
	if st := mustStatus(t, s, "INBOX"); st.Messages != 2 || st.UIDNext != 5 {
		t.Errorf("Status = %+v, want 2 messages, UIDNEXT 5", st)
	}
}

func testStoreFlags(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mustAppend(t, s, "INBOX", msg(2), `\Seen`)
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	st0, _ := mb.State(ctx)
	steps := []struct {
		op        mailstore.FlagOp
		flags     []string
		uids      []uint32
		wantUIDs  []uint32   // messages reported changed
		wantFlags [][]string // their new flags
	}{
		{mailstore.FlagsAdd, []string{`\Seen`}, []uint32{1, 2, 77}, []uint32{1}, [][]string{{`\Seen`}}},
		{mailstore.FlagsAdd, []string{`\Seen`}, []uint32{1, 2}, nil, nil},
		{mailstore.FlagsSet, []string{`\Flagged`, "Work"}, []uint32{2}, []uint32{2}, [][]string{{"Work", `\Flagged`}}},
		{mailstore.FlagsRemove, []string{"Work", `\Seen`}, []uint32{1, 2}, []uint32{1, 2}, [][]string{{}, {`\Flagged`}}},
		{mailstore.FlagsRemove, []string{`\Deleted`}, []uint32{1, 2}, nil, nil},
		{mailstore.FlagsSet, []string{`\Flagged`, `\Recent`}, []uint32{2}, nil, nil},
		{mailstore.FlagsSet, nil, []uint32{1, 2}, []uint32{2}, [][]string{{}}},
	}
	last := st0.HighestModSeq
	for i, step := range steps {
		changed, failed, err := mb.StoreFlags(ctx, step.uids, step.op, step.flags, 0)
		if err != nil || len(failed) != 0 {
			t.Fatalf("step %d: StoreFlags = %v, failed %v", i, err, failed)
		}
		if got := uidsOf(changed); !slices.Equal(got, step.wantUIDs) {
			t.Errorf("step %d: changed UIDs = %v, want %v", i, got, step.wantUIDs)
			continue
		}
		for j, m := range changed {
			if len(m.Flags) != 0 || len(step.wantFlags[j]) != 0 {
				if !slices.Equal(m.Flags, step.wantFlags[j]) {
					t.Errorf("step %d: UID %d flags = %q, want %q", i, m.UID, m.Flags, step.wantFlags[j])
				}
			}
			if m.ModSeq <= last {
				t.Errorf("step %d: UID %d MODSEQ = %d, want > %d", i, m.UID, m.ModSeq, last)
			}
		}
		st, _ := mb.State(ctx)
		if len(changed) == 0 && st.HighestModSeq != last {
			t.Errorf("step %d: no-op store moved HIGHESTMODSEQ %d -> %d", i, last, st.HighestModSeq)
		}
		if len(changed) > 0 && st.HighestModSeq != changed[len(changed)-1].ModSeq && st.HighestModSeq != changed[0].ModSeq {
			t.Errorf("step %d: HIGHESTMODSEQ = %d, want the new MODSEQ of %+v", i, st.HighestModSeq, changed)
		}
		last = st.HighestModSeq
		msgs := mustMessages(t, mb)
		for _, c := range changed {
			idx := slices.IndexFunc(msgs, func(m mailstore.MessageMeta) bool { return m.UID == c.UID })
			if idx < 0 || msgs[idx].ModSeq != c.ModSeq || !slices.Equal(msgs[idx].Flags, c.Flags) && len(c.Flags)+len(msgs[idx].Flags) > 0 {
				t.Errorf("step %d: Messages disagrees with StoreFlags for UID %d: %+v", i, c.UID, msgs)
			}
		}
	}
}

func testUnchangedSince(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mustAppend(t, s, "INBOX", msg(2))
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	msgs := mustMessages(t, mb)
	since := msgs[0].ModSeq // message 1 is unchanged since; message 2 is newer
	changed, failed, err := mb.StoreFlags(ctx, []uint32{1, 2}, mailstore.FlagsAdd, []string{`\Seen`}, since)
	if err != nil || !slices.Equal(uidsOf(changed), []uint32{1}) || !slices.Equal(failed, []uint32{2}) {
		t.Errorf("StoreFlags(unchangedSince %d) = changed %v, failed %v, %v, want [1], [2]", since, uidsOf(changed), failed, err)
	}
	msgs = mustMessages(t, mb)
	if len(msgs[1].Flags) != 0 {
		t.Errorf("failed message got flags %q", msgs[1].Flags)
	}
	// A message whose MODSEQ equals unchangedSince may be changed.
	changed, failed, err = mb.StoreFlags(ctx, []uint32{2}, mailstore.FlagsAdd, []string{`\Seen`}, msgs[1].ModSeq)
	if err != nil || len(changed) != 1 || len(failed) != 0 {
		t.Errorf("StoreFlags(unchangedSince = MODSEQ) = %v, %v, %v, want changed", changed, failed, err)
	}
}

func testChanges(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		mustAppend(t, s, "INBOX", msg(i))
	}
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	changed, expunged, st, err := mb.Changes(ctx, 0)
	if err != nil || !slices.Equal(uidsOf(changed), []uint32{1, 2, 3, 4}) || len(expunged) != 0 {
		t.Fatalf("Changes(0) = %v, %v, %v, want [1 2 3 4], none", uidsOf(changed), expunged, err)
	}
	mark := st.HighestModSeq
	changed, expunged, st2, err := mb.Changes(ctx, mark)
	if err != nil || len(changed) != 0 || len(expunged) != 0 || st2 != st {
		t.Errorf("Changes(highest) = %v, %v, %+v, %v, want nothing and %+v", changed, expunged, st2, err, st)
	}
	mb2 := mustOpen(t, s, "INBOX")
	defer mb2.Close()
	if _, _, err := mb2.StoreFlags(ctx, []uint32{3}, mailstore.FlagsAdd, []string{`\Answered`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb2.Expunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	_, uid5 := mustAppend(t, s, "INBOX", msg(5))
	changed, expunged, st3, err := mb.Changes(ctx, mark)
	if err != nil || !slices.Equal(uidsOf(changed), []uint32{3, uid5}) || !slices.Equal(expunged, []uint32{2}) {
		t.Errorf("Changes(%d) = %v, %v, %v, want [3 %d], [2]", mark, uidsOf(changed), expunged, err, uid5)
	}
	if len(changed) == 2 && !slices.Equal(changed[0].Flags, []string{`\Answered`}) {
		t.Errorf("Changes: UID 3 flags = %q, want [\\Answered]", changed[0].Flags)
	}
	if st3.HighestModSeq <= mark || st3.UIDNext != uid5+1 {
		t.Errorf("Changes state = %+v, want HIGHESTMODSEQ > %d and UIDNEXT %d", st3, mark, uid5+1)
	}
	for _, c := range changed {
		if c.ModSeq <= mark || c.ModSeq > st3.HighestModSeq {
			t.Errorf("Changes: UID %d MODSEQ %d outside (%d, %d]", c.UID, c.ModSeq, mark, st3.HighestModSeq)
		}
	}
}

func testInfo(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		mustAppend(t, s, "INBOX", msg(i)+strings.Repeat("x", i))
	}
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	mb.Expunge(ctx, []uint32{2})
	info, err := mb.Info(ctx, []uint32{1, 2, 3, 9})
	if err != nil || len(info) != 2 || info[0].UID != 1 || info[1].UID != 3 {
		t.Fatalf("Info(1,2,3,9) = %+v, %v, want UIDs 1 and 3", info, err)
	}
	for _, mi := range info {
		if want := int64(len(stored(s, msg(int(mi.UID)))) + int(mi.UID)); mi.Size != want || mi.Cache != nil || mi.ModSeq == 0 {
			t.Errorf("Info(%d) = %+v, want Size %d, no cache, a MODSEQ", mi.UID, mi, want)
		}
	}
	if info, err := mb.Info(ctx, nil); err != nil || len(info) != 0 {
		t.Errorf("Info(nil) = %+v, %v, want none", info, err)
	}
}

func testOpenMessage(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	body := "From: a@example.org\nSubject: bare LF and \x00 NUL\n\n" + strings.Repeat("line\r\n", 5000)
	_, uid := mustAppend(t, s, "INBOX", body)
	body = stored(s, body)
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	r, err := mb.OpenMessage(ctx, uid)
	if err != nil {
		t.Fatalf("OpenMessage = %v", err)
	}
	defer r.Close()
	if r.Size() != int64(len(body)) {
		t.Errorf("Size = %d, want %d", r.Size(), len(body))
	}
	if got := readAll(t, mb, uid); got != body {
		t.Errorf("content differs: got %d bytes, want %d", len(got), len(body))
	}
	buf := make([]byte, 10)
	n, err := r.ReadAt(buf, 6)
	if n != 10 || string(buf) != body[6:16] {
		t.Errorf("ReadAt(10, 6) = %q, %v, want %q", buf[:n], err, body[6:16])
	}
	n, _ = r.ReadAt(buf, int64(len(body))-4)
	if n != 4 || !bytes.Equal(buf[:n], []byte(body[len(body)-4:])) {
		t.Errorf("ReadAt at end = %q, want %q", buf[:n], body[len(body)-4:])
	}
	_, err = mb.OpenMessage(ctx, uid+1)
	wantErr(t, "OpenMessage(missing)", err, mailstore.ErrNotExist)
}

func testSetCache(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mustAppend(t, s, "INBOX", msg(2))
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	data := []byte("(\"TEXT\" \"PLAIN\" \x00 binary)")
	// UID 42 does not exist: skipped, the others stored.
	err := mb.SetCache(ctx, []mailstore.CacheEntry{{UID: 1, Data: data}, {UID: 42, Data: data}, {UID: 2, Data: []byte("two")}})
	if err != nil {
		t.Fatalf("SetCache = %v", err)
	}
	data[0] = 'X' // the store must have kept its own copy
	info, err := mb.Info(ctx, []uint32{1, 2, 42})
	if err != nil || len(info) != 2 || string(info[0].Cache) != "(\"TEXT\" \"PLAIN\" \x00 binary)" || string(info[1].Cache) != "two" {
		t.Errorf("Info after SetCache = %+v, %v", info, err)
	}
	if err := mb.SetCache(ctx, []mailstore.CacheEntry{{UID: 1, Data: []byte("v2")}}); err != nil {
		t.Fatalf("SetCache again = %v", err)
	}
	info, _ = mb.Info(ctx, []uint32{1})
	if string(info[0].Cache) != "v2" {
		t.Errorf("Cache = %q, want v2", info[0].Cache)
	}
	if err := mb.SetCache(ctx, nil); err != nil {
		t.Errorf("SetCache(nil) = %v, want nil", err)
	}
}

// testHeaderCache checks the optional mailstore.HeaderCacher: entries
// stored and replaced in one call, skipped for missing UIDs, kept apart
// from Cache, and gone with their message.
func testHeaderCache(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mustAppend(t, s, "INBOX", msg(2))
	mustAppend(t, s, "INBOX", msg(3))
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	hc, ok := mb.(mailstore.HeaderCacher)
	if !ok {
		t.Skip("no mailstore.HeaderCacher")
	}
	data := []byte("h1 \x00 binary")
	err := hc.SetHeaderCache(ctx, []mailstore.CacheEntry{{UID: 1, Data: data}, {UID: 42, Data: data}, {UID: 3, Data: []byte("h3")}})
	if err != nil {
		t.Fatalf("SetHeaderCache = %v", err)
	}
	data[0] = 'X' // the store must have kept its own copy
	got, err := hc.HeaderCache(ctx, []uint32{3, 1, 2, 42})
	if err != nil || len(got) != 2 || got[0].UID != 1 || string(got[0].Data) != "h1 \x00 binary" || got[1].UID != 3 || string(got[1].Data) != "h3" {
		t.Errorf("HeaderCache = %+v, %v; want UIDs 1 and 3", got, err)
	}
	if info, err := mb.Info(ctx, []uint32{1}); err != nil || len(info) != 1 || info[0].Cache != nil {
		t.Errorf("Info after SetHeaderCache = %+v, %v; want no Cache", info, err)
	}
	if err := hc.SetHeaderCache(ctx, []mailstore.CacheEntry{{UID: 1, Data: []byte("v2")}}); err != nil {
		t.Fatalf("SetHeaderCache again = %v", err)
	}
	if got, _ := hc.HeaderCache(ctx, []uint32{1}); len(got) != 1 || string(got[0].Data) != "v2" {
		t.Errorf("HeaderCache(1) = %+v, want v2", got)
	}
	if _, err := mb.Expunge(ctx, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	if got, err := hc.HeaderCache(ctx, []uint32{1, 3}); err != nil || len(got) != 1 || got[0].UID != 3 {
		t.Errorf("HeaderCache after EXPUNGE 1 = %+v, %v; want UID 3 only", got, err)
	}
	if err := hc.SetHeaderCache(ctx, nil); err != nil {
		t.Errorf("SetHeaderCache(nil) = %v, want nil", err)
	}
}

// testOpenBatch checks the optional mailstore.BatchOpener: messages of
// the batch open with their content even after a flag change (a Maildir
// rename) made after the lookup; expunged ones and UIDs never stored are
// ErrNotExist, as with OpenMessage.
func testOpenBatch(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		mustAppend(t, s, "INBOX", msg(i))
	}
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	bo, ok := mb.(mailstore.BatchOpener)
	if !ok {
		t.Skip("no mailstore.BatchOpener")
	}
	open, err := bo.OpenBatch(ctx, []uint32{1, 2, 3, 42})
	if err != nil {
		t.Fatalf("OpenBatch = %v", err)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{2}, mailstore.FlagsAdd, []string{`\Seen`, `\Flagged`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, []uint32{3}); err != nil {
		t.Fatal(err)
	}
	for uid := uint32(1); uid <= 2; uid++ {
		r, err := open(ctx, uid)
		if err != nil {
			t.Fatalf("open(%d) = %v", uid, err)
		}
		b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		if err != nil || string(b) != stored(s, msg(int(uid))) {
			t.Errorf("open(%d) read %q, %v; want %q", uid, b, err, stored(s, msg(int(uid))))
		}
	}
	for _, uid := range []uint32{3, 4, 42} {
		r, err := open(ctx, uid)
		if err == nil {
			r.Close()
		}
		wantErr(t, fmt.Sprintf("open(%d)", uid), err, mailstore.ErrNotExist)
	}
}

// copyFixture makes a source mailbox with three messages, the second one
// expunged, and returns it open.
func copyFixture(t *testing.T, s mailstore.Store) (mailstore.Mailbox, time.Time) {
	ctx := context.Background()
	mustCreate(t, s, "Dest", "")
	mustAppend(t, s, "Dest", msg(9)) // so destination UIDs differ from source ones
	date := time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)
	for i := 1; i <= 4; i++ {
		_, _, err := s.Append(ctx, "INBOX", strings.NewReader(msg(i)), mailstore.AppendOptions{
			Flags: []string{`\Flagged`, fmt.Sprintf("kw%d", i)}, InternalDate: date,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	mb := mustOpen(t, s, "INBOX")
	mb.Expunge(ctx, []uint32{2})
	return mb, date
}

func checkCopies(t *testing.T, s mailstore.Store, src, dst []uint32, date time.Time) {
	t.Helper()
	ctx := context.Background()
	dmb := mustOpen(t, s, "Dest")
	defer dmb.Close()
	info, err := dmb.Info(ctx, dst)
	if err != nil || len(info) != len(dst) {
		t.Fatalf("Dest Info(%v) = %+v, %v", dst, info, err)
	}
	for i, mi := range info {
		n := int(src[i])
		if want := []string{`\Flagged`, fmt.Sprintf("kw%d", n)}; !slices.Equal(mi.Flags, want) {
			t.Errorf("copy of %d: flags %q, want %q", n, mi.Flags, want)
		}
		if !mi.InternalDate.Equal(date) {
			t.Errorf("copy of %d: date %v, want %v", n, mi.InternalDate, date)
		}
		if got := readAll(t, dmb, mi.UID); got != stored(s, msg(n)) {
			t.Errorf("copy of %d: content %q, want %q", n, got, stored(s, msg(n)))
		}
	}
	if st := mustStatus(t, s, "Dest"); st.Messages != uint32(1+len(dst)) || st.Recent != uint32(1+len(dst)) {
		t.Errorf("Status(Dest) = %+v, want %d messages, all recent", st, 1+len(dst))
	}
}

func testCopyTo(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mb, date := copyFixture(t, s)
	defer mb.Close()
	uv, src, dst, err := mb.CopyTo(ctx, []uint32{1, 2, 3, 4, 99}, "Dest")
	if err != nil || !slices.Equal(src, []uint32{1, 3, 4}) || !slices.Equal(dst, []uint32{2, 3, 4}) {
		t.Fatalf("CopyTo = %d, %v, %v, %v, want src [1 3 4], dst [2 3 4]", uv, src, dst, err)
	}
	if want := mustStatus(t, s, "Dest").UIDValidity; uv != want {
		t.Errorf("CopyTo UIDVALIDITY = %d, want %d", uv, want)
	}
	checkCopies(t, s, src, dst, date)
	if got := uidsOf(mustMessages(t, mb)); !slices.Equal(got, []uint32{1, 3, 4}) {
		t.Errorf("source after CopyTo = %v, want [1 3 4]", got)
	}
	_, _, _, err = mb.CopyTo(ctx, []uint32{1}, "missing")
	wantErr(t, "CopyTo(missing)", err, mailstore.ErrNotExist)
	// Copying into the same mailbox gives new UIDs.
	_, src, dst, err = mb.CopyTo(ctx, []uint32{1}, "INBOX")
	if err != nil || !slices.Equal(src, []uint32{1}) || !slices.Equal(dst, []uint32{5}) {
		t.Errorf("CopyTo(INBOX) = %v, %v, %v, want [1] -> [5]", src, dst, err)
	}
}

func testMoveTo(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mb, date := copyFixture(t, s)
	defer mb.Close()
	_, _, before, _ := mb.Changes(ctx, 0)
	uv, src, dst, err := mb.MoveTo(ctx, []uint32{4, 3, 2}, "Dest")
	if err != nil || !slices.Equal(src, []uint32{3, 4}) || !slices.Equal(dst, []uint32{2, 3}) {
		t.Fatalf("MoveTo = %d, %v, %v, %v, want src [3 4], dst [2 3]", uv, src, dst, err)
	}
	checkCopies(t, s, src, dst, date)
	if got := uidsOf(mustMessages(t, mb)); !slices.Equal(got, []uint32{1}) {
		t.Errorf("source after MoveTo = %v, want [1]", got)
	}
	_, expunged, _, err := mb.Changes(ctx, before.HighestModSeq)
	if err != nil || !slices.Equal(expunged, []uint32{3, 4}) {
		t.Errorf("Changes after MoveTo expunged = %v, %v, want [3 4]", expunged, err)
	}
	_, _, _, err = mb.MoveTo(ctx, []uint32{1}, "missing")
	wantErr(t, "MoveTo(missing)", err, mailstore.ErrNotExist)
	if got := uidsOf(mustMessages(t, mb)); !slices.Equal(got, []uint32{1}) {
		t.Errorf("source after failed MoveTo = %v, want [1]", got)
	}
}

func testClaimRecent(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mustAppend(t, s, "INBOX", msg(2))
	if st := mustStatus(t, s, "INBOX"); st.Recent != 2 {
		t.Errorf("Status.Recent = %d, want 2", st.Recent)
	}
	mb1 := mustOpen(t, s, "INBOX")
	defer mb1.Close()
	mb2 := mustOpen(t, s, "INBOX")
	defer mb2.Close()
	if st, err := mb1.State(ctx); err != nil || st.FirstRecentUID != 1 {
		t.Errorf("State().FirstRecentUID before any claim = %d, %v, want 1", st.FirstRecentUID, err)
	}
	if first, err := mb1.ClaimRecent(ctx); err != nil || first != 1 {
		t.Errorf("first ClaimRecent = %d, %v, want 1", first, err)
	}
	if st, err := mb2.State(ctx); err != nil || st.FirstRecentUID != 3 {
		t.Errorf("State().FirstRecentUID after the claim = %d, %v, want 3", st.FirstRecentUID, err)
	}
	if st := mustStatus(t, s, "INBOX"); st.Recent != 0 {
		t.Errorf("Status.Recent after claim = %d, want 0", st.Recent)
	}
	if first, err := mb2.ClaimRecent(ctx); err != nil || first <= 2 {
		t.Errorf("second ClaimRecent = %d, %v, want > 2 (nothing recent)", first, err)
	}
	mustAppend(t, s, "INBOX", msg(3))
	if st := mustStatus(t, s, "INBOX"); st.Recent != 1 {
		t.Errorf("Status.Recent after Append = %d, want 1", st.Recent)
	}
	if first, err := mb2.ClaimRecent(ctx); err != nil || first != 3 {
		t.Errorf("ClaimRecent after Append = %d, %v, want 3", first, err)
	}
	if first, err := mb1.ClaimRecent(ctx); err != nil || first <= 3 {
		t.Errorf("ClaimRecent by the other = %d, %v, want > 3", first, err)
	}
}

func testStatus(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	bodies := []string{msg(1), msg(2) + "xx", msg(3) + "yyyy", msg(4)}
	flags := [][]string{{`\Seen`}, {`\Deleted`}, {`\Seen`, `\Deleted`}, nil}
	var size int64
	for i, b := range bodies {
		mustAppend(t, s, "INBOX", b, flags[i]...)
		size += int64(len(stored(s, b)))
	}
	st := mustStatus(t, s, "INBOX")
	want := mailstore.Status{Messages: 4, Unseen: 2, Deleted: 2, Recent: 4, Size: size}
	want.MailboxState = st.MailboxState
	if st != want || st.UIDNext != 5 {
		t.Errorf("Status = %+v, want %+v with UIDNEXT 5", st, want)
	}
	mb := mustOpen(t, s, "INBOX")
	defer mb.Close()
	mb.ClaimRecent(ctx)
	mb.Expunge(ctx, []uint32{2, 3})
	st = mustStatus(t, s, "INBOX")
	want = mailstore.Status{Messages: 2, Unseen: 1, Deleted: 0, Recent: 0, Size: int64(len(stored(s, bodies[0])) + len(stored(s, bodies[3])))}
	want.MailboxState = st.MailboxState
	if st != want {
		t.Errorf("Status after expunge = %+v, want %+v", st, want)
	}
	if mst, _ := mb.State(ctx); mst != st.MailboxState {
		t.Errorf("State = %+v, Status has %+v", mst, st.MailboxState)
	}
}

func testWatch(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustAppend(t, s, "INBOX", msg(1))
	mb1 := mustOpen(t, s, "INBOX")
	defer mb1.Close()
	mb2 := mustOpen(t, s, "INBOX")
	defer mb2.Close()
	ch := mb1.Watch()
	if _, _, err := mb2.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	<-ch // a hang here is the failure; the test binary's timeout reports it
	mustAppend(t, s, "INBOX", msg(2))
	<-ch
	if _, err := mb2.Expunge(ctx, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	<-ch
	_, expunged, _, _ := mb1.Changes(ctx, 0)
	if !slices.Equal(expunged, []uint32{1}) {
		t.Errorf("Changes after Watch = expunged %v, want [1]", expunged)
	}
}

func testConcurrent(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	const perWorker = 10
	mb1 := mustOpen(t, s, "INBOX")
	defer mb1.Close()
	mb2 := mustOpen(t, s, "INBOX")
	defer mb2.Close()
	ch := mb1.Watch()
	errc := make(chan error, 4)
	uidc := make(chan uint32, 2*perWorker)
	for w := 0; w < 2; w++ {
		go func() {
			for i := 0; i < perWorker; i++ {
				_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(msg(i)), mailstore.AppendOptions{})
				if err != nil {
					errc <- err
					return
				}
				uidc <- uid
			}
			errc <- nil
		}()
	}
	for _, mb := range []mailstore.Mailbox{mb1, mb2} {
		go func() {
			for i := 0; i < perWorker; i++ {
				msgs, err := mb.Messages(ctx)
				if err != nil {
					errc <- err
					return
				}
				if _, _, err := mb.StoreFlags(ctx, uidsOf(msgs), mailstore.FlagsAdd, []string{fmt.Sprintf("k%d", i)}, 0); err != nil {
					errc <- err
					return
				}
				if _, _, _, err := mb.Changes(ctx, 0); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errc; err != nil {
			t.Fatalf("concurrent worker: %v", err)
		}
	}
	close(uidc)
	seen := map[uint32]bool{}
	for uid := range uidc {
		if seen[uid] {
			t.Errorf("UID %d handed out twice", uid)
		}
		seen[uid] = true
	}
	msgs := mustMessages(t, mb2)
	if len(msgs) != 2*perWorker {
		t.Errorf("Messages = %d, want %d", len(msgs), 2*perWorker)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].UID <= msgs[i-1].UID {
			t.Errorf("Messages not in ascending UID order at %d: %v", i, uidsOf(msgs))
		}
	}
	<-ch
}
