package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
)

func TestSetup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := Setup(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.Listeners); got != "[{imap 127.0.0.1:1143} {imap [::1]:1143} {imaps 127.0.0.1:1993} {imaps [::1]:1993} {pop3 127.0.0.1:1110} {pop3 [::1]:1110} {pop3s 127.0.0.1:1995} {pop3s [::1]:1995}]" {
		t.Errorf("Listeners = %v, want 127.0.0.1 and ::1 for imap, imaps, pop3 and pop3s on the standard ports + 1000", got)
	}
	for _, p := range []string{cfg.TLSCert, cfg.TLSKey, cfg.PasswdFile} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("demo file: %v", err)
		}
	}
	users, err := virtual.Open(cfg.PasswdFile, virtual.Options{MailRootTemplate: cfg.MailRoot})
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Authenticate(ctx, User, Password)
	if err != nil {
		t.Fatalf("Authenticate(demo, demo) = %v", err)
	}
	if want := filepath.Join(dir, "users", "demo", "Maildir"); u.MailRoot != want {
		t.Errorf("MailRoot = %q, want %q", u.MailRoot, want)
	}
	if _, err := users.Authenticate(ctx, User, "wrong"); err == nil {
		t.Error("Authenticate(demo, wrong) succeeded")
	}

	st, err := maildir.Open(u.MailRoot, maildir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list {
		names = append(names, m.Name)
	}
	if want := []string{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"}; !slices.Equal(names, want) {
		t.Errorf("mailboxes = %v, want %v", names, want)
	}
	mbox, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mbox.Close()
	msgs, err := mbox.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(samples) || len(samples) < 5 {
		t.Fatalf("INBOX has %d messages, want the %d samples", len(msgs), len(samples))
	}
	if !slices.Contains(msgs[0].Flags, mailstore.FlagSeen) || slices.Contains(msgs[1].Flags, mailstore.FlagSeen) {
		t.Errorf("flags = %v, %v; want only the first message \\Seen", msgs[0].Flags, msgs[1].Flags)
	}
	for i, m := range msgs {
		r, err := mbox.OpenMessage(ctx, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		if !bytes.Equal(got, samples[i]) {
			t.Errorf("message UID %d differs from sample %d", m.UID, i)
		}
	}
}
