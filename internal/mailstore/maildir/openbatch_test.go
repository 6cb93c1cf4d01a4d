package maildir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// readMsg reads uid through mb.OpenMessage, by ReadAt and by Stream.
func readMsg(t *testing.T, mb mailstore.Mailbox, uid uint32) (string, error) {
	t.Helper()
	whole, err := readWith(t, mb.OpenMessage, uid)
	if err != nil {
		return "", err
	}
	r, err := mb.OpenMessage(context.Background(), uid)
	if err != nil {
		t.Fatalf("OpenMessage UID %d again: %v", uid, err)
	}
	defer r.Close()
	src, err := r.(mailstore.StreamReader).Stream(2, r.Size()-2)
	if err != nil {
		t.Fatalf("Stream UID %d: %v", uid, err)
	}
	tail, err := io.ReadAll(src)
	if err != nil || string(tail) != whole[2:] {
		t.Fatalf("Stream UID %d from 2 = %q, %v; want %q", uid, tail, err, whole[2:])
	}
	return whole, nil
}

// TestOpenBatchStaleNames: a batch's file names, looked up at once, may go
// stale before a message is opened (another handle renamed the file for a
// flag, or expunged it): each UID still opens its own message, an expunged
// one none, and a name this handle's own STORE changed opens too.
func TestOpenBatchStaleNames(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	body := func(i int) string { return fmt.Sprintf("Subject: m%d\r\n\r\nbody %d\r\n", i, i) }
	var uids []uint32
	for i := 1; i <= 8; i++ {
		_, uid, err := s.Append(ctx, "INBOX", strings.NewReader(body(i)), mailstore.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, uid)
	}
	reader, other := openT(t, s, "INBOX"), openT(t, s, "INBOX")
	open, err := reader.(mailstore.BatchOpener).OpenBatch(ctx, uids)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, i int) {
		t.Helper()
		got, err := readWith(t, open, uids[i-1])
		if err != nil || got != body(i) {
			t.Errorf("%s: UID %d = %q, %v; want %q", step, uids[i-1], got, err, body(i))
		}
	}
	check("first", 1)
	check("next", 2)
	if _, _, err := other.StoreFlags(ctx, uids[2:5], mailstore.FlagsAdd, []string{mailstore.FlagSeen}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Expunge(ctx, uids[5:6]); err != nil {
		t.Fatal(err)
	}
	check("renamed by another handle", 3)
	check("renamed by another handle", 4)
	check("renamed by another handle", 5)
	if _, err := readWith(t, open, uids[5]); !errors.Is(err, mailstore.ErrNotExist) {
		t.Errorf("expunged UID %d: error %v, want ErrNotExist", uids[5], err)
	}
	check("after an expunged one", 7)
	if _, _, err := reader.StoreFlags(ctx, uids[7:8], mailstore.FlagsAdd, []string{mailstore.FlagFlagged}, 0); err != nil {
		t.Fatal(err)
	}
	check("after its own STORE", 8)
	check("back to the start", 1)
	// OpenMessage, by ReadAt and by Stream, agrees.
	for i, uid := range uids {
		if i == 5 {
			continue
		}
		if got, err := readMsg(t, reader, uid); err != nil || got != body(i+1) {
			t.Errorf("OpenMessage UID %d = %q, %v; want %q", uid, got, err, body(i+1))
		}
	}
}

// readWith reads uid through a batch's open function.
func readWith(t *testing.T, open func(context.Context, uint32) (mailstore.MessageReader, error), uid uint32) (string, error) {
	t.Helper()
	r, err := open(context.Background(), uid)
	if err != nil {
		return "", err
	}
	defer r.Close()
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("ReadAt UID %d: %v", uid, err)
	}
	return string(buf), nil
}
