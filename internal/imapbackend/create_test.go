package imapbackend

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// TestCreateSpecialUse checks CREATE (USE (...)) (RFC 6154 §3): what is
// stored, what is refused with [USEATTR] (and then not created), and the
// MAILBOXID returned (RFC 8474 §4.1), which STATUS and SELECT repeat.
func TestCreateSpecialUse(t *testing.T) {
	tests := []struct {
		name     string
		uses     []imap.MailboxAttr
		wantUse  string // stored special use; "-" when refused
		wantCode imap.ResponseCode
	}{
		{"Sent Items", []imap.MailboxAttr{imap.MailboxAttrSent}, mailstore.SpecialSent, ""},
		{"Junk", []imap.MailboxAttr{imap.MailboxAttrJunk, imap.MailboxAttrJunk}, mailstore.SpecialJunk, ""},
		{"Plain", nil, "", ""},
		{"Everything", []imap.MailboxAttr{imap.MailboxAttrAll}, "-", imap.CodeUseAttr},
		{"Flagged", []imap.MailboxAttr{imap.MailboxAttrFlagged}, "-", imap.CodeUseAttr},
		{"Two", []imap.MailboxAttr{imap.MailboxAttrSent, imap.MailboxAttrTrash}, "-", imap.CodeUseAttr},
		{"Odd", []imap.MailboxAttr{`\Important`}, "-", imap.CodeUseAttr},
		{"Sent Items", []imap.MailboxAttr{imap.MailboxAttrSent}, "-", imap.CodeAlreadyExists},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := login(t, st)
		ids := map[string]bool{}
		for _, tt := range tests {
			data, err := s.CreateWithOptions(ctx, tt.name, &imap.CreateOptions{SpecialUse: tt.uses})
			if tt.wantCode != "" {
				if e, ok := imap.AsError(err); !ok || e.Code != tt.wantCode {
					t.Errorf("CREATE %s (USE %q) = %v, want NO [%s]", tt.name, tt.uses, err, tt.wantCode)
				}
				continue
			}
			if err != nil {
				t.Fatalf("CREATE %s (USE %q): %v", tt.name, tt.uses, err)
			}
			if data.MailboxID == "" || ids[data.MailboxID] {
				t.Errorf("CREATE %s: MAILBOXID %q empty or repeated", tt.name, data.MailboxID)
			}
			ids[data.MailboxID] = true
			sd, err := s.Status(ctx, tt.name, &imap.StatusOptions{MailboxID: true})
			if err != nil || sd.MailboxID != data.MailboxID {
				t.Errorf("STATUS %s (MAILBOXID) = %+v, %v, want %q", tt.name, sd, err, data.MailboxID)
			}
		}
		infos, err := st.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, in := range infos {
			got[in.Name] = in.SpecialUse
		}
		for _, tt := range tests {
			use, ok := got[tt.name]
			if tt.wantUse == "-" {
				if ok && tt.wantCode != imap.CodeAlreadyExists {
					t.Errorf("refused %s was created", tt.name)
				}
				continue
			}
			if use != tt.wantUse {
				t.Errorf("%s has special use %q, want %q", tt.name, use, tt.wantUse)
			}
		}
	})
}
