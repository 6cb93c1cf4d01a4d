package pop3backend

import (
	"context"
	"fmt"
	"slices"

	"github.com/postern/postern/internal/mailstore"
	"github.com/postern/postern/internal/message"
)

// infoBatch is how many messages one Info call covers at login: enough to
// amortise an index query, small enough to bound memory per step.
const infoBatch = 256

// snapshot is the maildrop as taken at login (RFC 1939 §8).
type snapshot struct {
	uidValidity uint32
	msgs        []entry
}

// entry is one message of the snapshot.
type entry struct {
	uid  uint32
	size int64 // octets as RETR sends them (CRLF), before byte-stuffing
	// bodyStart is where the body starts in the stored message, after the
	// header's empty line: the split TOP needs.
	bodyStart int64
	seen      bool // \Seen at login
	deleted   bool // marked by DELE
	retrieved bool // sent by RETR since login or the last RSET
}

// uidl returns the unique-id listing of the message (RFC 1939 §7), in UW
// ipop3d's format: UIDVALIDITY and UID as eight hex digits each.
func uidl(uidValidity, uid uint32) string {
	return fmt.Sprintf("%08x%08x", uidValidity, uid)
}

// takeSnapshot lists mb's messages with their sizes. Messages carrying
// \Deleted are left out, as UW ipop3d did; total counts them too. Message
// structures not yet in the store's cache are parsed and cached, so that the
// next login, and IMAP's FETCH, do not parse them again.
func takeSnapshot(ctx context.Context, mb mailstore.Mailbox) (snapshot, int, error) {
	metas, err := mb.Messages(ctx)
	if err != nil {
		return snapshot{}, 0, fmt.Errorf("pop3backend: list INBOX: %w", err)
	}
	state, err := mb.State(ctx)
	if err != nil {
		return snapshot{}, 0, fmt.Errorf("pop3backend: INBOX state: %w", err)
	}
	snap := snapshot{uidValidity: state.UIDValidity, msgs: make([]entry, 0, len(metas))}
	var uids []uint32
	seen := make(map[uint32]bool)
	for _, m := range metas {
		if slices.Contains(m.Flags, mailstore.FlagDeleted) {
			continue
		}
		uids = append(uids, m.UID)
		if slices.Contains(m.Flags, mailstore.FlagSeen) {
			seen[m.UID] = true
		}
	}
	for len(uids) > 0 {
		n := min(len(uids), infoBatch)
		if err := snap.add(ctx, mb, uids[:n], seen); err != nil {
			return snapshot{}, 0, err
		}
		uids = uids[n:]
	}
	return snap, len(metas), nil
}

// add appends the messages uids (ascending) to the snapshot. UIDs expunged
// since Messages was called are left out.
func (snap *snapshot) add(ctx context.Context, mb mailstore.Mailbox, uids []uint32, seen map[uint32]bool) error {
	infos, err := mb.Info(ctx, uids)
	if err != nil {
		return fmt.Errorf("pop3backend: message info: %w", err)
	}
	var pending []mailstore.CacheEntry
	for i := range infos {
		info := &infos[i]
		p, data, err := structure(ctx, mb, info)
		if err != nil {
			return err
		}
		if p == nil {
			continue // expunged meanwhile
		}
		if data != nil {
			pending = append(pending, mailstore.CacheEntry{UID: info.UID, Data: data})
		}
		snap.msgs = append(snap.msgs, entry{
			uid:       info.UID,
			size:      info.Size + p.BareLFHeader + p.BareLFBody,
			bodyStart: p.BodyStart,
			seen:      seen[info.UID],
		})
	}
	if len(pending) > 0 {
		// One write for the batch; a failure costs a parse next time.
		_ = mb.SetCache(ctx, pending)
	}
	return nil
}

// structure returns the message's MIME structure from the store's cache,
// or parsed from the message; data is the encoding to cache when it was
// parsed. A nil Part with a nil error means the message is gone.
func structure(ctx context.Context, mb mailstore.Mailbox, info *mailstore.MessageInfo) (p *message.Part, data []byte, err error) {
	if info.Cache != nil {
		if p, err := message.UnmarshalPart(info.Cache); err == nil {
			return p, nil, nil
		}
		// An old or damaged encoding: parse again and replace it.
	}
	r, err := mb.OpenMessage(ctx, info.UID)
	if err != nil {
		if readError(err) == errRemoved {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("pop3backend: open UID %d: %w", info.UID, err)
	}
	defer r.Close()
	p, err = message.Parse(r, r.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("pop3backend: parse UID %d: %w", info.UID, err)
	}
	data, err = p.MarshalBinary()
	if err != nil {
		data = nil // not cached; parsed again next time
	}
	return p, data, nil
}
