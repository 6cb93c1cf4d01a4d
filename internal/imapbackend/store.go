package imapbackend

import (
	"context"
	"errors"
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapserver"
	"github.com/postern/postern/internal/mailstore"
)

// Store implements imapserver.Session (RFC 3501 §6.4.6, §6.4.8). Unless
// Silent, it writes the flags of every message in the set, changed or not,
// as RFC 3501 §6.4.6 describes the untagged FETCH of STORE; the work is
// StoreConditional's (condstore.go).
func (s *session) Store(ctx context.Context, w imapserver.FetchWriter, kind imap.NumKind, numSet imap.NumSet, flags *imap.StoreFlags) error {
	_, err := s.StoreConditional(ctx, w, kind, numSet, flags)
	return err
}

// Expunge implements imapserver.Session (RFC 3501 §6.4.3, RFC 4315 §2.1
// UID EXPUNGE). It first catches up with other sessions, so that \Deleted
// flags they set count and their expunges are reported in order.
func (s *session) Expunge(ctx context.Context, w imapserver.UpdateWriter, uids *imap.NumSet) error {
	sel, err := s.needSel()
	if err != nil {
		return err
	}
	if sel.readOnly {
		return errReadOnly
	}
	if err := s.poll(ctx, w, true); err != nil {
		return err
	}
	var idx []int
	if uids != nil {
		if idx, err = sel.resolve(imap.NumKindUID, *uids); err != nil {
			return err
		}
		if len(idx) == 0 {
			return nil
		}
	}
	del := sel.deletedUIDs(idx)
	if len(del) == 0 {
		return nil
	}
	gone, err := sel.mb.Expunge(ctx, del)
	if err != nil {
		return storeError("expunge", err)
	}
	if err := s.writeExpunged(w, gone); err != nil {
		return err
	}
	return s.catchUpAfterExpunge(ctx, w, len(gone))
}

// Copy implements imapserver.Session (RFC 3501 §6.4.7, RFC 4315 COPYUID).
// It returns nil data when the set matched no message.
func (s *session) Copy(ctx context.Context, kind imap.NumKind, numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	data, _, err := s.copyOrMove(ctx, kind, numSet, dest, false)
	return data, err
}

// Move implements imapserver.SessionMove (RFC 6851): the messages are
// moved at once by the store, then an EXPUNGE is written for each.
func (s *session) Move(ctx context.Context, w imapserver.UpdateWriter, kind imap.NumKind, numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	if s.sel != nil && s.sel.readOnly {
		return nil, errReadOnly
	}
	data, src, err := s.copyOrMove(ctx, kind, numSet, dest, true)
	if err != nil || len(src) == 0 {
		return data, err
	}
	if err := s.writeExpunged(w, src); err != nil {
		return data, err
	}
	return data, s.catchUpAfterExpunge(ctx, w, len(src))
}

func (s *session) copyOrMove(ctx context.Context, kind imap.NumKind, numSet imap.NumSet, dest string, move bool) (*imap.CopyData, []uint32, error) {
	sel, err := s.needSel()
	if err != nil {
		return nil, nil, err
	}
	name, err := canonicalName(dest)
	if err != nil {
		return nil, nil, err
	}
	idx, err := sel.resolve(kind, numSet)
	if err != nil {
		return nil, nil, err
	}
	if sel.anyGone(idx) {
		return nil, nil, errExpungeIssued
	}
	uids := make([]uint32, 0, len(idx))
	for _, i := range idx {
		uids = append(uids, sel.uids[i])
	}
	if len(uids) == 0 {
		if _, err := s.store.Status(ctx, name); err != nil {
			return nil, nil, copyError(err)
		}
		return nil, nil, nil
	}
	var (
		uv       uint32
		src, dst []uint32
	)
	if !move {
		if err := s.checkQuota(ctx, func() (int64, error) { return sel.sizeOf(ctx, uids) }, int64(len(uids))); err != nil {
			return nil, nil, err
		}
	}
	if move {
		uv, src, dst, err = sel.mb.MoveTo(ctx, uids, name)
	} else {
		uv, src, dst, err = sel.mb.CopyTo(ctx, uids, name)
	}
	if err != nil {
		if errors.Is(err, mailstore.ErrNotExist) {
			// The destination, or a message expunged meanwhile by
			// another process: only the first deserves TRYCREATE.
			if _, serr := s.store.Status(ctx, name); serr != nil {
				return nil, nil, copyError(serr)
			}
			return nil, nil, imap.NO(imap.CodeExpungeIssued, "Some of the messages no longer exist")
		}
		return nil, nil, storeError("copy", err)
	}
	if len(src) == 0 {
		return nil, nil, nil
	}
	return &imap.CopyData{UIDValidity: uv, SourceUIDs: imap.NumSetOf(src), DestUIDs: imap.NumSetOf(dst)}, src, nil
}

// copyError maps an error about the destination of COPY, MOVE or APPEND:
// a missing mailbox answers [TRYCREATE] (RFC 3501 §6.4.7).
func copyError(err error) error {
	if errors.Is(err, mailstore.ErrNotExist) {
		return imap.NO(imap.CodeTryCreate, "Mailbox does not exist")
	}
	return storeError("copy", err)
}

// knownSpelling replaces each keyword by the spelling already in use in the
// mailbox when they differ only in case: keywords are atoms, which RFC 9051
// §9 (note 1) makes case-insensitive, so "work" must not become a second
// keyword beside "Work" (Dovecot does the same).
func (sel *selected) knownSpelling(flags []string) []string {
	for i, f := range flags {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		if _, ok := sel.keywords[f]; ok {
			continue
		}
		for k := range sel.keywords {
			if strings.EqualFold(k, f) {
				flags[i] = k
				break
			}
		}
	}
	return flags
}
