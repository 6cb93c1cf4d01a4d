package integration

import (
	"crypto/tls"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func capList(caps imap.CapSet) string {
	var l []string
	for c := range caps {
		l = append(l, string(c))
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

const (
	capsCommon   = "APPENDLIMIT=67108864 BINARY CATENATE CHILDREN COMPRESS=DEFLATE CONDSTORE CREATE-SPECIAL-USE ENABLE ESEARCH ESORT ID IDLE IMAP4rev1 IMAP4rev2 LIST-EXTENDED LIST-STATUS LITERAL+ MOVE MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA QUOTA=RES-MESSAGE QUOTA=RES-STORAGE SASL-IR SAVEDATE SEARCHRES SORT SORT=DISPLAY SPECIAL-USE STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT UTF8=ACCEPT WITHIN"
	capsPlain    = "APPENDLIMIT=67108864 AUTH=LOGIN AUTH=PLAIN BINARY CATENATE CHILDREN COMPRESS=DEFLATE CONDSTORE CREATE-SPECIAL-USE ENABLE ESEARCH ESORT ID IDLE IMAP4rev1 IMAP4rev2 LIST-EXTENDED LIST-STATUS LITERAL+ MOVE MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA QUOTA=RES-MESSAGE QUOTA=RES-STORAGE SASL-IR SAVEDATE SEARCHRES SORT SORT=DISPLAY SPECIAL-USE STARTTLS STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT UTF8=ACCEPT WITHIN"
	capsTLS      = "APPENDLIMIT=67108864 AUTH=LOGIN AUTH=PLAIN BINARY CATENATE CHILDREN COMPRESS=DEFLATE CONDSTORE CREATE-SPECIAL-USE ENABLE ESEARCH ESORT ID IDLE IMAP4rev1 IMAP4rev2 LIST-EXTENDED LIST-STATUS LITERAL+ MOVE MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA QUOTA=RES-MESSAGE QUOTA=RES-STORAGE SASL-IR SAVEDATE SEARCHRES SORT SORT=DISPLAY SPECIAL-USE STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT UTF8=ACCEPT WITHIN"
	capsLoggedIn = capsCommon
)

// TestIMAPClientLogin covers CAPABILITY, NOOP, LOGIN, AUTHENTICATE,
// STARTTLS, implicit TLS and LOGOUT with imapclient.
func TestIMAPClientLogin(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tlsConf := &tls.Config{InsecureSkipVerify: true}

	t.Run("CapabilityNoopLogin", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		caps, err := c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := capList(caps); got != capsPlain {
			t.Errorf("CAPABILITY before login = %q, want %q", got, capsPlain)
		}
		if err := c.Noop().Wait(); err != nil {
			t.Errorf("NOOP before login: %v", err)
		}
		if err := c.Login("demo", "demo").Wait(); err != nil {
			t.Fatalf("LOGIN demo demo: %v", err)
		}
		if st := stateOf(t, c); st != imap.ConnStateAuthenticated {
			t.Errorf("state after LOGIN = %v, want authenticated", st)
		}
		caps, err = c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := capList(caps); got != capsLoggedIn {
			t.Errorf("CAPABILITY after login = %q, want %q", got, capsLoggedIn)
		}
		if err := c.Noop().Wait(); err != nil {
			t.Errorf("NOOP after login: %v", err)
		}
		if err := c.Logout().Wait(); err != nil {
			t.Errorf("LOGOUT: %v", err)
		}
	})

	t.Run("LoginBadPassword", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		err := c.Login("demo", "wrong").Wait()
		var ie *imap.Error
		if err == nil {
			t.Fatal("LOGIN demo wrong succeeded, want NO")
		} else if !asIMAPError(err, &ie) || ie.Type != imap.StatusResponseTypeNo {
			t.Fatalf("LOGIN demo wrong = %v, want a NO response", err)
		}
		if st := stateOf(t, c); st != imap.ConnStateNotAuthenticated {
			t.Errorf("state after failed LOGIN = %v, want not authenticated", st)
		}
		// The connection stays usable: the right password works.
		if err := c.Login("demo", "demo").Wait(); err != nil {
			t.Errorf("LOGIN after a failed one: %v", err)
		}
	})

	t.Run("AuthenticatePlain", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		if err := c.Authenticate(plainSASL{"demo", "demo"}); err != nil {
			t.Fatalf("AUTHENTICATE PLAIN: %v", err)
		}
		if st := stateOf(t, c); st != imap.ConnStateAuthenticated {
			t.Errorf("state after AUTHENTICATE PLAIN = %v, want authenticated", st)
		}
		if d := selectMailbox(t, c, "INBOX", true); d.NumMessages != 5 {
			t.Errorf("EXAMINE INBOX after AUTHENTICATE: %d messages, want 5", d.NumMessages)
		}
	})

	t.Run("AuthenticateLogin", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		step := 0
		if err := c.Authenticate(loginSASL{"demo", "demo", &step}); err != nil {
			t.Fatalf("AUTHENTICATE LOGIN: %v", err)
		}
		if step != 2 {
			t.Errorf("AUTHENTICATE LOGIN took %d challenges, want 2", step)
		}
		if st := stateOf(t, c); st != imap.ConnStateAuthenticated {
			t.Errorf("state after AUTHENTICATE LOGIN = %v, want authenticated", st)
		}
	})

	t.Run("StartTLS", func(t *testing.T) {
		c, err := imapclient.DialStartTLS(s.IMAP, &imapclient.Options{
			TLSConfig: tlsConf,
			Dialer:    &net.Dialer{Timeout: ioTimeout},
		})
		if err != nil {
			t.Fatalf("STARTTLS to %s: %v", s.IMAP, err)
		}
		defer c.Close()
		caps, err := c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := capList(caps); got != capsTLS {
			t.Errorf("CAPABILITY after STARTTLS = %q, want %q", got, capsTLS)
		}
		if err := c.Login("demo", "demo").Wait(); err != nil {
			t.Fatalf("LOGIN over STARTTLS: %v", err)
		}
		if d := selectMailbox(t, c, "INBOX", true); d.NumMessages != 5 {
			t.Errorf("EXAMINE INBOX over STARTTLS: %d messages, want 5", d.NumMessages)
		}
		body := fetch(t, c, imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		if len(body) != 1 || string(body[0].FindBodySection(&imap.FetchItemBodySection{})) != string(demoMessages[0]) {
			t.Errorf("BODY.PEEK[] 1 over STARTTLS differs from 01-plain.eml")
		}
	})

	t.Run("StartTLSIPv6", func(t *testing.T) {
		c, err := imapclient.DialStartTLS(s.IMAP6, &imapclient.Options{
			TLSConfig: tlsConf,
			Dialer:    &net.Dialer{Timeout: ioTimeout},
		})
		if err != nil {
			t.Fatalf("STARTTLS to %s: %v", s.IMAP6, err)
		}
		defer c.Close()
		if err := c.Login("demo", "demo").Wait(); err != nil {
			t.Fatalf("LOGIN over STARTTLS on IPv6: %v", err)
		}
	})

	t.Run("IMAPS", func(t *testing.T) {
		c, err := imapclient.DialTLS(s.IMAPS, &imapclient.Options{
			TLSConfig: tlsConf,
			Dialer:    &net.Dialer{Timeout: ioTimeout},
		})
		if err != nil {
			t.Fatalf("TLS to %s: %v", s.IMAPS, err)
		}
		defer c.Close()
		caps, err := c.Capability().Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := capList(caps); got != capsTLS {
			t.Errorf("CAPABILITY on imaps = %q, want %q", got, capsTLS)
		}
		if err := c.Authenticate(plainSASL{"demo", "demo"}); err != nil {
			t.Fatalf("AUTHENTICATE PLAIN on imaps: %v", err)
		}
		if d := selectMailbox(t, c, "INBOX", true); d.NumMessages != 5 {
			t.Errorf("EXAMINE INBOX on imaps: %d messages, want 5", d.NumMessages)
		}
	})

	t.Run("IPv6", func(t *testing.T) {
		c := loginIMAP(t, s.IMAP6, nil)
		if d := selectMailbox(t, c, "INBOX", true); d.NumMessages != 5 {
			t.Errorf("EXAMINE INBOX on [::1]: %d messages, want 5", d.NumMessages)
		}
	})

	t.Run("CommandsBeforeLogin", func(t *testing.T) {
		c := dialIMAP(t, s.IMAP, nil)
		if _, err := c.Select("INBOX", nil).Wait(); err == nil {
			t.Error("SELECT before login succeeded, want BAD")
		}
	})
}

