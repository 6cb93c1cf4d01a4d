package imapbackend

import (
	"context"
	"errors"
	"io"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

var _ imapserver.SessionCatenate = (*session)(nil)

func badURL(text string) error { return imap.NO(imap.CodeBadURL, text) }

// CatenateURL implements imapserver.SessionCatenate (RFC 4469 §5): it
// writes what BODY.PEEK[section]<partial> of the message the URL names
// would send. The URL must be the user's own (an absolute URL naming
// another user is refused), its mailbox must exist, its UIDVALIDITY, when
// given, must be current, and the UID must exist; otherwise BADURL.
func (s *session) CatenateURL(ctx context.Context, u *imap.MessageURL, user string, w io.Writer) error {
	if err := s.needAuth(); err != nil {
		return err
	}
	if user != "" && (s.user == nil || user != s.user.Name) {
		return badURL("URL of another user")
	}
	name, err := canonicalName(u.Mailbox)
	if err != nil {
		return badURL("No such mailbox")
	}
	sel := s.sel
	if sel == nil || sel.mb.Name() != name {
		mb, err := s.store.Open(ctx, name)
		if errors.Is(err, mailstore.ErrNotExist) || errors.Is(err, mailstore.ErrInvalidName) {
			return badURL("No such mailbox")
		}
		if err != nil {
			return storeError("open for CATENATE", err)
		}
		defer mb.Close()
		// A throwaway view: it carries the mailbox to msgSource and
		// collects the structure it may parse.
		sel = &selected{mb: mb, name: name}
	}
	defer sel.flushCache(ctx)
	if u.UIDValidity != 0 {
		st, err := sel.mb.State(ctx)
		if err != nil {
			return storeError("state for CATENATE", err)
		}
		if st.UIDValidity != u.UIDValidity {
			return badURL("UIDVALIDITY changed")
		}
	}
	infos, err := sel.mb.Info(ctx, []uint32{u.UID})
	if err != nil {
		return storeError("info for CATENATE", err)
	}
	if len(infos) != 1 || infos[0].UID != u.UID {
		return badURL("No such message")
	}
	m := &msgSource{sel: sel, uid: u.UID, info: &infos[0]}
	defer m.close()
	root, err := m.part(ctx)
	if errors.Is(err, mailstore.ErrNotExist) {
		return badURL("No such message")
	}
	if err != nil {
		return err
	}
	sec := u.Section
	if sec == nil {
		sec = &imap.FetchItemBodySection{Peek: true}
	}
	if len(sec.Part) > 0 {
		if _, ok := root.Section(sec.Part); !ok {
			return badURL("No such part")
		}
	}
	sp, err := sectionSpan(root, sec, func(p *message.Part) ([]byte, error) { return m.header(ctx, p) })
	if err != nil {
		return err
	}
	off, n := partialRange(sec.Partial, sp.size())
	var r io.ReaderAt
	if !sp.inMemory && n > 0 {
		if r, err = m.reader(ctx); err != nil {
			return err
		}
	}
	return writeSpan(w, r, sp, off, n)
}
