package mbox_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

// mailutil runs UW's mailutil (Debian's uw-mailutils) with HOME=home and
// names relative to it: Debian's c-client refuses absolute paths. As
// root, c-client ignores HOME, so the command runs as nobody (home is
// then handed over to nobody).
func mailutil(t *testing.T, home string, args ...string) string {
	t.Helper()
	prog := needProgram(t, "mailutil")
	cmd := exec.Command(prog, args...)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "USER=uwtest", "PATH=/usr/bin:/bin"}
	if os.Geteuid() == 0 {
		const nobody = 65534
		filepath.Walk(home, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, nobody, nobody) })
		// t.TempDir's directories are 0700: let nobody through.
		for d := filepath.Dir(home); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mailutil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// uwFlags returns, per message of an mbox file UW wrote (the pseudo
// message left out), its flags as read from UW's headers, in mailstore
// spelling: the independent reading of what UW wrote.
func uwFlags(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, m := range regexp.MustCompile(`(?m)^From `).Split(string(b), -1)[1:] {
		hdr, _, _ := strings.Cut(m, "\n\n")
		if strings.Contains(hdr, "\nX-IMAP: ") {
			continue
		}
		var fl []string
		for _, line := range strings.Split(hdr, "\n") {
			name, v, _ := strings.Cut(line, ":")
			v = strings.TrimSpace(v)
			switch name {
			case "Status":
				if strings.Contains(v, "R") {
					fl = append(fl, mailstore.FlagSeen)
				}
			case "X-Status":
				for c, f := range map[rune]string{'D': mailstore.FlagDeleted, 'F': mailstore.FlagFlagged, 'A': mailstore.FlagAnswered, 'T': mailstore.FlagDraft} {
					if strings.ContainsRune(v, c) {
						fl = append(fl, f)
					}
				}
			case "X-Keywords":
				fl = append(fl, strings.Fields(v)...)
			}
		}
		slices.Sort(fl)
		out = append(out, fl)
	}
	return out
}

// uwUIDs returns the UIDs UW gives the messages of a file it wrote, by
// its unix driver's rule: X-UID when present, else the next after
// UIDLAST of X-IMAP (mailutil's append writes no X-UID).
func uwUIDs(t *testing.T, path string) []uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var last uint32
	var out []uint32
	for _, m := range regexp.MustCompile(`(?m)^From `).Split(string(b), -1)[1:] {
		hdr, _, _ := strings.Cut(m, "\n\n")
		if x := regexp.MustCompile(`(?m)^X-IMAP: \d+ (\d+)`).FindStringSubmatch(hdr); x != nil {
			fmt.Sscan(x[1], &last)
			continue
		}
		if x := regexp.MustCompile(`(?m)^X-UID: (\d+)`).FindStringSubmatch(hdr); x != nil {
			var u uint32
			fmt.Sscan(x[1], &u)
			out = append(out, u)
			last = max(last, u)
			continue
		}
		last++
		out = append(out, last)
	}
	return out
}

// interopMsgs are the messages both directions use, with their flags.
var interopMsgs = []struct {
	body  string
	flags []string
}{
	{"From: a@example.org\nSubject: one\n\nFirst.\nFrom the start of a line.\n", []string{`\Seen`}},
	{"From: b@example.org\nSubject: two\n\nSecond.\n", []string{"Work", `\Flagged`}},
	{"From: c@example.org\nSubject: three (expunged)\n\nThird.\n", []string{`\Deleted`}},
	{"From: d@example.org\nSubject: four\n\nFourth.\n", []string{"$Label1", "Work", `\Answered`, `\Draft`}},
	{"From: e@example.org\nSubject: five\n\nFifth.\n", nil},
}

