package imapbackend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

func quotaString(q *imap.QuotaData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q (", q.Root)
	for i, r := range q.Resources {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s %d %d", r.Name, r.Usage, r.Limit)
	}
	b.WriteString(")")
	return b.String()
}

func wantCode(t *testing.T, what string, err error, code imap.ResponseCode) {
	t.Helper()
	if e, ok := imap.AsError(err); !ok || e.Code != code {
		t.Errorf("%s = %v, want NO [%s]", what, err, code)
	}
}

// TestQuota checks RFC 9208 over the store's index: usage summed over
// every mailbox, STORAGE in KiB, APPEND and COPY refused with
// [OVERQUOTA] when they would pass a limit, MOVE allowed (one root), and
// the account's own rules (Dovecot's userdb_quota_rule) over the defaults.
func TestQuota(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		if err := st.Create(ctx, "Archive", ""); err != nil {
			t.Fatal(err)
		}
		msg := simpleMsg(1) // every message is this size
		size := int64(len(msg))
		appendMsg(t, st, "INBOX", msg)
		appendMsg(t, st, "Archive", msg)
		ss, err := newBackend(st, Options{QuotaStorage: 4 * size, QuotaMessages: 3}).NewSession(ctx, testConn)
		if err != nil {
			t.Fatal(err)
		}
		if err := ss.Login(ctx, "alice", "secret"); err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		s := ss.(*session)

		q, err := s.GetQuota(ctx, "")
		want := fmt.Sprintf(`"" (STORAGE %d %d MESSAGE 2 3)`, (2*size+1023)/1024, 4*size/1024)
		if err != nil || quotaString(q) != want {
			t.Errorf("GETQUOTA \"\" = %v, %v, want %s", q, err, want)
		}
		_, err = s.GetQuota(ctx, "other")
		wantCode(t, "GETQUOTA other", err, imap.CodeNonExistent)
		qs, err := s.GetQuotaRoot(ctx, "archive/../Archive")
		if err == nil {
			t.Errorf("GETQUOTAROOT of a bad name = %v", qs)
		}
		qs, err = s.GetQuotaRoot(ctx, "Archive")
		if err != nil || len(qs) != 1 || quotaString(qs[0]) != want {
			t.Errorf("GETQUOTAROOT Archive = %v, %v, want one root %s", qs, err, want)
		}
		_, err = s.GetQuotaRoot(ctx, "Nowhere")
		wantCode(t, "GETQUOTAROOT Nowhere", err, imap.CodeNonExistent)

		// The third message fits; a fourth passes MESSAGE 3.
		if _, err := s.Append(ctx, "INBOX", strings.NewReader(msg), size, nil); err != nil {
			t.Fatalf("APPEND within quota: %v", err)
		}
		_, err = s.Append(ctx, "INBOX", strings.NewReader(msg), size, nil)
		wantCode(t, "APPEND past MESSAGE", err, imap.CodeOverQuota)

		// COPY of one message passes MESSAGE; MOVE keeps usage and is
		// allowed.
		selectBox(t, s, "INBOX", false)
		_, err = s.Copy(ctx, imap.NumKindSeq, set(t, "1"), "Archive")
		wantCode(t, "COPY past MESSAGE", err, imap.CodeOverQuota)
		var u updates
		if _, err := s.Move(ctx, &u, imap.NumKindSeq, set(t, "1"), "Archive"); err != nil {
			t.Errorf("MOVE within one root: %v", err)
		}

		// The account's rules win: no message limit, a storage limit
		// one octet above the usage.
		limit := 3*size + 1
		s.user.Extra = map[string]string{"userdb_quota_rule": fmt.Sprintf("*:bytes=%d", limit), "userdb_quota_rule2": "*:messages=0"}
		q, err = s.GetQuota(ctx, "")
		if want := fmt.Sprintf(`"" (STORAGE %d %d)`, (3*size+1023)/1024, limit/1024); err != nil || quotaString(q) != want {
			t.Errorf("GETQUOTA with the account's rules = %v, %v, want %s", q, err, want)
		}
		big := "x\r\n"
		_, err = s.Append(ctx, "INBOX", strings.NewReader(big), int64(len(big)), nil)
		wantCode(t, "APPEND past STORAGE", err, imap.CodeOverQuota)
		_, err = s.Copy(ctx, imap.NumKindSeq, set(t, "1"), "Archive")
		wantCode(t, "COPY past STORAGE", err, imap.CodeOverQuota)

		// No limits: an empty resource list (RFC 9208 §4.2.1).
		s.user.Extra = nil
		s.b.opts.QuotaStorage, s.b.opts.QuotaMessages = 0, 0
		if q, err := s.GetQuota(ctx, ""); err != nil || quotaString(q) != `"" ()` {
			t.Errorf("GETQUOTA without limits = %v, %v", q, err)
		}
		if _, err := s.Append(ctx, "INBOX", strings.NewReader(big), int64(len(big)), nil); err != nil {
			t.Errorf("APPEND without limits: %v", err)
		}
	})
}

// TestStatusDeletedStorage checks STATUS DELETED and DELETED-STORAGE (RFC
// 9208 §4.2.3): the messages marked \Deleted and the sum of their sizes.
func TestStatusDeletedStorage(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1), `\Deleted`)
		appendMsg(t, st, "INBOX", simpleMsg(2))
		appendMsg(t, st, "INBOX", simpleMsg(33), `\Deleted`, `\Seen`)
		s := login(t, st)
		opts := &imap.StatusOptions{NumDeleted: true, DeletedStorage: true}
		d, err := s.Status(ctx, "INBOX", opts)
		want := int64(len(simpleMsg(1)) + len(simpleMsg(33)))
		if err != nil || d.NumDeleted == nil || *d.NumDeleted != 2 || d.DeletedStorage == nil || *d.DeletedStorage != want {
			t.Errorf("STATUS INBOX (DELETED DELETED-STORAGE) = %+v, %v, want 2 and %d", d, err, want)
		}
		if err := st.Create(ctx, "Empty", ""); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Status(ctx, "Empty", opts); err != nil || d.DeletedStorage == nil || *d.DeletedStorage != 0 {
			t.Errorf("STATUS Empty (DELETED-STORAGE) = %+v, %v, want 0", d, err)
		}
	})
}
