package integration

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/mailstore"
)

// deliverMailboxExt builds, for mailbox-ext.txt, the hierarchy of RFC 5258
// §5's examples 2 and 9 (parents exist: Maildir creates them), the
// special-use mailboxes of RFC 6154, a few messages, and quota rules on
// the user's passwd line in Dovecot's shape: 6 messages, 2 KiB.
func deliverMailboxExt(e *tsEnv) {
	ctx := context.Background()
	for _, n := range []string{"Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable/Broccoli", "Vegetable/Corn",
		"foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "eps2/mamba"} {
		e.create(n)
	}
	for _, su := range []struct{ name, use string }{
		{"Drafts", mailstore.SpecialDrafts}, {"Sent", mailstore.SpecialSent}, {"Trash", mailstore.SpecialTrash},
	} {
		if err := e.store.Create(ctx, su.name, su.use); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, n := range []string{"INBOX", "Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli",
		"foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "eps2", "eps2/mamba", "qux2/bar2", "Sent"} {
		if err := e.store.SetSubscribed(ctx, n, true); err != nil {
			e.t.Fatal(err)
		}
	}
	e.deliver("INBOX", basicMessages[0], day(2, 0), `\Seen`)
	e.deliver("INBOX", basicMessages[1], day(3, 0))
	e.deliver("INBOX", basicMessages[2], day(4, 0))
	e.deliver("Sent", basicMessages[3], day(5, 0), `\Seen`)
	b, err := os.ReadFile(e.passwd)
	if err != nil {
		e.t.Fatal(err)
	}
	line := strings.TrimRight(string(b), "\n") + "userdb_quota_rule=*:storage=2K userdb_quota_rule2=*:messages=6\n"
	if err := os.WriteFile(e.passwd, []byte(line), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// TestMailboxExtensions drives LIST-EXTENDED, LIST-STATUS, SPECIAL-USE,
// CREATE-SPECIAL-USE, STATUS=SIZE and QUOTA with go-imap v2's client
// against the demo server (a real postern process).
func TestMailboxExtensions(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	caps := c.Caps()
	for _, cp := range []imap.Cap{imap.CapListExtended, imap.CapListStatus, imap.CapSpecialUse, imap.CapCreateSpecialUse,
		imap.CapStatusSize, imap.CapQuota, "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"} {
		if !caps.Has(cp) {
			t.Errorf("capability %s missing from %v", cp, capList(caps))
		}
	}
	if limit, ok := caps.AppendLimit(); !ok || limit == nil || *limit != 64<<20 {
		t.Errorf("APPENDLIMIT = %v, %v, want 67108864", limit, ok)
	}

	// RFC 6154 §2 selection option with RFC 5819's STATUS return option.
	list, err := c.List("", "*", &imap.ListOptions{
		SelectSpecialUse: true,
		ReturnStatus:     &imap.StatusOptions{NumMessages: true, NumUnseen: true, Size: true},
	}).Collect()
	if err != nil {
		t.Fatalf("LIST (SPECIAL-USE) RETURN (STATUS): %v", err)
	}
	var names []string
	for _, d := range list {
		names = append(names, d.Mailbox)
		if d.Status == nil || d.Status.NumMessages == nil || d.Status.Size == nil || d.Status.NumUnseen == nil {
			t.Errorf("LIST %s: STATUS %+v, want MESSAGES, UNSEEN and SIZE", d.Mailbox, d.Status)
		}
		if len(specialUses(d.Attrs)) != 1 {
			t.Errorf("LIST %s attributes %v, want one special use", d.Mailbox, d.Attrs)
		}
	}
	if want := []string{"Archive", "Drafts", "Junk", "Sent", "Trash"}; !slices.Equal(names, want) {
		t.Errorf("LIST (SPECIAL-USE) = %q, want %q", names, want)
	}

	// CREATE-SPECIAL-USE (RFC 6154 §3), then LIST (SUBSCRIBED
	// RECURSIVEMATCH) sees a subscribed child through CHILDINFO.
	if err := c.Create("Lists/Go", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrArchive}}).Wait(); err != nil {
		t.Fatalf("CREATE Lists/Go (USE (\\Archive)): %v", err)
	}
	err = c.Create("Everything", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrAll}}).Wait()
	var ierr *imap.Error
	if !errors.As(err, &ierr) || ierr.Code != "USEATTR" {
		t.Errorf("CREATE Everything (USE (\\All)) = %v, want NO [USEATTR]", err)
	}
	if err := c.Subscribe("Lists/Go").Wait(); err != nil {
		t.Fatal(err)
	}
	list, err = c.List("", "L%", &imap.ListOptions{SelectSubscribed: true, SelectRecursiveMatch: true, ReturnChildren: true}).Collect()
	if err != nil {
		t.Fatalf("LIST (SUBSCRIBED RECURSIVEMATCH): %v", err)
	}
	if len(list) != 1 || list[0].Mailbox != "Lists" || list[0].ChildInfo == nil || !list[0].ChildInfo.Subscribed ||
		!slices.Contains(list[0].Attrs, imap.MailboxAttrHasChildren) || slices.Contains(list[0].Attrs, imap.MailboxAttrSubscribed) {
		t.Errorf("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" L%% = %+v, want Lists (\\HasChildren) with CHILDINFO (\"SUBSCRIBED\")", list)
	}
	list, err = c.List("", "Lists/*", &imap.ListOptions{ReturnSubscribed: true, ReturnSpecialUse: true}).Collect()
	if err != nil || len(list) != 1 || !slices.Contains(list[0].Attrs, imap.MailboxAttrSubscribed) ||
		!slices.Contains(list[0].Attrs, imap.MailboxAttrArchive) {
		t.Errorf("LIST \"\" Lists/* RETURN (SUBSCRIBED SPECIAL-USE) = %+v, %v", list, err)
	}

	// STATUS=SIZE (RFC 8438).
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, Size: true}).Wait()
	if err != nil || st.Size == nil || *st.Size <= 0 || st.NumMessages == nil || *st.NumMessages == 0 {
		t.Errorf("STATUS INBOX (MESSAGES SIZE) = %+v, %v", st, err)
	}

	// QUOTA (RFC 9208): the demo sets no limits, so the one root "" has
	// none.
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil || len(roots) != 1 || roots[0].Root != "" || len(roots[0].Resources) != 0 {
		t.Errorf("GETQUOTAROOT INBOX = %+v, %v, want one root \"\" without limits", roots, err)
	}
	q, err := c.GetQuota("").Wait()
	if err != nil || q.Root != "" || len(q.Resources) != 0 {
		t.Errorf("GETQUOTA \"\" = %+v, %v", q, err)
	}
}

func specialUses(attrs []imap.MailboxAttr) []imap.MailboxAttr {
	var out []imap.MailboxAttr
	for _, a := range attrs {
		switch a {
		case imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts, imap.MailboxAttrFlagged,
			imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash:
			out = append(out, a)
		}
	}
	return out
}
