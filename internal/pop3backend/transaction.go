package pop3backend

import (
	"context"
	"fmt"
	"io"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/pop3server"
)

// msg returns the snapshot entry of message number n (1-based). The server
// has checked the range; this guards against misuse.
func (s *session) msg(n int) (*entry, error) {
	if err := s.needMaildrop(); err != nil {
		return nil, err
	}
	if n < 1 || n > len(s.snap.msgs) {
		return nil, &pop3server.Error{Text: "No such message"}
	}
	e := &s.snap.msgs[n-1]
	if e.deleted {
		return nil, &pop3server.Error{Text: "Message already deleted"}
	}
	return e, nil
}

// Stat implements pop3server.Session (RFC 1939 §5 STAT).
func (s *session) Stat(ctx context.Context) (int, int64, error) {
	if err := s.needMaildrop(); err != nil {
		return 0, 0, err
	}
	var count int
	var size int64
	for _, e := range s.snap.msgs {
		if !e.deleted {
			count++
			size += e.size
		}
	}
	return count, size, nil
}

// List implements pop3server.Session (RFC 1939 §5 LIST, §7 UIDL).
func (s *session) List(ctx context.Context) ([]pop3server.Message, error) {
	if err := s.needMaildrop(); err != nil {
		return nil, err
	}
	out := make([]pop3server.Message, len(s.snap.msgs))
	for i, e := range s.snap.msgs {
		out[i] = pop3server.Message{Size: e.size, UID: uidl(s.snap.uidValidity, e.uid), Deleted: e.deleted}
	}
	return out, nil
}

// Retr implements pop3server.Session (RFC 1939 §5 RETR). The message is
// opened before anything is written, so a message another session removed
// gets a clean -ERR. \Seen is set at Update, as UW ipop3d did.
func (s *session) Retr(ctx context.Context, n int, w io.Writer) error {
	e, err := s.msg(n)
	if err != nil {
		return err
	}
	r, err := s.mb.OpenMessage(ctx, e.uid)
	if err != nil {
		return readError(err)
	}
	defer r.Close()
	cw := message.NewCRLFWriter(w)
	if _, err := io.Copy(cw, io.NewSectionReader(r, 0, r.Size())); err != nil {
		return fmt.Errorf("pop3backend: RETR UID %d: %w", e.uid, err)
	}
	if cw.N != e.size {
		// The store changed a message under a UID, which the contract
		// forbids; the client's octet count was wrong. Say so in the log.
		s.b.opts.Logger.Error("pop3backend: RETR size differs from LIST", "uid", e.uid, "sent", cw.N, "listed", e.size)
	}
	e.retrieved = true
	return nil
}

// Top implements pop3server.Session (RFC 1939 §7 TOP): the header, the
// empty line and the first lines of the body. It sets no flag.
func (s *session) Top(ctx context.Context, n int, lines int, w io.Writer) error {
	e, err := s.msg(n)
	if err != nil {
		return err
	}
	r, err := s.mb.OpenMessage(ctx, e.uid)
	if err != nil {
		return readError(err)
	}
	defer r.Close()
	size := r.Size()
	hdr := min(e.bodyStart, size)
	cw := message.NewCRLFWriter(w)
	if _, err := io.Copy(cw, io.NewSectionReader(r, 0, hdr)); err != nil {
		return fmt.Errorf("pop3backend: TOP UID %d: %w", e.uid, err)
	}
	if err := copyLines(cw, io.NewSectionReader(r, hdr, size-hdr), lines); err != nil {
		return fmt.Errorf("pop3backend: TOP UID %d: %w", e.uid, err)
	}
	return nil
}

// Dele implements pop3server.Session (RFC 1939 §5 DELE): the mark lives in
// the session until Update.
func (s *session) Dele(ctx context.Context, n int) error {
	e, err := s.msg(n)
	if err != nil {
		return err
	}
	e.deleted = true
	return nil
}

// Rset implements pop3server.Session (RFC 1939 §5 RSET). As UW's rset(),
// it forgets the retrievals too: \Seen is set only for messages retrieved
// after it.
func (s *session) Rset(ctx context.Context) error {
	if err := s.needMaildrop(); err != nil {
		return err
	}
	for i := range s.snap.msgs {
		s.snap.msgs[i].deleted = false
		s.snap.msgs[i].retrieved = false
	}
	return nil
}

// Update implements pop3server.Session (RFC 1939 §6 the UPDATE state).
// It sets \Seen on the retrieved messages, then expunges exactly the marked
// UIDs in one Mailbox.Expunge call. UIDs another session removed first are
// skipped; messages delivered since the login are untouched.
func (s *session) Update(ctx context.Context) error {
	if err := s.needMaildrop(); err != nil {
		return err
	}
	if s.updated {
		return nil
	}
	start := s.b.opts.Clock()
	var seen, dele []uint32
	nseen := 0
	for _, e := range s.snap.msgs {
		if e.retrieved && !e.seen {
			nseen++
			if !e.deleted {
				seen = append(seen, e.uid)
			}
		}
		if e.deleted {
			dele = append(dele, e.uid)
		}
	}
	if len(seen) > 0 {
		if _, _, err := s.mb.StoreFlags(ctx, seen, mailstore.FlagsAdd, []string{mailstore.FlagSeen}, 0); err != nil {
			return fmt.Errorf("pop3backend: update: set \\Seen: %w", err)
		}
	}
	removed := 0
	if len(dele) > 0 {
		gone, err := s.mb.Expunge(ctx, dele)
		if err != nil {
			return fmt.Errorf("pop3backend: update: expunge %d messages: %w", len(dele), err)
		}
		removed = len(gone)
	}
	s.updated = true
	nmsgs := -1
	if st, err := s.store.Status(ctx, s.mb.Name()); err == nil {
		nmsgs = int(st.Messages)
	} else {
		s.b.opts.Logger.Warn("pop3backend: status after update", "user", s.user.Name, "err", err)
	}
	s.b.opts.Logger.Info(fmt.Sprintf("Update user=%s host=%s nmsgs=%d ndele=%d nseen=%d", s.user.Name, s.host(), nmsgs, len(dele), nseen),
		"removed", removed, "took", s.b.opts.Clock().Sub(start))
	return nil
}