func asIMAPError(err error, target **imap.Error) bool {
	ie, ok := err.(*imap.Error)
	if ok {
		*target = ie
	}
	return ok
}

// TestIMAPClientMailboxes covers LIST, LSUB, NAMESPACE, STATUS, CREATE,
// DELETE, RENAME (also of INBOX), SUBSCRIBE and UNSUBSCRIBE.
func TestIMAPClientMailboxes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := loginIMAP(t, s.IMAP, nil)
	raw := dialRaw(t, s.IMAP, true)

	lsub := func() []string {
		t.Helper()
		out := append([]string(nil), raw.mustOK(`LSUB "" "*"`)...)
		sort.Strings(out)
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s =\n\t%q\nwant\n\t%q", what, got, want)
		}
	}

	check(`LIST "" "*"`, listNames(t, c, "", "*"), []string{
		`Archive \Archive \HasNoChildren`,
		`Drafts \Drafts \HasNoChildren`,
		`INBOX \HasNoChildren`,
		`Junk \HasNoChildren \Junk`,
		`Sent \HasNoChildren \Sent`,
		`Trash \HasNoChildren \Trash`,
	})
	check(`LSUB "" "*"`, lsub(), []string{
		`* LSUB () "/" Archive`,
		`* LSUB () "/" Drafts`,
		`* LSUB () "/" INBOX`,
		`* LSUB () "/" Junk`,
		`* LSUB () "/" Sent`,
		`* LSUB () "/" Trash`,
	})
	// LIST "" "" asks for the delimiter (RFC 3501 §6.3.8).
	check(`LIST "" ""`, raw.mustOK(`LIST "" ""`), []string{`* LIST (\Noselect) "/" ""`})

	ns, err := c.Namespace().Wait()
	if err != nil {
		t.Fatalf("NAMESPACE: %v", err)
	}
	if len(ns.Personal) != 1 || ns.Personal[0].Prefix != "" || ns.Personal[0].Delim != '/' || ns.Other != nil || ns.Shared != nil {
		t.Errorf("NAMESPACE = %+v, want ((\"\" \"/\")) NIL NIL", ns)
	}

	if got, want := statusOf(t, c, "INBOX"), "messages=5 uidnext=6 unseen=4"; got != want {
		t.Errorf("STATUS INBOX = %s, want %s", got, want)
	}
	if got, want := statusOf(t, c, "Sent"), "messages=0 uidnext=1 unseen=0"; got != want {
		t.Errorf("STATUS Sent = %s, want %s", got, want)
	}
	if _, err := c.Status("Nonexistent", &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
		t.Error("STATUS Nonexistent succeeded, want NO")
	}

	// CREATE with hierarchy; the parent is created too (RFC 3501 §6.3.3).
	for _, name := range []string{"Projects/2026", "Projects/2025", "Über"} {
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatalf("CREATE %s: %v", name, err)
		}
	}
	if err := c.Create("Projects/2026", nil).Wait(); err == nil {
		t.Error("CREATE of an existing mailbox succeeded, want NO")
	}
	if err := c.Create("INBOX", nil).Wait(); err == nil {
		t.Error("CREATE INBOX succeeded, want NO")
	}
	check(`LIST "" "*" after CREATE`, listNames(t, c, "", "*"), []string{
		`Archive \Archive \HasNoChildren`,
		`Drafts \Drafts \HasNoChildren`,
		`INBOX \HasNoChildren`,
		`Junk \HasNoChildren \Junk`,
		`Projects \HasChildren`,
		`Projects/2025 \HasNoChildren`,
		`Projects/2026 \HasNoChildren`,
		`Sent \HasNoChildren \Sent`,
		`Trash \HasNoChildren \Trash`,
		`Über \HasNoChildren`,
	})
	check(`LIST "" "%"`, listNames(t, c, "", "%"), []string{
		`Archive \Archive \HasNoChildren`,
		`Drafts \Drafts \HasNoChildren`,
		`INBOX \HasNoChildren`,
		`Junk \HasNoChildren \Junk`,
		`Projects \HasChildren`,
		`Sent \HasNoChildren \Sent`,
		`Trash \HasNoChildren \Trash`,
		`Über \HasNoChildren`,
	})
	check(`LIST "Projects/" "%"`, listNames(t, c, "Projects/", "%"), []string{
		`Projects/2025 \HasNoChildren`,
		`Projects/2026 \HasNoChildren`,
	})
	check(`LIST "" "P*6"`, listNames(t, c, "", "P*6"), []string{`Projects/2026 \HasNoChildren`})
	check(`LIST "" "inbox"`, listNames(t, c, "", "inbox"), []string{`INBOX \HasNoChildren`})
	// The name goes over the wire in modified UTF-7 (RFC 3501 §5.1.3).
	check(`raw LIST "" "&ANw-*"`, raw.mustOK(`LIST "" "&ANw-*"`), []string{`* LIST (\HasNoChildren) "/" &ANw-ber`})

	// SUBSCRIBE / UNSUBSCRIBE, seen through LSUB.
	if err := c.Subscribe("Projects/2026").Wait(); err != nil {
		t.Fatalf("SUBSCRIBE Projects/2026: %v", err)
	}
	if err := c.Unsubscribe("Junk").Wait(); err != nil {
		t.Fatalf("UNSUBSCRIBE Junk: %v", err)
	}
	check(`LSUB "" "*" after SUBSCRIBE`, lsub(), []string{
		`* LSUB () "/" Archive`,
		`* LSUB () "/" Drafts`,
		`* LSUB () "/" INBOX`,
		`* LSUB () "/" Projects/2026`,
		`* LSUB () "/" Sent`,
		`* LSUB () "/" Trash`,
	})
	check(`LSUB "" "%"`, func() []string {
		u := raw.mustOK(`LSUB "" "%"`)
		sort.Strings(u)
		return u
	}(), []string{
		`* LSUB () "/" Archive`,
		`* LSUB () "/" Drafts`,
		`* LSUB () "/" INBOX`,
		`* LSUB () "/" Sent`,
		`* LSUB () "/" Trash`,
		`* LSUB (\Noselect) "/" Projects`,
	})

	// RENAME moves the children with the parent (RFC 3501 §6.3.5).
	if err := c.Rename("Projects", "Work", nil).Wait(); err != nil {
		t.Fatalf("RENAME Projects Work: %v", err)
	}
	if err := c.Rename("Nonexistent", "Other", nil).Wait(); err == nil {
		t.Error("RENAME of a missing mailbox succeeded, want NO")
	}
	if err := c.Rename("Drafts", "Sent", nil).Wait(); err == nil {
		t.Error("RENAME onto an existing mailbox succeeded, want NO")
	}
	check(`LIST "" "W*" after RENAME`, listNames(t, c, "", "W*"), []string{
		`Work \HasChildren`,
		`Work/2025 \HasNoChildren`,
		`Work/2026 \HasNoChildren`,
	})
	check(`LIST "" "Projects*" after RENAME`, listNames(t, c, "", "Projects*"), nil)

	// DELETE a leaf, then a mailbox with children is refused? RFC 3501
	// §6.3.4 allows deleting a parent: it then stays as \Noselect.
	if err := c.Delete("Work/2025").Wait(); err != nil {
		t.Fatalf("DELETE Work/2025: %v", err)
	}
	if err := c.Delete("Über").Wait(); err != nil {
		t.Fatalf("DELETE Über: %v", err)
	}
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Error("DELETE INBOX succeeded, want NO")
	}
	if err := c.Delete("Nonexistent").Wait(); err == nil {
		t.Error("DELETE Nonexistent succeeded, want NO")
	}
	check(`LIST "" "*" after DELETE`, listNames(t, c, "", "*"), []string{
		`Archive \Archive \HasNoChildren`,
		`Drafts \Drafts \HasNoChildren`,
		`INBOX \HasNoChildren`,
		`Junk \HasNoChildren \Junk`,
		`Sent \HasNoChildren \Sent`,
		`Trash \HasNoChildren \Trash`,
		`Work \HasChildren`,
		`Work/2026 \HasNoChildren`,
	})

	// RENAME INBOX moves its messages to the new name and leaves INBOX
	// empty (RFC 3501 §6.3.5).
	validity := statusValidity(t, c, "INBOX")
	if err := c.Rename("INBOX", "Old", nil).Wait(); err != nil {
		t.Fatalf("RENAME INBOX Old: %v", err)
	}
	// INBOX may keep its UIDVALIDITY, and then UIDNEXT must not go back
	// (UIDs are never reused, RFC 3501 §2.3.1.1), or get a new one.
	want := "messages=0 uidnext=6 unseen=0"
	if statusValidity(t, c, "INBOX") != validity {
		want = "messages=0 uidnext=1 unseen=0"
	}
	if got := statusOf(t, c, "INBOX"); got != want {
		t.Errorf("STATUS INBOX after RENAME INBOX = %s, want %s", got, want)
	}
	if got, want := statusOf(t, c, "Old"), "messages=5 uidnext=6 unseen=4"; got != want {
		t.Errorf("STATUS Old after RENAME INBOX = %s, want %s", got, want)
	}
	selectMailbox(t, c, "Old", true)
	msgs := fetch(t, c, imap.SeqSetNum(1, 2, 3, 4, 5), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	for i, m := range msgs {
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); string(got) != string(demoMessages[i]) {
			t.Errorf("Old message %d after RENAME INBOX differs from the demo message", i+1)
		}
	}
}
