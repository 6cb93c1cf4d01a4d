package mbox

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func FuzzFromLine(f *testing.F) {
	for _, s := range []string{
		"From alice@example.org Mon Nov 23 09:15:02 2026",
		"From uwtest@vm Wed Nov 25 12:00:00 2026 +0000",
		"From MAILER-DAEMON Wed Nov 25 18:12:25 2026",
		"From a b c Wed Nov  5 18:12 PST 2026",
		"From the kitchen: soup, bread",
		"From  Thu Jan  1 00:00:00 1970 -1200",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		tm, ok := parseFromLine([]byte(line), time.UTC)
		if !ok {
			return
		}
		if tm.Year() < 1000 || tm.Year() > 9999 {
			return
		}
		out := formatFromLine("x@y", tm)
		back, ok := parseFromLine([]byte(out[:len(out)-1]), time.UTC)
		if !ok || !back.Equal(tm) {
			t.Errorf("parseFromLine(formatFromLine(%v)) = %v, %v (line %q)", tm, back, ok, out)
		}
	})
}

func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.mbox")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte("From a Mon Nov 23 09:15:02 2026\n"))
	f.Add([]byte("From a Mon Nov 23 09:15:02 2026\r\nSubject: x\r\n\r\nbody\r\n\nFrom b Mon Nov 23 09:15:02 2026\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := scanMbox(bytes.NewReader(data), 0, time.UTC)
		if err != nil {
			return
		}
		prev := int64(0)
		for i, m := range msgs {
			if !(prev <= m.from && m.from < m.data && m.data <= m.hdrEnd && m.hdrEnd <= m.end && m.end <= m.next && m.next <= int64(len(data))) {
				t.Fatalf("message %d offsets out of order: %+v (len %d)", i, m, len(data))
			}
			if i > 0 && msgs[i-1].next != m.from {
				t.Fatalf("message %d starts at %d, previous ends at %d", i, m.from, msgs[i-1].next)
			}
			if int64(len(m.hdr.visible)) > m.hdrEnd-m.data || m.size() < 0 {
				t.Fatalf("message %d: visible header %d bytes of %d", i, len(m.hdr.visible), m.hdrEnd-m.data)
			}
			prev = m.next
		}
		if len(msgs) > 0 && msgs[len(msgs)-1].next != int64(len(data)) {
			t.Fatalf("last message ends at %d, data is %d bytes", msgs[len(msgs)-1].next, len(data))
		}
	})
}

func FuzzUWHeader(f *testing.F) {
	f.Add([]byte("Subject: x\nX-IMAPbase: 1795630326 5 Work $Label1\nStatus: RO\nX-Status: FA\nX-Keywords: Work $Label1\nX-UID: 1\n"))
	f.Add([]byte("X-IMAP: 1795630345 0000000003 Project-X\nStatus: RO\n"))
	f.Add([]byte("Status: O\r\nX-Status: DT\r\nX-Keywords:          \r\nX-UID: 4294967295\r\n"))
	f.Add([]byte("X-UID: 0\nx-uid: 12\n  continued\nStatus:\n"))
	f.Fuzz(func(t *testing.T, hdr []byte) {
		h := scanHeader(hdr)
		if len(h.visible) > len(hdr) || h.blockOff > len(hdr) {
			t.Fatalf("scanHeader(%q): visible %d, blockOff %d", hdr, len(h.visible), h.blockOff)
		}
		if h.base != nil {
			parseFolderData(string(hdr))
		}
		// What we write, we read back.
		uid := h.uid
		if uid == 0 {
			uid = 1
		}
		var base *folderData
		if h.base != nil {
			base = h.base
		}
		blk := statusBlock{base: base, flags: h.flags(), old: h.old, uid: uid, crlf: h.crlf}.render(0)
		h2 := scanHeader(blk)
		if h2.uid != uid || !slices.Equal(h2.flags(), h.flags()) || h2.old != h.old || len(h2.visible) != 0 || h2.blockOff != 0 {
			t.Fatalf("round trip of %q through %q: uid %d flags %q, want %d %q", hdr, blk, h2.uid, h2.flags(), uid, h.flags())
		}
		if base != nil && (h2.base == nil || h2.base.uidValidity != base.uidValidity || !slices.Equal(h2.base.keywords, base.keywords)) {
			t.Fatalf("X-IMAPbase round trip of %q: %+v, want %+v", hdr, h2.base, base)
		}
		// Padding to a larger size keeps the meaning.
		big := statusBlock{flags: h.flags(), uid: uid}.render(len(blk) + 7)
		if h3 := scanHeader(big); len(big) != len(blk)+7 && len(big) >= len(blk) || h3.uid != uid {
			t.Fatalf("padded block %q: len %d, want %d", big, len(big), len(blk)+7)
		}
	})
}
