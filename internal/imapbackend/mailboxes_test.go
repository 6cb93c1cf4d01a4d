package imapbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

func TestMailboxCommands(t *testing.T) {
	forEachStore(t, func(t *testing.T, st mailstore.Store) {
		ctx := context.Background()
		s := login(t, st)
		steps := []struct {
			name string
			err  error
			code imap.ResponseCode // "" for success
		}{
			{"CREATE foo/", s.Create(ctx, "foo/"), ""},
			{"CREATE foo", s.Create(ctx, "foo"), imap.CodeAlreadyExists},
			{"CREATE inbox", s.Create(ctx, "inbox"), imap.CodeAlreadyExists},
			{"CREATE a//b", s.Create(ctx, "a//b"), imap.CodeCannot},
			{"CREATE ../x", s.Create(ctx, "../x"), imap.CodeCannot},
			{"CREATE a/./b", s.Create(ctx, "a/./b"), imap.CodeCannot},
			{"CREATE /abs", s.Create(ctx, "/abs"), imap.CodeCannot},
			{"CREATE tab", s.Create(ctx, "a\tb"), imap.CodeCannot},
			{"CREATE wild", s.Create(ctx, "a*"), imap.CodeCannot},
			{"CREATE foo/bar", s.Create(ctx, "foo/bar"), ""},
			{"DELETE foo", s.Delete(ctx, "foo"), imap.CodeInUse},
			{"DELETE INBOX", s.Delete(ctx, "Inbox"), imap.CodeCannot},
			{"DELETE nosuch", s.Delete(ctx, "nosuch"), imap.CodeNonExistent},
			{"RENAME foo/bar baz", s.Rename(ctx, "foo/bar", "baz"), ""},
			{"RENAME baz foo", s.Rename(ctx, "baz", "foo"), imap.CodeAlreadyExists},
			{"RENAME nosuch x", s.Rename(ctx, "nosuch", "x"), imap.CodeNonExistent},
			{"RENAME baz INBOX", s.Rename(ctx, "baz", "inbox"), imap.CodeAlreadyExists},
			{"DELETE baz", s.Delete(ctx, "baz"), ""},
		}
		for _, st := range steps {
			if st.code == "" && st.err != nil || st.code != "" && !isCode(st.err, st.code) {
				t.Errorf("%s = %v, want code %q", st.name, st.err, st.code)
			}
		}

		// STATUS and APPEND.
		d, err := s.Append(ctx, "INBOX", strings.NewReader(simpleMsg(1)+"trailing junk"), int64(len(simpleMsg(1))), &imap.AppendOptions{Flags: []imap.Flag{`\SEEN`, `\Recent`, "Work"}})
		if err != nil || d.UID != 1 {
			t.Fatalf("Append = %+v, %v", d, err)
		}
		_, err = s.Append(ctx, "nosuch", strings.NewReader("x"), 1, &imap.AppendOptions{})
		if !isCode(err, imap.CodeTryCreate) {
			t.Errorf("Append to nosuch = %v, want NO [TRYCREATE]", err)
		}
		sd, err := s.Status(ctx, "inbox", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true, UIDValidity: true, Size: true})
		if err != nil {
			t.Fatal(err)
		}
		if *sd.NumMessages != 1 || *sd.NumUnseen != 0 || sd.UIDNext != 2 || sd.UIDValidity != d.UIDValidity || *sd.Size != int64(len(simpleMsg(1))) || sd.NumRecent != nil {
			t.Errorf("Status = %+v", sd)
		}
		if _, err := s.Status(ctx, "nosuch", &imap.StatusOptions{}); !isCode(err, imap.CodeNonExistent) {
			t.Errorf("Status(nosuch) = %v, want NO [NONEXISTENT]", err)
		}
	})
}

func TestStoreErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		code imap.ResponseCode
	}{
		{mailstore.ErrNotExist, imap.CodeNonExistent},
		{mailstore.ErrExist, imap.CodeAlreadyExists},
		{mailstore.ErrInvalidName, imap.CodeCannot},
		{mailstore.ErrHasChildren, imap.CodeInUse},
		{mailstore.ErrLocked, imap.CodeInUse},
		{mailstore.ErrQuota, imap.CodeOverQuota},
		{mailstore.ErrNoSpace, imap.CodeOverQuota},
		{mailstore.ErrTooBig, imap.CodeTooBig},
		{mailstore.ErrReadOnly, imap.CodeReadOnly},
	}
	for _, tt := range tests {
		wrapped := errors.Join(errors.New("driver context"), tt.err)
		if got := storeError("op", wrapped); !isCode(got, tt.code) {
			t.Errorf("storeError(%v) = %v, want code %s", tt.err, got, tt.code)
		}
	}
	other := errors.New("disk on fire")
	if got := storeError("op", other); !errors.Is(got, other) || isCode(got, "") {
		t.Errorf("storeError(other) = %v, want it wrapped", got)
	}
}

