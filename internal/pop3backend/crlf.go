package pop3backend

import (
	"bytes"
	"io"
)

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
