package imapbackend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/memstore"
	"github.com/postern/postern/internal/message"
)

// nestedMsg is a multipart/mixed holding a text part and a message/rfc822
// whose message is itself a multipart/alternative.
const nestedMsg = "From: a@example.org\r\n" +
	"Subject: nested\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"part one\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"From: b@example.org\r\n" +
	"Subject: inner\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"inner plain\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<p>inner html</p>\r\n" +
	"--inner--\r\n" +
	"--outer--\r\n"

func sec(spec imap.PartSpecifier, part ...int) *imap.FetchItemBodySection {
	return &imap.FetchItemBodySection{Specifier: spec, Part: part, Peek: true}
}

func lit(s string) string { return fmt.Sprintf("{%d}\r\n%s", len(s), s) }

func TestFetchSections(t *testing.T) {
	innerMsg := nestedMsg[strings.Index(nestedMsg, "From: b@"):strings.Index(nestedMsg, "\r\n--outer--")]
	innerHeader := "From: b@example.org\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
	tests := []struct {
		name string
		sec  *imap.FetchItemBodySection
		want string
	}{
		{"whole", sec(""), "BODY[] " + lit(nestedMsg)},
		{"header", sec("HEADER"), "BODY[HEADER] " + lit("From: a@example.org\r\nSubject: nested\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n")},
		{"text", sec("TEXT"), "BODY[TEXT] " + lit(nestedMsg[strings.Index(nestedMsg, "preamble"):])},
		{"fields", &imap.FetchItemBodySection{Specifier: "HEADER", HeaderFields: []string{"SUBJECT", "x-none"}, Peek: true},
			"BODY[HEADER.FIELDS (SUBJECT x-none)] " + lit("Subject: nested\r\n\r\n")},
		{"fields.not", &imap.FetchItemBodySection{Specifier: "HEADER", HeaderFieldsNot: []string{"Subject", "content-type"}, Peek: true},
			"BODY[HEADER.FIELDS.NOT (Subject content-type)] " + lit("From: a@example.org\r\n\r\n")},
		{"1", sec("", 1), "BODY[1] " + lit("part one")},
		{"1.MIME", sec("MIME", 1), "BODY[1.MIME] " + lit("Content-Type: text/plain\r\n\r\n")},
		{"2", sec("", 2), "BODY[2] " + lit(innerMsg)},
		{"2.HEADER", sec("HEADER", 2), "BODY[2.HEADER] " + lit(innerHeader)},
		{"2.TEXT", sec("TEXT", 2), "BODY[2.TEXT] " + lit(innerMsg[len(innerHeader):])},
		{"2.1", sec("", 2, 1), "BODY[2.1] " + lit("inner plain")},
		{"2.2", sec("", 2, 2), "BODY[2.2] " + lit("<p>inner html</p>")},
		{"2.2.MIME", sec("MIME", 2, 2), "BODY[2.2.MIME] " + lit("Content-Type: text/html\r\n\r\n")},
		{"1.HEADER of a text part", sec("HEADER", 1), "BODY[1.HEADER] " + lit("")},
		{"missing part", sec("", 3), "BODY[3] " + lit("")},
		{"missing nested", sec("", 1, 1, 1), "BODY[1.1.1] " + lit("")},
		{"partial", &imap.FetchItemBodySection{Part: []int{1}, Partial: &imap.SectionPartial{Offset: 2, Size: 3}, Peek: true}, "BODY[1]<2> " + lit("rt ")},
		{"partial past end", &imap.FetchItemBodySection{Part: []int{1}, Partial: &imap.SectionPartial{Offset: 100, Size: 3}, Peek: true}, "BODY[1]<100> " + lit("")},
		{"partial beyond", &imap.FetchItemBodySection{Part: []int{1}, Partial: &imap.SectionPartial{Offset: 5, Size: 100}, Peek: true}, "BODY[1]<5> " + lit("one")},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", nestedMsg)
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		for _, tt := range tests {
			fr := &fetchRec{}
			if err := s.Fetch(context.Background(), fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{tt.sec}}); err != nil {
				t.Errorf("%s: Fetch: %v", tt.name, err)
				continue
			}
			if got, want := fr.take(), "* 1 FETCH ("+tt.want+")"; got != want {
				t.Errorf("%s: Fetch = %q, want %q", tt.name, got, want)
			}
		}
	})
}

