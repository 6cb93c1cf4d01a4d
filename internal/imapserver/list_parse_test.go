package imapserver

import (
	"reflect"
	"slices"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// TestListExtendedParse checks the options and patterns an extended LIST (RFC
// 5258 §6, RFC 5819 §4, RFC 6154 §6) hands to the session, and the CREATE
// parameters (RFC 6154 §3).
func TestListExtendedParse(t *testing.T) {
	tests := []struct {
		args     string
		patterns []string
		want     imap.ListOptions
	}{
		{`"" *`, []string{"*"}, imap.ListOptions{}},
		{`() "" *`, []string{"*"}, imap.ListOptions{Extended: true}},
		{`"" (a "b c" %)`, []string{"a", "b c", "%"}, imap.ListOptions{Extended: true}},
		{`(subscribed Remote RECURSIVEMATCH SUBSCRIBED) "" *`, []string{"*"},
			imap.ListOptions{Extended: true, SelectSubscribed: true, SelectRemote: true, SelectRecursiveMatch: true}},
		{`(SPECIAL-USE RECURSIVEMATCH) "" *`, []string{"*"}, imap.ListOptions{Extended: true, SelectSpecialUse: true, SelectRecursiveMatch: true}},
		{`"" * RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)`, []string{"*"},
			imap.ListOptions{Extended: true, ReturnSubscribed: true, ReturnChildren: true, ReturnSpecialUse: true}},
		{`"" * return ()`, []string{"*"}, imap.ListOptions{Extended: true}},
		{`"" * RETURN (STATUS (MESSAGES unseen SIZE MAILBOXID DELETED UIDNEXT UIDVALIDITY RECENT))`, []string{"*"},
			imap.ListOptions{Extended: true, ReturnStatus: &imap.StatusOptions{NumMessages: true, NumUnseen: true, Size: true,
				MailboxID: true, NumDeleted: true, UIDNext: true, UIDValidity: true, NumRecent: true}}},
		{`"" &AOQ-*`, []string{"ä*"}, imap.ListOptions{}},
	}
	ts := newTestServer(t, nil)
	tc := ts.dial(t)
	tc.login()
	for _, tt := range tests {
		tc.send("l LIST " + tt.args + "\r\n")
		lines := tc.until("l")
		if last := lines[len(lines)-1]; last != "l OK LIST completed" {
			t.Errorf("LIST %s: %q", tt.args, lines)
			continue
		}
		ts.store.mu.Lock()
		got, pats := ts.store.lastListOpts, ts.store.lastList[1:]
		ts.store.mu.Unlock()
		if !reflect.DeepEqual(*got, tt.want) || !slices.Equal(pats, tt.patterns) {
			t.Errorf("LIST %s = %+v %q, want %+v %q", tt.args, *got, pats, tt.want, tt.patterns)
		}
	}

	creates := []struct {
		args string
		want []imap.MailboxAttr
	}{
		{`n1`, nil},
		{`n2 (USE (\Sent))`, []imap.MailboxAttr{imap.MailboxAttrSent}},
		{`n3 (use (\junk))`, []imap.MailboxAttr{imap.MailboxAttrJunk}},
		{`n4 (USE ())`, nil},
		{`n5 (USE (\Archive) USE (\X-Custom))`, []imap.MailboxAttr{imap.MailboxAttrArchive, `\X-Custom`}},
	}
	for _, tt := range creates {
		tc.send("c CREATE " + tt.args + "\r\n")
		lines := tc.until("c")
		ts.store.mu.Lock()
		got := ts.store.lastCreate
		ts.store.mu.Unlock()
		if len(tt.want) > 1 {
			// The fake refuses more than one use, after parsing.
			if last := lines[len(lines)-1]; last != "c NO [USEATTR] Only one special use per mailbox" {
				t.Errorf("CREATE %s: %q", tt.args, lines)
			}
			continue
		}
		if got == nil || !slices.Equal(got.SpecialUse, tt.want) {
			t.Errorf("CREATE %s: USE %+v, want %q (%q)", tt.args, got, tt.want, lines)
		}
	}
}
