package mbox_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
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
