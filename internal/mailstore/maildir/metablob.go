package maildir

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// A mailbox's metadata is also kept in the index as one packed blob (the
// metablob table), so a process's first SELECT of a large mailbox reads a
// blob and the changes since it was written instead of every row
// (DESIGN.md §4: inetd mode runs a process per connection, so every SELECT
// is some process's first). The blob is only a starting point: it carries
// the epoch, UIDVALIDITY and HIGHESTMODSEQ it was made at and is brought up
// to date like the in-memory copy, or ignored.
const (
	// blobMinMessages is the size below which reading the rows is cheap
	// enough: no blob is written.
	blobMinMessages = 2000
	// blobStaleDiv: a blob is rewritten by a process that had to apply
	// more than 1/blobStaleDiv of the mailbox's size in changes to it.
	blobStaleDiv = 16
	// blobVersion is the first byte of a blob; others are ignored.
	blobVersion = 1
)

// encodeBlob packs msgs: per message the UID delta, MODSEQ, system flags,
// size, internal date delta (zig-zag), zone offset (zig-zag) and keywords,
// as varints (keywords as a length and bytes).
func encodeBlob(msgs []cachedMsg) []byte {
	b := make([]byte, 0, 16+12*len(msgs))
	b = append(b, blobVersion)
	b = binary.AppendUvarint(b, uint64(len(msgs)))
	var prevUID uint32
	var prevDate int64
	for i := range msgs {
		m := &msgs[i]
		_, kws := splitFlags(m.flags)
		b = binary.AppendUvarint(b, uint64(m.uid-prevUID))
		b = binary.AppendUvarint(b, m.modSeq)
		b = binary.AppendUvarint(b, uint64(m.sys))
		b = binary.AppendUvarint(b, uint64(m.size))
		b = binary.AppendVarint(b, m.date-prevDate)
		b = binary.AppendVarint(b, int64(m.tzoff))
		b = binary.AppendUvarint(b, uint64(len(kws)))
		b = append(b, kws...)
		prevUID, prevDate = m.uid, m.date
	}
	return b
}

var errBadBlob = errors.New("maildir: index: bad metadata blob")

// decodeBlob is the inverse of encodeBlob; it refuses anything else.
func decodeBlob(b []byte) ([]cachedMsg, error) {
	if len(b) == 0 || b[0] != blobVersion {
		return nil, errBadBlob
	}
	b = b[1:]
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	count := uv()
	if b == nil || count > uint64(len(b)) { // every message takes 7 bytes at least
		return nil, errBadBlob
	}
	out := make([]cachedMsg, 0, count)
	var uid uint64
	var date int64
	for range count {
		d := uv()
		uid += d
		m := cachedMsg{modSeq: uv()}
		sys, size := uv(), uv()
		date += sv()
		tz := sv()
		kl := uv()
		if b == nil || (d == 0 && len(out) > 0) || uid > 1<<32-1 || sys > 31 || size > 1<<62 ||
			tz < -1<<31 || tz > 1<<31-1 || kl > uint64(len(b)) {
			return nil, errBadBlob
		}
		kws := string(b[:kl])
		b = b[kl:]
		if strings.Contains(kws, "  ") || strings.HasPrefix(kws, " ") || strings.HasSuffix(kws, " ") {
			return nil, errBadBlob
		}
		m.uid, m.sys, m.size, m.date, m.tzoff = uint32(uid), int64(sys), int64(size), date, int32(tz)
		m.flags = joinFlags(m.sys, kws)
		out = append(out, m)
	}
	if len(b) != 0 {
		return nil, errBadBlob
	}
	return out, nil
}

// readBlob returns the stored blob of a mailbox and its HIGHESTMODSEQ
// when it belongs to this incarnation of the row (epoch, uidValidity) and
// is not ahead of h; ok is false otherwise.
func readBlob(ctx context.Context, q querier, id, epoch int64, uidValidity uint32, h uint64) (msgs []cachedMsg, modSeq uint64, ok bool, err error) {
	var (
		bEpoch int64
		bUV    uint32
		data   []byte
	)
	err = q.QueryRowContext(ctx, `SELECT epoch, uidvalidity, modseq, data FROM metablob WHERE mailbox_id = ?`, id).
		Scan(&bEpoch, &bUV, &modSeq, &data)
	if isNoRows(err) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("maildir: index: %w", err)
	}
	if bEpoch != epoch || bUV != uidValidity || modSeq > h {
		return nil, 0, false, nil
	}
	if msgs, err = decodeBlob(data); err != nil {
		return nil, 0, false, nil // rebuilt from the rows, and rewritten
	}
	return msgs, modSeq, true, nil
}

// saveBlob stores msgs as the mailbox's state at HIGHESTMODSEQ h, unless
// the row changed incarnation meanwhile. It runs outside the caller's read
// and is only an optimization: failures are logged, not returned.
func (s *Store) saveBlob(ctx context.Context, id, epoch int64, uidValidity uint32, h uint64, msgs []cachedMsg) {
	data := encodeBlob(msgs)
	err := s.writeLazy(ctx, func(w *wtx) error { // an optimization, rebuilt when lost
		var (
			cur  sql.NullInt64
			uv   uint32
			hNow uint64
		)
		err := w.qtx.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'epoch'), uidvalidity, highestmodseq
			FROM mailboxes WHERE id = ?`, id).Scan(&cur, &uv, &hNow)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("maildir: index: %w", err)
		}
		if cur.Int64 != epoch || uv != uidValidity || hNow < h {
			return nil
		}
		return w.exec(`INSERT OR REPLACE INTO metablob(mailbox_id, epoch, uidvalidity, modseq, data) VALUES (?, ?, ?, ?, ?)`,
			id, epoch, uidValidity, h, data)
	})
	if err != nil {
		s.log.Debug("maildir: cannot store metadata blob", "mailbox", id, "err", err)
	}
}