// TestInteropUWReadsOurs writes a mailbox (appends with flags and
// keywords, an expunge) and has UW's mailutil read it: the message count,
// and the flags of its copy.
func TestInteropUWReadsOurs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	home := testOptions(dir).Root
	if err := s.Create(ctx, "ours", ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range interopMsgs {
		if _, _, err := s.Append(ctx, "ours", strings.NewReader(m.body), mailstore.AppendOptions{Flags: m.flags}); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := s.Open(ctx, "ours")
	if _, err := mb.Expunge(ctx, []uint32{3}); err != nil {
		t.Fatal(err)
	}
	// A flag change after the expunge, written in place.
	if _, _, err := mb.StoreFlags(ctx, []uint32{5}, mailstore.FlagsAdd, []string{`\Seen`}, 0); err != nil {
		t.Fatal(err)
	}
	mb.Close()
	s.Close()

	out := mailutil(t, home, "check", "ours")
	if !strings.Contains(out, "(2 unseen), 4 total in ours") {
		t.Errorf("mailutil check ours = %q, want 4 total, 2 unseen", out)
	}
	mailutil(t, home, "copy", "-kw", "ours", "uwcopy")
	got := uwFlags(t, filepath.Join(home, "uwcopy"))
	want := [][]string{{`\Seen`}, {"Work", `\Flagged`}, {"$Label1", "Work", `\Answered`, `\Draft`}, {`\Seen`}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flags in UW's copy = %q, want %q", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(home, "uwcopy"))
	if !bytes.Contains(b, []byte("\n>From the start of a line.\n")) {
		t.Errorf("UW's copy lost the >From quoting:\n%s", b)
	}

	// And back: UW's copy (keywords defined by -kw) read by us.
	s = openTest(t, dir)
	defer s.Close()
	cmb, err := s.Open(ctx, "uwcopy")
	if err != nil {
		t.Fatal(err)
	}
	defer cmb.Close()
	msgs, _ := cmb.Messages(ctx)
	var gotFlags [][]string
	wantUIDs := uwUIDs(t, filepath.Join(home, "uwcopy"))
	for i, m := range msgs {
		if i >= len(wantUIDs) || m.UID != wantUIDs[i] {
			t.Errorf("uwcopy message %d has UID %d, want UW's %v", i+1, m.UID, wantUIDs)
		}
		gotFlags = append(gotFlags, m.Flags)
	}
	if fmt.Sprint(gotFlags) != fmt.Sprint(want) {
		t.Errorf("flags we read in UW's copy = %q, want %q", gotFlags, want)
	}
}

// TestInteropWeReadUWs has mailutil write a mailbox (create, append from
// one of ours) and reads it with UW's UIDVALIDITY, UIDs and flags.
func TestInteropWeReadUWs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	home := testOptions(dir).Root
	if err := s.Create(ctx, "src", ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range interopMsgs {
		if _, _, err := s.Append(ctx, "src", strings.NewReader(m.body), mailstore.AppendOptions{Flags: m.flags}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	mailutil(t, home, "create", "uwbox")
	mailutil(t, home, "append", "-kw", "src", "uwbox")
	b, err := os.ReadFile(filepath.Join(home, "uwbox"))
	if err != nil {
		t.Fatal(err)
	}
	var uv uint32
	if m := regexp.MustCompile(`(?m)^X-IMAP: (\d+) `).FindSubmatch(b); m != nil {
		fmt.Sscan(string(m[1]), &uv)
	} else {
		t.Fatalf("UW wrote no X-IMAP:\n%s", b)
	}
	s = openTest(t, dir)
	defer s.Close()
	mb, err := s.Open(ctx, "uwbox")
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	st, _ := mb.State(ctx)
	if st.UIDValidity != uv {
		t.Errorf("UIDVALIDITY = %d, want UW's %d", st.UIDValidity, uv)
	}
	msgs, _ := mb.Messages(ctx)
	uw := uwFlags(t, filepath.Join(home, "uwbox"))
	if len(msgs) != len(interopMsgs) || len(uw) != len(msgs) {
		t.Fatalf("Messages = %d, UW wrote %d, want %d", len(msgs), len(uw), len(interopMsgs))
	}
	wantUIDs := uwUIDs(t, filepath.Join(home, "uwbox"))
	for i, m := range msgs {
		// With -kw, mailutil creates the source's keywords in the
		// destination: every flag is kept. (This test used to expect
		// system flags only: our appends left the keywords out of the
		// source's X-IMAP when it no longer fitted in place, so UW never
		// saw them; appendMsgs now rewrites the file then.)
		want := slices.Sorted(slices.Values(interopMsgs[i].flags))
		if m.UID != wantUIDs[i] || !slices.Equal(m.Flags, uw[i]) || !slices.Equal(m.Flags, want) {
			t.Errorf("message %d = UID %d %q, want UID %d %q (UW wrote %q)", i+1, m.UID, m.Flags, wantUIDs[i], want, uw[i])
		}
		if got := readMsg(t, mb, m.UID); !strings.HasSuffix(got, strings.SplitN(interopMsgs[i].body, "\n\n", 2)[1]) && !strings.Contains(got, ">From the start") {
			t.Errorf("message %d text = %q", i+1, got)
		}
	}
}

var _ = mbox.IndexName
