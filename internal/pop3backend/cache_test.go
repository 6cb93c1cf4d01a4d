package pop3backend

import (
	"bytes"
	"context"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// TestCacheEntryVersions checks that POP3 reads the structures the IMAP
// side caches: one of an older encoding version (a valid version-2 empty
// part, which would give wrong sizes if misread) is parsed again and
// replaced, and a current one carrying an IMAP PREVIEW is used as is.
func TestCacheEntryVersions(t *testing.T) {
	old := []byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		msgs := []string{"Subject: old\n\nLine one.\nLine two.\n", "Subject: preview\r\n\r\nBody.\r\n"}
		uids := []uint32{appendMsg(t, st, msgs[0]), appendMsg(t, st, msgs[1])}
		stored := storedMessages(t, st)
		mb, err := st.Open(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		defer mb.Close()
		p, err := message.Parse(bytes.NewReader([]byte(stored[1])), int64(len(stored[1])))
		if err != nil {
			t.Fatal(err)
		}
		p.Preview, p.HasPreview = "Body.", true
		cur, _ := p.MarshalBinary()
		if err := mb.SetCache(ctx, []mailstore.CacheEntry{{UID: uids[0], Data: old}, {UID: uids[1], Data: cur}}); err != nil {
			t.Fatal(err)
		}
		s := login(t, st)
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("List = %v, %v", list, err)
		}
		for i := range msgs {
			got := retr(t, s, i+1)
			if want := toCRLF(stored[i]); got != want || int64(len(got)) != list[i].Size {
				t.Errorf("message %d: Retr = %q (List size %d), want %q", i+1, got, list[i].Size, want)
			}
		}
		s.Close()
		infos, err := mb.Info(ctx, uids)
		if err != nil || len(infos) != 2 {
			t.Fatalf("Info = %v, %v", infos, err)
		}
		if q, err := message.UnmarshalPart(infos[0].Cache); err != nil || q.End == 0 {
			t.Errorf("old entry not replaced: %v", err)
		}
		if !bytes.Equal(infos[1].Cache, cur) {
			t.Errorf("current entry rewritten")
		}
	})
}
