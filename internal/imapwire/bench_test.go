package imapwire

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// BenchmarkDecodeFetchCommand decodes a typical UID FETCH line the way the
// server does.
func BenchmarkDecodeFetchCommand(b *testing.B) {
	const line = "A0042 UID FETCH 1:4096,5000:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)]<0.2048>)\r\n"
	src := strings.NewReader("")
	r := bufio.NewReader(src)
	d := NewDecoder(r, DecoderOptions{})
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(line)
		r.Reset(src)
		d.Reset()
		var tag, cmd, sub, att string
		var set imap.NumSet
		var fields []string
		item := func() error {
			if !d.ExpectSectionAtom(&att) {
				return nil
			}
			if !d.Special('[') {
				return nil
			}
			d.ExpectSectionAtom(&att)
			if d.SP() {
				d.ExpectList(func() error {
					var s string
					d.ExpectAString(&s)
					fields = append(fields, s)
					return nil
				})
			}
			d.ExpectSpecial(']')
			if d.Special('<') {
				var off, n uint32
				d.ExpectNumber(&off)
				d.ExpectSpecial('.')
				d.ExpectNZNumber(&n)
				d.ExpectSpecial('>')
			}
			return nil
		}
		ok := d.ExpectAtom(&tag) && d.ExpectSP() && d.ExpectAtom(&cmd) && d.ExpectSP() &&
			d.ExpectAtom(&sub) && d.ExpectSP() && d.ExpectNumSet(&set) && d.ExpectSP() &&
			d.ExpectList(item) && d.ExpectCRLF()
		if !ok {
			b.Fatal(d.Err())
		}
	}
}

// BenchmarkEncodeEnvelope writes an ENVELOPE-shaped response.
func BenchmarkEncodeEnvelope(b *testing.B) {
	env := &imap.Envelope{
		Date:      "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
		Subject:   "IMAP4rev1 WG mtg summary and minutes",
		From:      []imap.Address{{Name: "Terry Gray", Mailbox: "gray", Host: "cac.washington.edu"}},
		To:        []imap.Address{{Mailbox: "imap", Host: "cac.washington.edu"}},
		Cc:        []imap.Address{{Mailbox: "minutes", Host: "CNRI.Reston.VA.US"}, {Name: "John Klensin", Mailbox: "KLENSIN", Host: "MIT.EDU"}},
		MessageID: "<B27397-0100000@cac.washington.edu>",
	}
	w := bufio.NewWriter(io.Discard)
	e := NewEncoder(w)
	addrs := func(list []imap.Address) {
		if len(list) == 0 {
			e.Atom("NIL")
			return
		}
		e.List(len(list), func(i int) {
			a := list[i]
			e.Special('(').NString(a.Name).SP().NString(a.Route).SP().NString(a.Mailbox).SP().NString(a.Host).Special(')')
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Atom("* 1 FETCH (ENVELOPE (").NString(env.Date).SP().NString(env.Subject).SP()
		addrs(env.From)
		e.SP()
		addrs(env.From)
		e.SP()
		addrs(env.From)
		e.SP()
		addrs(env.To)
		e.SP()
		addrs(env.Cc)
		e.SP()
		addrs(env.Bcc)
		e.SP().NString(env.InReplyTo).SP().NString(env.MessageID).Atom("))").CRLF()
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEncodeFetchFlags writes the lines of a UID FETCH 1:* (FLAGS)
// of 1,000 messages: numbers and flag lists, the bulk of a large
// mailbox's resynchronisation (issue 7).
func BenchmarkEncodeFetchFlags(b *testing.B) {
	flags := []imap.Flag{imap.FlagSeen, "$Label1"}
	e := NewEncoder(bufio.NewWriterSize(io.Discard, 32<<10))
	b.ReportAllocs()
	for b.Loop() {
		for n := uint32(1); n <= 1000; n++ {
			e.Atom("*").SP().Number(n).SP().Atom("FETCH").SP().Special('(').Atom("UID").SP().Number(n + 100000).SP().Atom("FLAGS").SP()
			e.List(len(flags), func(i int) { e.Flag(flags[i]) })
			e.Special(')').CRLF()
		}
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
}
