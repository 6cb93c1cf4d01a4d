// Package demo builds the self-contained demo set-up of `postern serve
// --demo`: a fresh data directory with a virtual user "demo" (password
// "demo"), a Maildir with varied sample messages and the usual special-use
// folders, a self-signed certificate, and a configuration listening on
// loopback high ports. Nothing needs root or a config file.
package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
	"github.com/postern/postern/internal/tlsconfig"
)

// User and Password are the demo account's credentials.
const (
	User     = "demo"
	Password = "demo"
)

// ConfigName is the demo's configuration file in its data directory.
const ConfigName = "postern.conf"

// Default ports: the standard ones plus 1000, so no root is needed.
const (
	IMAPPort  = 1143
	IMAPSPort = 1993
	POP3Port  = 1110
	POP3SPort = 1995
)

//go:embed messages/*.eml
var messages embed.FS

// Setup creates the demo data under dir (which must not hold a previous
// demo; an empty or missing directory is fine) and returns a configuration
// using it. The INBOX gets the sample messages, the first one marked \Seen.
func Setup(ctx context.Context, dir string) (*config.Config, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cert, key, err := tlsconfig.SelfSigned(filepath.Join(dir, "tls"), nil)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	hash, err := virtual.HashPassword(Password)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	home := filepath.Join(dir, "users", User)
	passwd := filepath.Join(dir, "passwd")
	if err := virtual.WriteUser(passwd, User, hash, home); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := fillMaildir(ctx, filepath.Join(home, "Maildir")); err != nil {
		return nil, err
	}
	c := config.Default()
	c.Listeners = []config.Listener{
		{Service: config.ServiceIMAP, Addr: fmt.Sprintf("127.0.0.1:%d", IMAPPort)},
		{Service: config.ServiceIMAP, Addr: fmt.Sprintf("[::1]:%d", IMAPPort)},
		{Service: config.ServiceIMAPS, Addr: fmt.Sprintf("127.0.0.1:%d", IMAPSPort)},
		{Service: config.ServiceIMAPS, Addr: fmt.Sprintf("[::1]:%d", IMAPSPort)},
		{Service: config.ServicePOP3, Addr: fmt.Sprintf("127.0.0.1:%d", POP3Port)},
		{Service: config.ServicePOP3, Addr: fmt.Sprintf("[::1]:%d", POP3Port)},
		{Service: config.ServicePOP3S, Addr: fmt.Sprintf("127.0.0.1:%d", POP3SPort)},
		{Service: config.ServicePOP3S, Addr: fmt.Sprintf("[::1]:%d", POP3SPort)},
	}
	c.TLSCert, c.TLSKey = cert, key
	c.Auth = config.AuthVirtual
	c.PasswdFile = passwd
	c.MailRoot = filepath.Join(dir, "users", "%u", "Maildir")
	if err := c.Validate(); err != nil {
		return nil, err
	}
	// Saved so the same demo can be served again, or by imapd:
	// `postern serve -c DIR/postern.conf`, `imapd -c DIR/postern.conf`.
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(c.Format()), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return c, nil
}

func fillMaildir(ctx context.Context, root string) error {
	st, err := maildir.Open(root, maildir.Options{})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer st.Close()
	// The demo user's Maildir is new: it gets the default mailboxes with
	// their special uses (RFC 6154), as a new account does (daemon's
	// openStore), so a client files drafts and sent mail in the right place.
	var boxes []mailstore.DefaultMailbox
	for _, d := range config.Default().DefaultMailboxes {
		boxes = append(boxes, mailstore.DefaultMailbox{Name: d.Name, SpecialUse: d.SpecialUse})
	}
	if err := mailstore.CreateDefaults(ctx, st, boxes); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := st.SetSubscribed(ctx, "INBOX", true); err != nil {
		return fmt.Errorf("demo: subscribing INBOX: %w", err)
	}
	names, err := messageNames()
	if err != nil {
		return err
	}
	// Internal dates an hour apart, ending now, so date searches and sorts
	// have something to show.
	now := time.Now().Truncate(time.Second)
	for i, name := range names {
		data, err := messages.ReadFile(name)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		opts := mailstore.AppendOptions{InternalDate: now.Add(time.Duration(i-len(names)) * time.Hour)}
		if i == 0 {
			opts.Flags = []string{mailstore.FlagSeen}
		}
		if _, _, err := st.Append(ctx, "INBOX", bytes.NewReader(data), opts); err != nil {
			return fmt.Errorf("demo: delivering %s: %w", name, err)
		}
	}
	return nil
}

// messageNames lists the embedded sample messages in delivery order.
func messageNames() ([]string, error) {
	ents, err := messages.ReadDir("messages")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, "messages/"+e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// Messages returns the sample messages, in delivery order, for tests that
// compare what a client reads with what was delivered.
func Messages() ([][]byte, error) {
	names, err := messageNames()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, n := range names {
		b, err := messages.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
