package imapbackend

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

func TestCopyMove(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i))
		}
		if err := st.Create(ctx, "saved", ""); err != nil {
			t.Fatal(err)
		}
		appendMsg(t, st, "saved", simpleMsg(100)) // saved's UID 1
		dst := status(t, st, "saved")

		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		got, err := s.Copy(ctx, imap.NumKindSeq, set(t, "2:3,5"), "saved")
		if err != nil {
			t.Fatal(err)
		}
		if got.UIDValidity != dst.UIDValidity || got.SourceUIDs.String() != "2:3,5" || got.DestUIDs.String() != "2:4" {
			t.Errorf("COPY = %d %s %s, want %d 2:3,5 2:4", got.UIDValidity, got.SourceUIDs, got.DestUIDs, dst.UIDValidity)
		}

		_, err = s.Copy(ctx, imap.NumKindSeq, set(t, "1"), "nosuch")
		if !isCode(err, imap.CodeTryCreate) {
			t.Errorf("COPY to nosuch = %v, want NO [TRYCREATE]", err)
		}
		if got, err := s.Copy(ctx, imap.NumKindUID, set(t, "50:60"), "saved"); got != nil || err != nil {
			t.Errorf("UID COPY of nothing = %v, %v, want nil, nil", got, err)
		}

		// MOVE 2,4 by UID: EXPUNGE 2 then 3 (old 4), and COPYUID.
		var u updates
		got, err = s.Move(ctx, &u, imap.NumKindUID, set(t, "4,2"), "saved")
		if err != nil {
			t.Fatal(err)
		}
		if got.SourceUIDs.String() != "2,4" || got.DestUIDs.String() != "5:6" {
			t.Errorf("MOVE COPYUID = %s %s, want 2,4 5:6", got.SourceUIDs, got.DestUIDs)
		}
		if got, want := u.take(), "* 2 EXPUNGE\n* 3 EXPUNGE"; got != want {
			t.Errorf("MOVE wrote %q, want %q", got, want)
		}
		s.Poll(ctx, &u, true)
		if got := u.take(); got != "" {
			t.Errorf("Poll after MOVE wrote %q", got)
		}
		fr := &fetchRec{}
		s.Fetch(ctx, fr, imap.NumKindSeq, all, &imap.FetchOptions{UID: true})
		if got, want := fr.take(), "* 1 FETCH (UID 1)\n* 2 FETCH (UID 3)\n* 3 FETCH (UID 5)"; got != want {
			t.Errorf("after MOVE: %q, want %q", got, want)
		}
		if n := status(t, st, "saved").Messages; n != 6 {
			t.Errorf("saved holds %d messages, want 6", n)
		}
	})
}

func TestUIDExpunge(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		for i := 1; i <= 4; i++ {
			appendMsg(t, st, "INBOX", simpleMsg(i), `\Deleted`)
		}
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		var u updates
		uids := set(t, "2:3")
		if err := s.Expunge(ctx, &u, &uids); err != nil {
			t.Fatal(err)
		}
		if got, want := u.take(), "* 2 EXPUNGE\n* 2 EXPUNGE"; got != want {
			t.Errorf("UID EXPUNGE 2:3 wrote %q, want %q", got, want)
		}
		if n := status(t, st, "INBOX").Messages; n != 2 {
			t.Errorf("%d messages left, want 2", n)
		}
	})
}