func TestFetchBareLF(t *testing.T) {
	msg := "From: a@example.org\nSubject: lf\n\nline 1\nline 2\r\nline 3\n"
	crlf := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	tests := []struct {
		sec  *imap.FetchItemBodySection
		want string
	}{
		{sec(""), "BODY[] " + lit(crlf)},
		{sec("TEXT"), "BODY[TEXT] " + lit("line 1\r\nline 2\r\nline 3\r\n")},
		{&imap.FetchItemBodySection{Specifier: "TEXT", Partial: &imap.SectionPartial{Offset: 4, Size: 5}, Peek: true}, "BODY[TEXT]<4> " + lit(" 1\r\nl")},
		{&imap.FetchItemBodySection{Specifier: "TEXT", Partial: &imap.SectionPartial{Offset: 6, Size: 2}, Peek: true}, "BODY[TEXT]<6> " + lit("\r\n")},
		{&imap.FetchItemBodySection{Specifier: "TEXT", Partial: &imap.SectionPartial{Offset: 7, Size: 1}, Peek: true}, "BODY[TEXT]<7> " + lit("\n")},
		{&imap.FetchItemBodySection{Specifier: "HEADER", HeaderFields: []string{"Subject"}, Peek: true}, "BODY[HEADER.FIELDS (Subject)] " + lit("Subject: lf\r\n\r\n")},
	}
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", msg)
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		s.Fetch(context.Background(), fr, imap.NumKindSeq, all, &imap.FetchOptions{RFC822Size: true})
		if got, want := fr.take(), fmt.Sprintf("* 1 FETCH (RFC822.SIZE %d)", len(crlf)); got != want {
			t.Errorf("Fetch = %q, want %q", got, want)
		}
		for _, tt := range tests {
			s.Fetch(context.Background(), fr, imap.NumKindSeq, all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{tt.sec}})
			if got, want := fr.take(), "* 1 FETCH ("+tt.want+")"; got != want {
				t.Errorf("Fetch = %q, want %q", got, want)
			}
		}
	})
}

// TestFetchSetsSeen checks RFC 3501 §6.4.5: BODY[] sets \Seen and the
// response carries FLAGS; BODY.PEEK and EXAMINE do not.
func TestFetchSetsSeen(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		appendMsg(t, st, "INBOX", simpleMsg(1))
		appendMsg(t, st, "INBOX", simpleMsg(2), `\Seen`)
		ro := login(t, st)
		selectBox(t, ro, "INBOX", true)
		fr := &fetchRec{}
		text := &imap.FetchItemBodySection{Specifier: "TEXT"}
		ro.Fetch(ctx, fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{text}})
		if got, want := fr.take(), "* 1 FETCH (BODY[TEXT] "+lit("Body 1.\r\n")+")"; got != want {
			t.Errorf("EXAMINE Fetch = %q, want %q", got, want)
		}

		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		s.Fetch(ctx, fr, imap.NumKindSeq, set(t, "1"), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec("TEXT")}})
		if got, want := fr.take(), "* 1 FETCH (BODY[TEXT] "+lit("Body 1.\r\n")+")"; got != want {
			t.Errorf("PEEK Fetch = %q, want %q", got, want)
		}
		s.Fetch(ctx, fr, imap.NumKindUID, set(t, "1:2"), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{text}})
		want := "* 1 FETCH (UID 1 FLAGS (\\Recent \\Seen) BODY[TEXT] " + lit("Body 1.\r\n") + ")\n" +
			"* 2 FETCH (UID 2 BODY[TEXT] " + lit("Body 2.\r\n") + ")"
		if got := fr.take(); got != want {
			t.Errorf("UID Fetch = %q, want %q", got, want)
		}
		if n := status(t, st, "INBOX").Unseen; n != 0 {
			t.Errorf("after BODY[TEXT]: %d unseen, want 0", n)
		}
		// The other session learns of it by Poll.
		var u updates
		ro.Poll(ctx, &u, true)
		if got, want := u.take(), `* 1 FETCH (FLAGS (\Recent \Seen))`; got != want {
			t.Errorf("EXAMINE Poll = %q, want %q", got, want)
		}
	})
}

func TestFetchMeta(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		appendMsg(t, st, "INBOX", simpleMsg(1), "Work", `\Answered`, `\Seen`)
		s := login(t, st)
		selectBox(t, s, "INBOX", false)
		fr := &fetchRec{}
		s.Fetch(context.Background(), fr, imap.NumKindSeq, all, &imap.FetchOptions{Flags: true, InternalDate: true, RFC822Size: true})
		want := `* 1 FETCH (FLAGS (\Recent \Answered \Seen Work) INTERNALDATE "25-Nov-2026 12:00:00 +0000" RFC822.SIZE 52)`
		if got := fr.take(); got != want {
			t.Errorf("Fetch = %q, want %q", got, want)
		}
	})
}

// TestFetchCachesStructures checks that a FETCH of messages never parsed
// (delivered by an outside program) stores every structure it parsed.
func TestFetchCachesStructures(t *testing.T) {
	st := memstore.New(nil)
	for i := 0; i < 3; i++ {
		appendMsg(t, st, "INBOX", fmt.Sprintf("Subject: m%d\r\n\r\nbody\r\n", i))
	}
	ctx := context.Background()
	mb, err := st.Open(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	before, _ := mb.Info(ctx, []uint32{1, 2, 3})
	for _, in := range before {
		if in.Cache != nil {
			t.Fatalf("UID %d cached before any FETCH", in.UID)
		}
	}
	s := login(t, st)
	selectBox(t, s, "INBOX", false)
	if err := s.Fetch(ctx, &fetchRec{}, imap.NumKindSeq, all, &imap.FetchOptions{Envelope: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := mb.Info(ctx, []uint32{1, 2, 3})
	for _, in := range after {
		if p, err := message.UnmarshalPart(in.Cache); err != nil || p.Envelope.Subject != fmt.Sprintf("m%d", in.UID-1) {
			t.Errorf("UID %d cache after FETCH: %v, %v", in.UID, p, err)
		}
	}
}
