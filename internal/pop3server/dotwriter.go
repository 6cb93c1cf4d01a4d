package pop3server

import (
	"bufio"
	"bytes"
)

// dotWriter writes a multi-line response body (RFC 1939 §3): each line
// that starts with "." gets another one, a bare LF becomes CRLF, and
// close ends the body with CRLF (if the last line lacks one) and ".".
//
// The status line ("+OK ...") is written only with the first octet, so
// that a session failing before it wrote anything can still be answered
// -ERR.
type dotWriter struct {
	w       *bufio.Writer
	status  string // the status line, without CRLF
	started bool   // status written
	bol     bool   // at the beginning of a line
	cr      bool   // the last octet written was CR
}

func newDotWriter(w *bufio.Writer, status string) *dotWriter {
	return &dotWriter{w: w, status: status, bol: true}
}

func (d *dotWriter) start() error {
	if d.started {
		return nil
	}
	d.started = true
	_, err := d.w.WriteString(d.status + "\r\n")
	return err
}

// Write copies p line by line, stuffing dots and completing line endings.
func (d *dotWriter) Write(p []byte) (int, error) {
	if err := d.start(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if d.bol && p[0] == '.' {
			if err := d.w.WriteByte('.'); err != nil {
				return 0, err
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := d.w.Write(p); err != nil {
				return 0, err
			}
			d.bol, d.cr = false, p[len(p)-1] == '\r'
			break
		}
		// p[:i] is the rest of the line; p[i] is its LF.
		if _, err := d.w.Write(p[:i]); err != nil {
			return 0, err
		}
		if !(i > 0 && p[i-1] == '\r' || i == 0 && d.cr) {
			if err := d.w.WriteByte('\r'); err != nil {
				return 0, err
			}
		}
		if err := d.w.WriteByte('\n'); err != nil {
			return 0, err
		}
		d.bol, d.cr = true, false
		p = p[i+1:]
	}
	return n, nil
}

// close ends the body: CRLF when the last line has none, then ".".
func (d *dotWriter) close() error {
	if err := d.start(); err != nil {
		return err
	}
	if !d.bol {
		if _, err := d.w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	_, err := d.w.WriteString(".\r\n")
	return err
}
