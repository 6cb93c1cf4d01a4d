package message

import (
	"bufio"
	"errors"
	"io"
	"sync"
)

// pos is a position in the message with the number of LFs and bare LFs
// before it, so that line counts of any span are differences of two pos.
type pos struct {
	off, lf, bare int64
}

// headLen is how much of a long line the scanner keeps for inspection: more
// than any boundary delimiter line (RFC 2046 §5.1.1 limits boundaries to 70).
const headLen = 256

// lineScanner reads a message line by line, counting offsets and LFs, with
// no allocation per line.
type lineScanner struct {
	br   *bufio.Reader
	cur  pos // start of the next line
	prev int // terminator length of the previous line: 0, 1 (LF) or 2 (CRLF)
	head [headLen]byte
	err  error // first I/O error
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// line is one line read by lineScanner.
type line struct {
	start pos    // where the line begins
	head  []byte // the line, or its first headLen bytes when it is longer
	term  int    // 0 (end of input), 1 (LF) or 2 (CRLF)
	// prevTerm is the terminator length of the line before this one.
	prevTerm int
	n        int64 // full length, terminator included
}

// next reads one line; ok is false at the end of input or on an error.
func (s *lineScanner) next() (l line, ok bool) {
	l.start = s.cur
	l.prevTerm = s.prev
	var n int64
	var last byte // last byte of the previous chunk, for a CR split from its LF
	for first := true; ; first = false {
		chunk, err := s.br.ReadSlice('\n')
		if first {
			if len(chunk) > 0 && err == nil {
				l.head = chunk
			} else {
				l.head = s.head[:copy(s.head[:], chunk)]
			}
		}
		n += int64(len(chunk))
		if err == nil {
			l.term = 1
			if len(chunk) >= 2 && chunk[len(chunk)-2] == '\r' || len(chunk) == 1 && last == '\r' {
				l.term = 2
			}
			break
		}
		if len(chunk) > 0 {
			last = chunk[len(chunk)-1]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != io.EOF {
			s.err = err
		}
		break
	}
	if n == 0 {
		return l, false
	}
	l.n = n
	s.cur.off += n
	if l.term > 0 {
		s.cur.lf++
		if l.term == 1 {
			s.cur.bare++
		}
	}
	s.prev = l.term
	return l, true
}

// beforeTerm returns the position of the line ending of the line before l,
// which belongs to l when l is a delimiter line (RFC 2046 §5.1.1).
func (l line) beforeTerm() pos {
	p := l.start
	if l.prevTerm > 0 {
		p.off -= int64(l.prevTerm)
		p.lf--
		if l.prevTerm == 1 {
			p.bare--
		}
	}
	return p
}
