package integration

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/auth/virtual"
	"github.com/postern/postern/internal/imapbackend"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/maildir"
)

// updateTranscripts regenerates the golden files:
//
//	go test ./integration -run Transcript -update
var updateTranscripts = flag.Bool("update", false, "rewrite testdata/transcripts/*.txt with the server's answers")

// Transcript fixtures: one user, a fixed clock for APPEND without a date,
// and UTC for SEARCH's date comparisons, so that nothing depends on when or
// where the test runs (UIDVALIDITY aside: see the format).
const (
	tsUser     = "alice"
	tsPassword = "secret"
	tsGreeting = "Postern ready"
)

var tsClock = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// transcriptSetups gives, per transcript file name, what is delivered
// before the server starts.
var transcriptSetups = map[string]func(*tsEnv){
	"select":               deliverBasic,
	"mime-corpus":          deliverCorpus,
	"search":               deliverSearch,
	"store":                deliverBasic,
	"expunge-two-sessions": deliverBasic,
	"copy-move":            deliverCopyMove,
	"mailboxes":            deliverMailboxes,
	"errors":               deliverBasic,
	"search-ext":           deliverSearch,
	"sort-thread":          deliverThreads,
	"condstore":            deliverBasic,
	"qresync":              deliverBasic,
	"mailbox-ext":          deliverMailboxExt,
	"interplay":            deliverInterplay,
}

// TestTranscript runs the byte-exact session transcripts of
// testdata/transcripts (format: transcript_format_test.go) against the real
// stack in this process: imapserver, imapbackend, the maildir store and a
// virtual-users file, wired as internal/daemon wires them, over loopback
// TCP. Each transcript gets a fresh server whose mail a setup function from
// transcriptSetups delivers first.
func TestTranscript(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".txt"))
	}
	for name := range transcriptSetups {
		if !slices.Contains(names, name) {
			t.Errorf("transcript %s.txt is missing from testdata/transcripts", name)
		}
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			setup, ok := transcriptSetups[name]
			if !ok {
				t.Fatalf("%s has no entry in transcriptSetups", files[i])
			}
			addr := startTranscriptServer(t, setup)
			runTranscript(t, files[i], addr)
		})
	}
}

// tsEnv is a transcript's mail store before the server starts.
type tsEnv struct {
	t     *testing.T
	store *maildir.Store
	// passwd is the virtual-users file, read after setup: a setup may
	// add extra fields to the user's line.
	passwd string
}

// deliver appends msg to mailbox with a fixed internal date and flags.
func (e *tsEnv) deliver(mailbox, msg string, date time.Time, flags ...string) {
	e.t.Helper()
	if _, _, err := e.store.Append(context.Background(), mailbox, strings.NewReader(msg),
		mailstore.AppendOptions{Flags: flags, InternalDate: date}); err != nil {
		e.t.Fatalf("deliver to %s: %v", mailbox, err)
	}
}

