package mbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/mailstore/mbox"
)

var importDate = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func importMsgs(bodies []string, uids []uint32, flags [][]string) []mailstore.ImportMessage {
	var out []mailstore.ImportMessage
	for i, u := range uids {
		body := bodies[i]
		out = append(out, mailstore.ImportMessage{
			UID: u, Flags: flags[i], InternalDate: importDate.Add(time.Duration(i) * time.Hour),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil },
		})
	}
	return out
}

// TestImportMailbox imports into the spool INBOX (existing, empty, mode
// 0660 as Debian's) and into a new folder under a new directory: the file
// reads back with the UIDs, also through a fresh index; the spool keeps
// its mode; the next Append gets UIDNEXT; a non-empty mailbox is refused.
func TestImportMailbox(t *testing.T) {
	ctx := context.Background()
	bodies := []string{"Return-Path: <a@example.org>\nSubject: one\n\nFrom the start\n", "Subject: two\n\nno final line end", "Subject: three\r\n\r\nthree\r\n"}
	uids := []uint32{3, 7, 100}
	flags := [][]string{{`\Seen`}, {`\Flagged`, "Work"}, {"Zeta", `\Deleted`, `\Answered`}}
	for _, name := range []string{"INBOX", "lists/go"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			spool := filepath.Join(dir, "spool", "user")
			if err := os.WriteFile(spool, nil, 0o660); err != nil {
				t.Fatal(err)
			}
			os.Chmod(spool, 0o660)
			err := s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 4242, UIDNext: 150,
				Keywords: []string{"Work"}, Messages: importMsgs(bodies, uids, flags)})
			if err != nil {
				t.Fatalf("ImportMailbox(%q) = %v", name, err)
			}
			check := func(s mailstore.Store, what string) {
				t.Helper()
				mb, err := s.Open(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				defer mb.Close()
				st, _ := mb.State(ctx)
				if st.UIDValidity != 4242 || st.UIDNext != 150 {
					t.Errorf("%s: State() = %+v, want UIDVALIDITY 4242, UIDNEXT 150", what, st)
				}
				infos, err := mb.Info(ctx, uids)
				if err != nil || len(infos) != 3 {
					t.Fatalf("%s: Info = %d, %v", what, len(infos), err)
				}
				for i, in := range infos {
					want, _ := mailstore.NormalizeFlags(flags[i])
					if in.UID != uids[i] || !slices.Equal(in.Flags, want) || !in.InternalDate.Equal(importDate.Add(time.Duration(i)*time.Hour)) {
						t.Errorf("%s: message %d = UID %d flags %q date %v, want %d %q", what, i, in.UID, in.Flags, in.InternalDate, uids[i], want)
					}
					r, err := mb.OpenMessage(ctx, in.UID)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
					r.Close()
					// mbox quotes a "From " line and ends every message in
					// a line end (doc.go, Weaknesses; the import reads the
					// file back, so it has the line end at once).
					// It is written with LF line ends, as UW writes (toLF).
					wantBody := strings.ReplaceAll(bodies[i], "\r\n", "\n")
					wantBody = strings.ReplaceAll(wantBody, "\nFrom ", "\n>From ")
					if !strings.HasSuffix(wantBody, "\n") {
						wantBody += "\n"
					}
					if string(b) != wantBody {
						t.Errorf("%s: UID %d body = %q, want %q", what, in.UID, b, wantBody)
					}
				}
			}
			check(s, "imported")
			file := spool
			if name != "INBOX" {
				file = filepath.Join(dir, "home", "lists", "go")
			} else if fi, err := os.Stat(spool); err != nil || fi.Mode().Perm() != 0o660 {
				t.Errorf("spool after import: %v, %v, want mode 0660 kept", fi.Mode(), err)
			}
			raw, _ := os.ReadFile(file)
			if !bytes.HasPrefix(raw, []byte("From a@example.org ")) && !bytes.Contains(raw, []byte("\nFrom a@example.org ")) {
				t.Errorf("the From line does not carry the Return-Path sender:\n%s", raw)
			}
			if got := bytes.Count(raw, []byte("\nX-UID: ")); got != 3 {
				t.Errorf("file has %d X-UID headers, want 3:\n%s", got, raw)
			}
			// A new index (another host, or the index lost) reads the same.
			opts := testOptions(dir)
			opts.IndexPath = filepath.Join(dir, "fresh.sqlite")
			fresh, err := mbox.OpenReadOnly(opts)
			if err != nil {
				t.Fatal(err)
			}
			check(fresh, "reparsed")
			if err := fresh.Create(ctx, "x", ""); !errors.Is(err, mailstore.ErrReadOnly) {
				t.Errorf("read-only Create = %v, want ErrReadOnly", err)
			}
			fresh.Close()
			uv, uid, err := s.Append(ctx, name, strings.NewReader("Subject: new\n\n"), mailstore.AppendOptions{})
			if err != nil || uv != 4242 || uid != 150 {
				t.Errorf("Append after import = %d, %d, %v, want 4242, 150", uv, uid, err)
			}
			err = s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 1, Messages: importMsgs(bodies[:1], uids[:1], flags[:1])})
			if !errors.Is(err, mailstore.ErrExist) {
				t.Errorf("ImportMailbox into a non-empty mailbox = %v, want ErrExist", err)
			}
			s.Close()
		})
	}
}

// TestImportMailboxFails: a failure midway leaves the mailbox as it was
// and no temporary file.
func TestImportMailboxFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	msgs := importMsgs([]string{"a\n", "b\n"}, []uint32{1, 2}, [][]string{nil, nil})
	msgs[1].Open = func() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }
	for _, name := range []string{"INBOX", "Sent"} {
		err := s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 9, Messages: msgs})
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("ImportMailbox(%q) = %v, want the injected error", name, err)
		}
	}
	if st, err := s.Status(ctx, "INBOX"); err != nil || st.Messages != 0 {
		t.Errorf("INBOX after a failed import = %+v, %v, want empty", st, err)
	}
	if _, err := s.Status(ctx, "Sent"); !errors.Is(err, mailstore.ErrNotExist) {
		t.Errorf("Status(Sent) after a failed import = %v, want ErrNotExist", err)
	}
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.Contains(e.Name(), "postern-import") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}
