package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"github.com/postern/postern/internal/mailstore"
)

// rawMsg is one message as framed in the file. Offsets are absolute:
//
//	from    the "From " line
//	data    the first header line (the message the client sees starts here)
//	hdrEnd  the end of the header fields (the blank line, or where they stop)
//	end     the end of the message: before the blank separator line
//	next    the next "From " line, or the end of the file
//
// The client sees the header [data, hdrEnd) without UW's hidden fields,
// then [hdrEnd, end).
type rawMsg struct {
	from, data, hdrEnd, end, next int64
	date                          time.Time
	hdr                           uwHeader
	fp                            uint64 // fingerprint: From line and visible header
}

// size is the message's size as the client sees it.
func (m *rawMsg) size() int64 { return int64(len(m.hdr.visible)) + m.end - m.hdrEnd }

// errNotMbox is returned for data that does not start with a "From " line.
var errNotMbox = fmt.Errorf("mbox: not an mbox file (no \"From \" line at the start), so not a mailbox: %w", mailstore.ErrNotExist)

// maxHeader bounds the header kept in memory per message; past it, the
// rest of an (absurd) header is taken as body.
const maxHeader = 1 << 20

// scanMbox frames the messages of r, whose first byte is at offset start.
// Blank lines before the first "From " line are skipped; anything else
// there is errNotMbox. The first message is UW's pseudo message when
// start is 0 and its header has X-IMAP (the caller decides).
func scanMbox(r io.Reader, start int64, loc *time.Location) ([]rawMsg, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		msgs     []rawMsg
		cur      *rawMsg
		hdr      []byte
		inHdr    bool
		off      = start
		lineBuf  []byte
		last2    [2]byte // the current message's last two bytes
		fromHash uint64
	)
	endHeader := func(at int64) {
		inHdr = false
		cur.hdrEnd = at
		cur.hdr = scanHeader(hdr)
		h := fnv.New64a()
		var b [8]byte
		for i := range b {
			b[i] = byte(fromHash >> (8 * i))
		}
		h.Write(b[:])
		h.Write(cur.hdr.visible)
		cur.fp = h.Sum64()
	}
	finish := func(next int64) {
		if cur == nil {
			return
		}
		if inHdr {
			endHeader(next)
		}
		cur.next, cur.end = next, next
		if next-1 >= cur.hdrEnd && last2 == [2]byte{'\n', '\n'} {
			cur.end = next - 1
		}
		msgs = append(msgs, *cur)
		cur = nil
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			lineBuf = append(lineBuf[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				lineBuf = append(lineBuf, line...)
			}
			line = lineBuf
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("mbox: read: %w", err)
		}
		if len(line) == 0 {
			break
		}
		lineStart := off
		off += int64(len(line))
		if t, ok := parseFromLine(bytes.TrimRight(line, "\n"), loc); ok {
			finish(lineStart)
			h := fnv.New64a()
			h.Write(line)
			fromHash = h.Sum64()
			cur = &rawMsg{from: lineStart, data: off, date: t}
			hdr, inHdr, last2 = hdr[:0], true, [2]byte{}
			continue
		}
		if cur == nil {
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				continue
			}
			return nil, errNotMbox
		}
		if n := len(line); n >= 2 {
			last2 = [2]byte{line[n-2], line[n-1]}
		} else {
			last2 = [2]byte{last2[1], line[0]}
		}
		if inHdr {
			if isBlank(line) || len(hdr)+len(line) > maxHeader {
				endHeader(lineStart)
				continue
			}
			hdr = append(hdr, line...)
		}
		if err != nil {
			break
		}
	}
	finish(off)
	return msgs, nil
}

func isBlank(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}
