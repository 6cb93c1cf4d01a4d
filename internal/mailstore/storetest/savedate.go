package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// testSaveDate checks MessageInfo.SaveDate (RFC 8514 §3): set when a
// message is appended, copied or moved into a mailbox, independent of the
// internal date, and kept when flags change.
func testSaveDate(t *testing.T, s mailstore.Store) {
	ctx := context.Background()
	mustCreate(t, s, "Box", "")
	old := time.Date(2001, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, _, err := s.Append(ctx, "Box", strings.NewReader(msg(1)), mailstore.AppendOptions{InternalDate: old}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "Box", msg(2))
	mb := mustOpen(t, s, "Box")
	defer mb.Close()
	info, err := mb.Info(ctx, []uint32{1, 2})
	if err != nil || len(info) != 2 {
		t.Fatalf("Info = %+v, %v, want 2 messages", info, err)
	}
	for _, mi := range info {
		if mi.SaveDate.IsZero() {
			t.Errorf("Info(%d).SaveDate is zero after Append", mi.UID)
		}
	}
	if info[0].SaveDate.Equal(old) {
		t.Errorf("Info(1).SaveDate = the internal date %v; want the time of the Append", old)
	}
	saved := info[0].SaveDate
	if _, _, err := mb.StoreFlags(ctx, []uint32{1}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	info, err = mb.Info(ctx, []uint32{1})
	if err != nil || len(info) != 1 || !info[0].SaveDate.Equal(saved) {
		t.Errorf("Info(1) after STORE = %+v, %v; want SaveDate %v kept", info, err, saved)
	}

	mustCreate(t, s, "Copy", "")
	mustCreate(t, s, "Moved", "")
	if _, _, dst, err := mb.CopyTo(ctx, []uint32{1}, "Copy"); err != nil || len(dst) != 1 {
		t.Fatalf("CopyTo = %v, %v", dst, err)
	}
	if _, _, dst, err := mb.MoveTo(ctx, []uint32{2}, "Moved"); err != nil || len(dst) != 1 {
		t.Fatalf("MoveTo = %v, %v", dst, err)
	}
	for _, name := range []string{"Copy", "Moved"} {
		d := mustOpen(t, s, name)
		info, err := d.Info(ctx, []uint32{1})
		d.Close()
		if err != nil || len(info) != 1 || info[0].SaveDate.IsZero() {
			t.Errorf("Info(1) in %s = %+v, %v; want a SaveDate", name, info, err)
		}
	}
}
