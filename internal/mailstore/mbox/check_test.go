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
	f, err := os.OpenFile(testOptions(dir).Inbox, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("From mta@example.org Thu Nov 26 01:00:00 2026\nSubject: delivered 1\n\nhello\n\n" +
		"From mta@example.org Thu Nov 26 01:00:01 2026\nSubject: delivered 2\n\nFrom the body\n\n")
	f.Close()
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