// create makes a mailbox.
func (e *tsEnv) create(name string) {
	e.t.Helper()
	if err := e.store.Create(context.Background(), name, ""); err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

// startTranscriptServer writes a password file for tsUser, lets setup fill
// the user's Maildir, and serves the stack on 127.0.0.1:0 until the test
// ends.
func startTranscriptServer(t *testing.T, setup func(*tsEnv)) string {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, tsUser)
	passwd := filepath.Join(dir, "passwd")
	hash, err := virtual.HashPasswordCost(tsPassword, 4) // the lowest cost: speed
	if err != nil {
		t.Fatal(err)
	}
	if err := virtual.WriteUser(passwd, tsUser, hash, home); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tsLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	root := filepath.Join(home, "Maildir") // virtual: a home's mail root
	st, err := maildir.Open(root, maildir.Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	setup(&tsEnv{t: t, store: st, passwd: passwd})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	users, err := virtual.Open(passwd, virtual.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	backend := imapbackend.New(imapbackend.Options{
		Auth: users,
		OpenStore: func(ctx context.Context, u *auth.User) (mailstore.Store, error) {
			return maildir.Open(u.MailRoot, maildir.Options{NoFsync: true, Logger: log})
		},
		Logger:   log,
		Clock:    func() time.Time { return tsClock },
		Location: time.UTC,
	})
	srv := imapserver.New(imapserver.Options{
		NewSession: backend.NewSession,
		Logger:     log,
		Greeting:   tsGreeting,
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), tsTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
		if err := <-done; !errors.Is(err, imapserver.ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

// tsLogWriter sends the server's warnings to the test log.
type tsLogWriter struct{ t *testing.T }

func (w tsLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// day returns a fixed internal date: 2026-11-d at 09:00 UTC plus h hours.
func day(d, h int) time.Time {
	return time.Date(2026, 11, d, 9+h, 0, 0, 0, time.UTC)
}

// crlf turns a readable "\n" message into the wire form.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// basicMessages are five small messages for select, store, errors and the
// two-session transcript.
var basicMessages = []string{
	crlf("Date: Mon, 02 Nov 2026 09:00:00 +0000\nFrom: Alice <alice@example.org>\nTo: bob@example.net\nSubject: one\nMessage-ID: <one@example.org>\n\nFirst.\n"),
	crlf("Date: Tue, 03 Nov 2026 10:00:00 +0100\nFrom: bob@example.net\nTo: alice@example.org\nSubject: two\n\nSecond.\n"),
	crlf("Date: Wed, 04 Nov 2026 11:00:00 -0500\nFrom: Carol <carol@example.com>\nTo: alice@example.org\nSubject: three\n\nThird.\n"),
	crlf("Date: Thu, 05 Nov 2026 12:00:00 +0000\nFrom: dave@example.com\nTo: alice@example.org\nSubject: four\n\nFourth.\n"),
	crlf("Date: Fri, 06 Nov 2026 13:00:00 +0000\nFrom: eve@example.org\nTo: alice@example.org\nSubject: five\n\nFifth.\n"),
}

// deliverBasic fills INBOX with basicMessages (flags: \Seen, none,
// \Flagged $Work, \Seen \Answered, none) and creates an empty Archive.
func deliverBasic(e *tsEnv) {
	flags := [][]string{{`\Seen`}, nil, {`\Flagged`, "$Work"}, {`\Seen`, `\Answered`}, nil}
	for i, m := range basicMessages {
		e.deliver("INBOX", m, day(2+i, 0), flags[i]...)
	}
	e.create("Archive")
}

// deliverCorpus delivers every message of internal/message/testdata, sorted
// by name (the UID order).
func deliverCorpus(e *tsEnv) {
	files, err := filepath.Glob(filepath.Join("..", "internal", "message", "testdata", "*.eml"))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(files) == 0 {
		e.t.Fatal("no .eml files in internal/message/testdata")
	}
	slices.Sort(files)
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		e.deliver("INBOX", string(b), day(1, i))
	}
}

// deliverCopyMove fills INBOX with basicMessages and creates Archive with
// one message, so COPYUID UIDs do not start at 1.
func deliverCopyMove(e *tsEnv) {
	deliverBasic(e)
	e.deliver("Archive", crlf("From: old@example.org\nSubject: archived\n\nOld.\n"), day(1, 0), `\Seen`)
}

// deliverMailboxes makes a small hierarchy with two messages in INBOX (to
// see RENAME INBOX move them).
func deliverMailboxes(e *tsEnv) {
	e.deliver("INBOX", basicMessages[0], day(2, 0), `\Seen`)
	e.deliver("INBOX", basicMessages[1], day(3, 0))
	for _, n := range []string{"Archive", "Archive/2025", "Work/Projects"} {
		e.create(n)
	}
}

// searchMessages exercise SEARCH: encoded words in From and Subject, a
// quoted-printable UTF-8 body, a base64 body, an 8-bit ISO-8859-1 body, a
// large message and one without a Date header.
var searchMessages = []struct {
	msg   string
	date  time.Time
	flags []string
}{
	{crlf("Date: Sun, 01 Nov 2026 08:00:00 +0000\n" +
		"From: =?ISO-8859-1?Q?Andr=E9_Pirard?= <andre@example.fr>\n" +
		"To: alice@example.org\n" +
		"Subject: =?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("Grüße aus Köln")) + "?=\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: quoted-printable\n" +
		"\n" +
		"Die Stra=C3=9Fe ist na=C3=9F, sagt Andr=C3=A9.\n"), day(1, 0), []string{`\Seen`}},
	{crlf("Date: Mon, 02 Nov 2026 09:30:00 +0000\n" +
		"From: Bob <bob@example.net>\n" +
		"To: alice@example.org\n" +
		"Cc: carol@example.com\n" +
		"Subject: Quarterly report\n" +
		"Message-ID: <q@example.net>\n" +
		"X-Priority: 1\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\n" +
		"\n" +
		"--b\n" +
		"Content-Type: text/plain; charset=us-ascii\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		base64.StdEncoding.EncodeToString([]byte("The secret word is xylophone.\r\n")) + "\n" +
		"--b\n" +
		"Content-Type: application/octet-stream; name=\"data.bin\"\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		"AAECAwQ=\n" +
		"--b--\n"), day(2, 0), []string{`\Answered`, `\Flagged`}},
	{crlf("Date: Tue, 03 Nov 2026 10:00:00 +0100\n" +
		"From: Carol <carol@example.com>\n" +
		"To: alice@example.org\n" +
		"Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: 8bit\n" +
		"\n" +
		"Un caf\xe9 cr\xe8me, s'il vous pla\xeet.\n"), day(3, 0), nil},
	{crlf("Date: Wed, 04 Nov 2026 23:30:00 -0800\n" +
		"From: dave@example.com\n" +
		"To: alice@example.org\n" +
		"Subject: Re: Quarterly report\n" +
		"In-Reply-To: <q@example.net>\n" +
		"\n" +
		"xylophone in the clear.\n" +
		strings.Repeat("filler filler filler filler filler filler filler filler\n", 20)), day(4, 14), []string{`\Deleted`, "$Important"}},
	{crlf("From: =?UTF-8?Q?=C3=88ve?= <eve@example.org>\n" +
		"To: alice@example.org\n" +
		"Subject: draft without a date\n" +
		"\n" +
		"Nothing to see.\n"), day(5, 0), []string{`\Draft`, "Work"}},
}

// deliverSearch fills INBOX with searchMessages.
func deliverSearch(e *tsEnv) {
	for _, m := range searchMessages {
		e.deliver("INBOX", m.msg, m.date, m.flags...)
	}
}
