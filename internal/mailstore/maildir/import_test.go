package maildir

import (
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
)

var importDate = time.Date(2024, 3, 1, 10, 0, 0, 0, time.FixedZone("", 3600))

func importMsgs(bodies map[uint32]string, flags map[uint32][]string) []mailstore.ImportMessage {
	var uids []uint32
	for u := range bodies {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	var out []mailstore.ImportMessage
	for i, u := range uids {
		body := bodies[u]
		out = append(out, mailstore.ImportMessage{
			UID: u, Flags: flags[u], InternalDate: importDate.Add(time.Duration(i) * time.Hour),
			Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil },
		})
	}
	return out
}

// TestImportMailbox imports into a new folder and into the empty INBOX:
// the UIDs, UIDVALIDITY, UIDNEXT, flags, keywords and dates are kept, also
// after the index is lost; the next Append gets UIDNEXT.
func TestImportMailbox(t *testing.T) {
	ctx := context.Background()
	bodies := map[uint32]string{3: "Subject: three\n\nthree\n", 7: "Subject: seven\r\n\r\nseven\r\n", 100: "Subject: hundred\n\n"}
	flags := map[uint32][]string{3: {`\Seen`}, 7: {`\Flagged`, "Work", "$Forwarded"}, 100: {"Zeta", `\Deleted`}}
	// INBOX exists, empty; "Sent" is made empty first; "a/b" is new.
	for _, name := range []string{"INBOX", "Sent", "a/b"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			if name == "Sent" {
				if err := s.Create(ctx, name, mailstore.SpecialSent); err != nil {
					t.Fatal(err)
				}
			}
			err := s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 4242, UIDNext: 150,
				Keywords: []string{"Work", "Alpha"}, Messages: importMsgs(bodies, flags)})
			if err != nil {
				t.Fatalf("ImportMailbox(%q) = %v", name, err)
			}
			check := func(s *Store, what string) {
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
				infos, err := mb.Info(ctx, []uint32{3, 7, 100})
				if err != nil || len(infos) != 3 {
					t.Fatalf("%s: Info = %d, %v", what, len(infos), err)
				}
				for i, in := range infos {
					want, _ := mailstore.NormalizeFlags(flags[in.UID])
					if !slices.Equal(in.Flags, want) || !in.InternalDate.Equal(importDate.Add(time.Duration(i)*time.Hour)) {
						t.Errorf("%s: UID %d = flags %q date %v, want %q %v", what, in.UID, in.Flags, in.InternalDate, want, importDate.Add(time.Duration(i)*time.Hour))
					}
					r, err := mb.OpenMessage(ctx, in.UID)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
					r.Close()
					if string(b) != bodies[in.UID] {
						t.Errorf("%s: UID %d body = %q, want %q", what, in.UID, b, bodies[in.UID])
					}
				}
			}
			check(s, "imported")
			// The keyword letters follow the given order: Work is 'a'.
			d, _ := s.dirOf(name)
			ents, _ := os.ReadDir(filepath.Join(d, "cur"))
			var names []string
			for _, e := range ents {
				_, info := splitName(e.Name())
				names = append(names, info)
			}
			slices.Sort(names)
			if want := []string{":2,FPa", ":2,S", ":2,Tc"}; !slices.Equal(names, want) {
				t.Errorf("file infos = %q, want %q", names, want)
			}
			s.Close()
			for _, f := range []string{IndexName, IndexName + "-wal", IndexName + "-shm"} {
				os.Remove(filepath.Join(dir, f))
			}
			s = openTest(t, dir)
			defer s.Close()
			check(s, "index rebuilt")
			if name == "Sent" {
				if list, _ := s.List(ctx); len(list) != 2 || list[1].SpecialUse != mailstore.SpecialSent {
					t.Errorf("List() = %+v, want Sent keeping \\Sent", list)
				}
			}
			uv, uid, err := s.Append(ctx, name, strings.NewReader("Subject: new\n\n"), mailstore.AppendOptions{})
			if err != nil || uv != 4242 || uid != 150 {
				t.Errorf("Append after import = %d, %d, %v, want 4242, 150", uv, uid, err)
			}
			err = s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 1, Messages: importMsgs(bodies, nil)})
			if !errors.Is(err, mailstore.ErrExist) {
				t.Errorf("ImportMailbox into a non-empty mailbox = %v, want ErrExist", err)
			}
		})
	}
}

// TestImportMailboxFails: a failure midway leaves no folder, no staging
// directory and INBOX as it was.
func TestImportMailboxFails(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"INBOX", "Sent"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir)
			defer s.Close()
			before, _ := s.Status(ctx, "INBOX")
			msgs := importMsgs(map[uint32]string{1: "a\n", 2: "b\n", 3: "c\n"}, nil)
			msgs[2].Open = func() (io.ReadCloser, error) { return nil, errors.New("disk on fire") }
			err := s.ImportMailbox(ctx, mailstore.ImportMailbox{Name: name, UIDValidity: 9, Messages: msgs})
			if err == nil || !strings.Contains(err.Error(), "disk on fire") {
				t.Fatalf("ImportMailbox = %v, want the injected error", err)
			}
			list, _ := s.List(ctx)
			if len(list) != 1 || list[0].Name != "INBOX" {
				t.Errorf("List after a failed import = %+v, want INBOX only", list)
			}
			if st, _ := s.Status(ctx, "INBOX"); st != before {
				t.Errorf("INBOX after a failed import = %+v, want %+v", st, before)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), trashPrefix) {
					t.Errorf("staging left behind: %s", e.Name())
				}
			}
		})
	}
}
