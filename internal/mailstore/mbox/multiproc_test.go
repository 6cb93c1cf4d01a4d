package mbox_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// TestOtherProcessHelper is the child of TestOtherProcess.
func TestOtherProcessHelper(t *testing.T) {
	dir := os.Getenv("MBOX_OTHER_DIR")
	if dir == "" {
		t.Skip("helper process for TestOtherProcess")
	}
	ctx := context.Background()
	s := openTest(t, dir)
	defer s.Close()
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Answered`, "Other"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Expunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: from the other process\n\nhi\n"), mailstore.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestOtherProcess has two processes with INBOX selected read-write: the
// other one flags, expunges and appends; this one sees each change in
// Changes and is woken by Watch (its poll).
func TestOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	for i := 0; i < 3; i++ {
		if _, _, err := s.Append(ctx, "INBOX", strings.NewReader("Subject: x\n\nbody\n"), mailstore.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := s.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	st0, _ := mb.State(ctx)
	ch := mb.Watch()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOtherProcessHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MBOX_OTHER_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("other process: %v\n%s", err, out)
	}
	<-ch // a hang here is the failure
	changed, expunged, st, err := mb.Changes(ctx, st0.HighestModSeq)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, c := range changed {
		uids = append(uids, c.UID)
	}
	if !slices.Equal(uids, []uint32{1, 4}) || !slices.Equal(expunged, []uint32{2}) || st.UIDNext != 5 {
		t.Errorf("Changes = changed %v, expunged %v, UIDNEXT %d; want [1 4], [2], 5", uids, expunged, st.UIDNext)
	}
	if len(changed) > 0 && !slices.Equal(changed[0].Flags, []string{"Other", `\Answered`}) {
		t.Errorf("UID 1 flags = %q, want [Other \\Answered]", changed[0].Flags)
	}
	if got := readMsg(t, mb, 4); got != "Subject: from the other process\n\nhi\n" {
		t.Errorf("UID 4 = %q", got)
	}
}
