package pop3backend

import (
	"bytes"
	"io"
)

// crlfWriter writes what it is given with every bare LF turned into CRLF
// (RFC 1939 §3: lines end in CRLF whatever the store holds), so that the
// octets sent equal the sizes counted from message.Part's BareLF fields.
// A CR at the end of one Write followed by an LF at the start of the next
// is a CRLF, not a bare LF.
//
// It is a copy of imapbackend's, without the partial-range logic IMAP
// needs: the two adapters may not import each other, and package message
// belongs to another helper.
type crlfWriter struct {
	w      io.Writer
	prevCR bool
	n      int64 // octets written to w
}

var crlf = []byte("\r\n")

func (c *crlfWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.prevCR = p[len(p)-1] == '\r'
			return n, c.emit(p)
		}
		bare := i == 0 && !c.prevCR || i > 0 && p[i-1] != '\r'
		var err error
		if bare {
			if err = c.emit(p[:i]); err == nil {
				err = c.emit(crlf)
			}
		} else {
			err = c.emit(p[:i+1])
		}
		if err != nil {
			return n, err
		}
		c.prevCR = false
		p = p[i+1:]
	}
	return n, nil
}

func (c *crlfWriter) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	m, err := c.w.Write(b)
	c.n += int64(m)
	return err
}

// copyLines copies from r to w up to and including the lines-th LF, or to
// the end of r when it holds fewer lines (RFC 1939 §7 TOP: the first lines
// of the body).
func copyLines(w io.Writer, r io.Reader, lines int) error {
	if lines <= 0 {
		return nil
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			if lines--; lines == 0 {
				_, werr := w.Write(chunk[:i+1])
				return werr
			}
			if _, werr := w.Write(chunk[:i+1]); werr != nil {
				return werr
			}
			chunk = chunk[i+1:]
		}
		if len(chunk) > 0 {
			if _, werr := w.Write(chunk); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
