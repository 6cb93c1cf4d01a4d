package mbox_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// checkClean fails the test unless the store's check finds nothing but
// pending items; it returns the problems.
func checkClean(t *testing.T, s *mbox.Store, when string) []mailstore.Problem {
	t.Helper()
	res, err := s.Check(context.Background(), false)
	if err != nil {
		t.Fatalf("%s: Check = %v", when, err)
	}
	if res.Errors() != 0 {
		t.Errorf("%s: Check found %v", when, res.Problems)
	}
	return res.Problems
}

// TestCheckOutsideDeliveries: mail an MTA appends to the spool is pending
// until read; once read its UIDs live in the index only (not yet in the
// file), which is no error; a flag change and the mailbox's close (which
// writes the UIDs into the file) leave it clean.
func TestCheckOutsideDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: ours\n\nbody\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	checkClean(t, s, "after APPEND")
	mtaAppend(t, testOptions(dir).Inbox, "From mta@example.org Thu Nov 26 01:00:00 2026\nSubject: delivered 1\n\nhello\n\n"+
		"From mta@example.org Thu Nov 26 01:00:01 2026\nSubject: delivered 2\n\nFrom the body\n\n")
	ps := checkClean(t, s, "after a delivery")
	if len(ps) != 2 || !ps[0].Pending || !ps[1].Pending {
		t.Errorf("after a delivery: %v, want two pending messages", ps)
	}
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if ps := checkClean(t, s, "after reading the delivery"); len(ps) != 0 {
		t.Errorf("after reading the delivery: %v", ps)
	}
	if _, _, err := mb.StoreFlags(ctx, []uint32{2}, mailstore.FlagsAdd, []string{`\Seen`, "$Label1"}, 0); err != nil {
		t.Fatal(err)
	}
	if ps := checkClean(t, s, "after STORE"); len(ps) != 0 {
		t.Errorf("after STORE: %v", ps)
	}
	if _, err := mb.Expunge(ctx, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	if ps := checkClean(t, s, "after EXPUNGE"); len(ps) != 0 {
		t.Errorf("after EXPUNGE: %v", ps)
	}
	mb.Close()
	if ps := checkClean(t, s, "after close"); len(ps) != 0 {
		t.Errorf("after close: %v", ps)
	}
}

// TestAppendKilledBeforeCommit: an append killed after writing the file
// (X-UID 1, and UIDLAST moved to 1 in place in the pseudo message) but
// before its index commit leaves a message the next look must take with
// the UID the file gives it, not renumber (which left the file's X-UID
// and the index disagreeing: found by the crash test). The index before
// the append stands in for the rolled-back transaction.
func TestAppendKilledBeforeCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	if err := s.Create(ctx, "Dest", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Status(ctx, "Dest"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	index := testOptions(dir).Root + "/" + mbox.IndexName
	before, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	if _, uid, err := s.Append(ctx, "Dest", strings.NewReader("Subject: killed\n\nbody\n"), mailstore.AppendOptions{}); err != nil || uid != 1 {
		t.Fatalf("Append = %d, %v", uid, err)
	}
	s.Close()
	os.Remove(index + "-wal")
	os.Remove(index + "-shm")
	if err := os.WriteFile(index, before, 0o600); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close()
	mb, err := s.Open(ctx, "Dest")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	msgs, err := mb.Messages(ctx)
	if err != nil || len(msgs) != 1 || msgs[0].UID != 1 {
		t.Errorf("Messages = %v, %v; want UID 1 as the file says", msgs, err)
	}
	if ps := checkClean(t, s, "after the look"); len(ps) != 0 {
		t.Errorf("after the look: %v", ps)
	}
}
