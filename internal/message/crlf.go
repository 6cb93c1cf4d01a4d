package message

import (
	"bytes"
	"errors"
	"io"
)

// CRLFWriter writes what it is given with every bare LF turned into CRLF:
// IMAP and POP3 send messages with CRLF line ends whatever the store holds
// (RFC 3501 §2.2, RFC 1939 §3), and the sizes they announce are counted
// from Part's BareLF fields, which this conversion matches octet for octet.
// A CR at the end of one Write followed by an LF at the start of the next
// is a CRLF, not a bare LF.
//
// Skip drops the first Skip octets of the converted output, and Limit, when
// not negative, stops after Limit octets with ErrCRLFLimit: together they
// serve a partial range (IMAP's BODY[]<off.n>) of the converted form.
type CRLFWriter struct {
	W           io.Writer
	Skip, Limit int64 // Limit < 0: no limit
	N           int64 // octets written to W so far

	prevCR bool
}

// ErrCRLFLimit is what a CRLFWriter returns once Limit octets are written;
// a copy into it stops there, as intended.
var ErrCRLFLimit = errors.New("message: CRLF writer limit reached")

// NewCRLFWriter returns a CRLFWriter writing to w with no skip and no limit.
func NewCRLFWriter(w io.Writer) *CRLFWriter { return &CRLFWriter{W: w, Limit: -1} }

var crlf = []byte("\r\n")

// Write implements io.Writer.
func (c *CRLFWriter) Write(p []byte) (int, error) {
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

// emit writes b after the skip and within the limit.
func (c *CRLFWriter) emit(b []byte) error {
	if c.Skip > 0 {
		if int64(len(b)) <= c.Skip {
			c.Skip -= int64(len(b))
			return nil
		}
		b = b[c.Skip:]
		c.Skip = 0
	}
	if len(b) == 0 {
		return nil
	}
	if c.Limit >= 0 && int64(len(b)) >= c.Limit {
		m, err := c.W.Write(b[:c.Limit])
		c.N += int64(m)
		c.Limit = 0
		if err != nil {
			return err
		}
		return ErrCRLFLimit
	}
	if c.Limit > 0 {
		c.Limit -= int64(len(b))
	}
	m, err := c.W.Write(b)
	c.N += int64(m)
	return err
}

// ToCRLF returns b with every bare LF turned into CRLF (b itself when it
// has none).
func ToCRLF(b []byte) []byte {
	n := bytes.Count(b, []byte{'\n'}) - bytes.Count(b, crlf)
	if n == 0 {
		return b
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + n)
	NewCRLFWriter(&buf).Write(b)
	return buf.Bytes()
}
