package imapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap"
)

// FuzzDecoder runs arbitrary input through command-shaped sequences of
// productions, recovering with DiscardLine as a server does. It checks
// that nothing panics, that every round consumes input (no hang), that
// in-memory strings respect MaxLiteralSize and that lines respect
// MaxLineLength.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"a1 UID FETCH 1:*,4 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n",
		"a2 LOGIN {4}\r\nuser \"pa\\\"ss\"\r\n",
		"a3 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello\r\n",
		"a4 SEARCH SINCE 1-Feb-1994 UID $\r\n",
		"a5 LIST \"\" &APw-*\r\n",
		"((((((((((((a))))))))))))\r\n",
		"{99999999999+}\r\n",
		"a6 X ~{3}\r\na\x00b\r\n",
		"\r\n\n\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxLit, maxLine = 64, 128
		src := &countingReader{r: bytes.NewReader(in)}
		d := NewDecoder(bufio.NewReaderSize(src, 16), DecoderOptions{
			MaxLineLength: maxLine, MaxLiteralSize: maxLit, MaxDepth: 4,
			Continue: func() error { return nil },
		})
		var (
			s     string
			set   imap.NumSet
			tm    time.Time
			n     uint32
			f     imap.Flag
			isNil bool
		)
		check := func(v string) {
			if len(v) > max(maxLit, maxLine) {
				t.Fatalf("decoded %d octets, over the limits", len(v))
			}
		}
		var item func() error
		item = func() error {
			if d.List(item) {
				return nil
			}
			d.ExpectAString(&s)
			check(s)
			return nil
		}
		for round := 0; ; round++ {
			if round > len(in)+1 {
				t.Fatalf("no progress after %d rounds", round)
			}
			before := src.n - int64(d.r.Buffered())
			d.Reset()
			switch round % 5 {
			case 0:
				d.ExpectAtom(&s)
				d.ExpectSP()
				d.ExpectNumSet(&set)
				d.ExpectSP()
				d.ExpectList(item)
			case 1:
				d.ExpectAString(&s)
				check(s)
				d.ExpectSP()
				d.ExpectMailbox(&s)
				d.ExpectSP()
				d.ExpectListMailbox(&s)
			case 2:
				d.ExpectFlag(&f)
				d.ExpectSP()
				d.ExpectDateTime(&tm)
				d.ExpectSP()
				d.ExpectDate(&tm)
				d.ExpectSP()
				d.ExpectNString(&s, &isNil)
				check(s)
			case 3:
				d.ExpectSectionAtom(&s)
				d.ExpectSpecial('[')
				d.ExpectNZNumber(&n)
				if r, _, ok := d.ExpectLiteralReader(maxLit, true); ok {
					io.Copy(io.Discard, r)
				}
			case 4:
				if r, _, ok := d.ExpectLiteralReader(maxLit, false); ok {
					io.CopyN(io.Discard, r, 3) // leave some for DiscardLine
				}
			}
			d.ExpectCRLF()
			if err := d.DiscardLine(); err != nil {
				var le *LimitError
				if errors.As(err, &le) && !le.Fatal {
					t.Fatalf("DiscardLine returned non-fatal %v", err)
				}
				return
			}
			after := src.n - int64(d.r.Buffered())
			if after == before && d.Err() != nil {
				if _, ok := d.PeekByte(); ok {
					t.Fatalf("round %d consumed nothing: %v", round, d.Err())
				}
			}
			if _, ok := d.PeekByte(); !ok {
				return
			}
		}
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// FuzzNumSet checks the decoder's sequence-set against imap.ParseNumSet
// and the encoder.
func FuzzNumSet(f *testing.F) {
	for _, s := range []string{"1", "1:3,5,7:*", "*", "$", "0", "1,", "4294967296", "01:2", "$,1", "*:*", "2:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, " \r\n") {
			return
		}
		d := newTestDecoder(s+" ", DecoderOptions{})
		var set imap.NumSet
		ok := d.ExpectNumSet(&set) && d.ExpectSP()
		want, err := imap.ParseNumSet(s)
		if ok != (err == nil) {
			t.Fatalf("ExpectNumSet(%q) ok = %v (%v), ParseNumSet err = %v", s, ok, d.Err(), err)
		}
		if !ok {
			return
		}
		if !reflect.DeepEqual(set, want) {
			t.Errorf("ExpectNumSet(%q) = %+v, ParseNumSet %+v", s, set, want)
		}
		// "*:*" is written "*"; anything else as it was read.
		out, err := encode(func(e *Encoder) { e.NumSet(set) })
		if err != nil || out != set.String() {
			t.Errorf("NumSet(%q) encoded %q, %v", s, out, err)
		}
		d = newTestDecoder(out+" ", DecoderOptions{})
		var back imap.NumSet
		if !d.ExpectNumSet(&back) || !reflect.DeepEqual(back, set) {
			t.Errorf("ExpectNumSet(%q) = %+v (%v), want %+v", out, back, d.Err(), set)
		}
	})
}

// FuzzDateTime checks that an accepted date-time is written back as the
// same instant and reads again.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"17-Jul-1996 02:44:25 -0700", " 1-jan-2000 00:00:00 +0000", "29-Feb-2021 00:00:00 +0000", "1-Feb-1994"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, reason := parseDateTime(s)
		if reason != "" {
			return
		}
		out, err := encode(func(e *Encoder) { e.DateTime(tm) })
		if err != nil {
			t.Fatal(err)
		}
		d := newTestDecoder(out, DecoderOptions{})
		var back time.Time
		if !d.ExpectDateTime(&back) || !back.Equal(tm) {
			t.Errorf("date-time %q -> %s -> %v (%v)", s, out, back, d.Err())
		}
	})
}
