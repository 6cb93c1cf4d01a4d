package mbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/internal/mailstore"
)

// fileUIDs returns the UIDLAST of the folder data (X-IMAPbase or X-IMAP)
// and the X-UIDs of an mbox file.
func fileUIDs(t *testing.T, path string) (uint32, []uint32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	base := regexp.MustCompile(`(?m)^X-IMAP(?:base)?: +\d+ +(\d+)`).FindSubmatch(b)
	if base == nil {
		t.Fatalf("%s has no X-IMAPbase or X-IMAP:\n%s", path, b)
	}
	last, _ := strconv.ParseUint(string(base[1]), 10, 32)
	var uids []uint32
	for _, m := range regexp.MustCompile(`(?m)^X-UID: +(\d+)`).FindAllSubmatch(b, -1) {
		n, _ := strconv.ParseUint(string(m[1]), 10, 32)
		uids = append(uids, uint32(n))
	}
	return uint32(last), uids
}

// TestAppendKeepsUIDLast: after every APPEND the file's UIDLAST covers
// every X-UID in it, also when the folder data no longer fits in place
// (UIDLAST gaining a digit, new keywords past X-Keywords' padding). c-client's
// unix_parse takes an X-UID greater than UIDLAST for damage and starts a
// new UIDVALIDITY, so UW's mailutil or imapd opening the file between our
// append and a later flush changed UIDVALIDITY under every client (issue
// 8, TestStress/mbox "UIDVALIDITY of INBOX changed").
func TestAppendKeepsUIDLast(t *testing.T) {
	for _, box := range []string{"INBOX", "Archive"} { // X-IMAPbase; the pseudo message's X-IMAP
		t.Run(box, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			defer s.Close()
			ctx := context.Background()
			file := testOptions(dir).Inbox
			if box != "INBOX" {
				if err := s.Create(ctx, box, ""); err != nil {
					t.Fatal(err)
				}
				file = testOptions(dir).Root + "/" + box
			}
			for i := 1; i <= 14; i++ {
				var flags []string
				if i%3 == 0 { // a new keyword now and then
					flags = []string{fmt.Sprintf("$LongKeywordNumber%d", i)}
				}
				msg := fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i)
				_, uid, err := s.Append(ctx, box, strings.NewReader(msg), mailstore.AppendOptions{Flags: flags})
				if err != nil {
					t.Fatal(err)
				}
				last, uids := fileUIDs(t, file)
				if len(uids) != i || uids[len(uids)-1] != uid {
					t.Fatalf("after append %d (UID %d): X-UIDs %v", i, uid, uids)
				}
				for _, u := range uids {
					if u > last {
						t.Fatalf("after append %d: X-UID %d > UIDLAST %d (UW resets UIDVALIDITY)", i, u, last)
					}
				}
			}
			// Read again from the file alone, the messages keep their UIDs
			// and UIDVALIDITY.
			st, err := s.Status(ctx, box)
			if err != nil {
				t.Fatal(err)
			}
			if st.Messages != 14 || st.UIDNext != 15 {
				t.Errorf("Status = %+v, want 14 messages, UIDNEXT 15", st)
			}
		})
	}
}

// TestAppendAfterDeliveryKeepsUIDOrder: a message another program
// delivered (no X-UID in the file; the index gives it the next UID and
// writes it later) followed by our APPEND. c-client's unix driver numbers
// X-UID-less messages from UIDLAST in file order and takes a later X-UID
// lower than a number it gave for damage: a new UIDVALIDITY under every
// client (CI's TestStress/mbox, "UID 38 less than 43"). The X-UIDs in
// the file must rise in file order, and UW's own reading (mailutil,
// read-write) must keep UIDVALIDITY and the UIDs.
func TestAppendAfterDeliveryKeepsUIDOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	home := testOptions(dir).Root
	file := filepath.Join(home, "box")
	if err := s.Create(ctx, "box", ""); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if _, _, err := s.Append(ctx, "box", strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nours %d\r\n", i, i)), mailstore.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The MDA's delivery: From line and message, no X-UID, no status.
	mtaAppend(t, file, "From mda@example.org Thu Nov 26 06:00:00 2026\nSubject: delivered\n\ndelivered\n\n")
	st, err := s.Status(ctx, "box")
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || st.UIDNext != 4 {
		t.Fatalf("Status after the delivery = %+v, want 3 messages, UIDNEXT 4", st)
	}
	_, uid, err := s.Append(ctx, "box", strings.NewReader("Subject: 4\r\n\r\nours 4\r\n"), mailstore.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if uid != 4 {
		t.Fatalf("APPEND after the delivery got UID %d, want 4", uid)
	}
	s.Close()

	// unix_parse's rule, read from the file: X-UIDs rise and stay within
	// UIDLAST, X-UID-less messages take the next after the last seen.
	last, uids := fileUIDs(t, file)
	if want := []uint32{1, 2, 3, 4}; !slices.Equal(uids, want) || last != 4 {
		t.Errorf("file X-UIDs %v, UIDLAST %d; want %v, 4", uids, last, want)
	}
	if got := uwUIDs(t, file); !slices.Equal(got, []uint32{1, 2, 3, 4}) {
		t.Errorf("UW's UIDs for the file = %v, want 1 2 3 4", got)
	}
	uv := func() string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^X-IMAP: (\d+) `).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no X-IMAP in %s:\n%s", file, b)
		}
		return string(m[1])
	}
	before := uv()
	// A read-write open by UW (the copy's source is opened read-write
	// with -rw) parses the whole file and rewrites it if it finds damage.
	// Its warning is the sure sign: the new UIDVALIDITY it picks is the
	// time, which may be ours when the test runs within a second.
	out := mailutil(t, home, "copy", "-rw", "box", "uwcopy")
	if strings.Contains(out, "UID") {
		t.Errorf("mailutil warned about the UIDs: %s", out)
	}
	if after := uv(); after != before {
		t.Errorf("UIDVALIDITY changed from %s to %s after UW's read-write open (%s)", before, after, out)
	}
}