// sleepRec records throttle delays instead of sleeping.
type sleepRec struct{ n int }

func TestLogin(t *testing.T) {
	st := openers[0].open(t)
	var slept sleepRec
	th := auth.NewThrottle(auth.ThrottleOptions{Sleep: func(ctx context.Context, d time.Duration) error { slept.n++; return nil }})
	var logs strings.Builder
	b := newBackend(st, Options{Throttle: th, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))})
	ctx := context.Background()
	s, _ := b.NewSession(ctx, testConn)
	if err := s.Login(ctx, "alice", "wrong"); !isCode(err, imap.CodeAuthenticationFailed) {
		t.Errorf("Login(wrong) = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if e, _ := imap.AsError(s.Login(ctx, "nobody", "x")); e == nil || e.Text != "Authentication failed" {
		t.Errorf("Login(nobody) text = %v, want the same as a wrong password", e)
	}
	if slept.n != 2 {
		t.Errorf("throttle waited %d times, want 2", slept.n)
	}
	if err := s.Login(ctx, "temp", "x"); !isCode(err, imap.CodeUnavailable) {
		t.Errorf("Login(temp) = %v, want NO [UNAVAILABLE]", err)
	}
	if err := s.Login(ctx, "alice", "secret"); err != nil {
		t.Fatalf("Login = %v", err)
	}
	if th.Delay(testConn.RemoteAddr.Addr()) != 0 {
		t.Errorf("a successful login did not reset the throttle")
	}
	s.Close()
	want := []string{
		`level=WARN msg="Login failed user=alice auth=alice host=192.0.2.7 [192.0.2.7]"`,
		`level=WARN msg="Login failed user=nobody auth=nobody host=192.0.2.7 [192.0.2.7]"`,
		`level=WARN msg="Login failed user=temp auth=temp host=192.0.2.7 [192.0.2.7]" err="auth: temporary failure"`,
		`level=INFO msg="Login user=alice host=192.0.2.7 [192.0.2.7]"`,
		`level=INFO msg="Logout user=alice host=192.0.2.7 [192.0.2.7]"`,
	}
	if got := strings.Split(strings.TrimSpace(logs.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAppendCachesStructure checks that APPEND parses the message once and
// stores its structure, so the first FETCH does not parse it: in the
// APPEND's own transaction where the store can (maildir:
// mailstore.SessionAppender), in a second write otherwise (memstore).
// It does so for a client that has FETCHed structures before; a client
// that only appends gets no parse, and the first FETCH that needs the
// structure makes the entry.
func TestAppendCachesStructure(t *testing.T) {
	msg := "Subject: cached\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
	want, err := structureData(strings.NewReader(msg), int64(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	cacheOf := func(t *testing.T, st mailstore.Store, uid uint32) []byte {
		t.Helper()
		mb, err := st.Open(context.Background(), "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		defer mb.Close()
		info, err := mb.Info(context.Background(), []uint32{uid})
		if err != nil || len(info) != 1 {
			t.Fatalf("Info(%d) = %v, %v", uid, info, err)
		}
		return info[0].Cache
	}
	for _, reads := range []bool{true, false} {
		t.Run(fmt.Sprintf("reads structures %v", reads), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st mailstore.Store) {
				s := login(t, st)
				ctx := context.Background()
				envelope := &imap.FetchOptions{Envelope: true}
				if reads { // the client has read a message's ENVELOPE
					if _, err := s.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), &imap.AppendOptions{}); err != nil {
						t.Fatal(err)
					}
					selectBox(t, s, "INBOX", false)
					if err := s.Fetch(ctx, discardFetch{}, imap.NumKindSeq, all, envelope); err != nil {
						t.Fatal(err)
					}
				}
				d, err := s.Append(ctx, "INBOX", strings.NewReader(msg), int64(len(msg)), &imap.AppendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := cacheOf(t, st, d.UID)
				if !reads {
					if got != nil {
						t.Fatalf("cache after the APPEND of a client that only appends = %q, want none", got)
					}
					selectBox(t, s, "INBOX", false)
					uid := imap.NumSet{Ranges: []imap.NumRange{{Start: d.UID, Stop: d.UID}}}
					if err := s.Fetch(ctx, discardFetch{}, imap.NumKindUID, uid, envelope); err != nil {
						t.Fatal(err)
					}
					got = cacheOf(t, st, d.UID)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("cache = %q, want the parsed message %q", got, want)
				}
				p, err := message.UnmarshalPart(got)
				if err != nil {
					t.Fatalf("cache: %v", err)
				}
				if p.Envelope == nil || p.Envelope.Subject != "cached" || len(p.Children) != 1 {
					t.Errorf("cached structure = %+v, want Subject cached and one part", p)
				}
			})
		})
	}
}
