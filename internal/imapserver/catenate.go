package imapserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
)

// appendCatenate reads the rest of CATENATE (cat-part *(SP cat-part)),
// after its "(" (RFC 4469 §3, §7), builds the message, and stores it.
// cat-part is TEXT literal, URL astring, or (RFC 6855 §4) UTF8 (literal8). The parts are gathered in a
// temporary file first: a URL part reads a message of the same store,
// which the store may not allow while it is writing a new message, and
// the store wants the whole size up front. more is as for appendOne.
func (c *conn) appendCatenate(cmd *command, cat SessionCatenate, name string, opts *imap.AppendOptions) (data *imap.AppendData, more bool, err error) {
	f, err := os.CreateTemp("", "postern-catenate-")
	if err != nil {
		return nil, false, fmt.Errorf("imapserver: CATENATE spool: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriter(f)
	lw := &limitWriter{w: bw, left: c.srv.opts.MaxAppendSize}
	for n := 0; ; n++ {
		if n > 0 {
			if c.dec.Special(')') {
				break
			}
			if !c.dec.ExpectSP() {
				return nil, false, c.decErr()
			}
		} else if c.dec.Special(')') {
			return nil, false, imap.BAD("", "Empty CATENATE list")
		}
		if err := c.catPart(cat, lw); err != nil {
			return nil, false, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, false, fmt.Errorf("imapserver: CATENATE spool: %w", err)
	}
	if b, _ := c.dec.PeekByte(); b == ' ' {
		more = true
	} else if !c.dec.ExpectCRLF() {
		return nil, false, c.decErr()
	} else {
		cmd.lineDone = true
	}
	size := c.srv.opts.MaxAppendSize - lw.left
	if size == 0 {
		// RFC 3502 §6.3.11 (as for an empty literal): nothing to store.
		return nil, more, imap.NO("", "APPEND cancelled")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false, fmt.Errorf("imapserver: CATENATE spool: %w", err)
	}
	data, err = c.session.Append(c.ctx, name, bufio.NewReader(f), size, opts)
	if err != nil {
		return nil, more, errorf(cmd, err)
	}
	return data, more, nil
}

// catPart reads one cat-part and adds its octets to w.
func (c *conn) catPart(cat SessionCatenate, w *limitWriter) error {
	var kind string
	if !c.dec.ExpectAtom(&kind) || !c.dec.ExpectSP() {
		return c.decErr()
	}
	switch strings.ToUpper(kind) {
	case "TEXT":
		return c.catText(w)
	case "UTF8":
		// RFC 6855 §4: cat-part =/ "UTF8" SP "(" literal8 ")", the
		// text of a message with UTF-8 headers, as in APPEND.
		if !c.enabled(ExtUTF8Accept) {
			return imap.BAD("", "UTF8 CATENATE part needs ENABLE UTF8=ACCEPT")
		}
		if !c.dec.ExpectSpecial('(') {
			return c.decErr()
		}
		if err := c.catText(w); err != nil {
			return err
		}
		if !c.dec.ExpectSpecial(')') {
			return c.decErr()
		}
		return nil
	case "URL":
		var url string
		if !c.dec.ExpectAString(&url) {
			return c.decErr()
		}
		badURL := &imap.Error{Type: imap.StatusNO, Code: imap.CodeBadURL, CodeArg: urlCodeArg(url), Text: "Invalid URL"}
		u, user, err := imapwire.ParseMessageURL(url)
		if err != nil {
			return badURL
		}
		if err := cat.CatenateURL(c.ctx, u, user, w); err != nil {
			if errors.Is(err, errTooBig) {
				return &imap.Error{Type: imap.StatusNO, Code: imap.CodeTooBig, Text: "Message too big"}
			}
			if ie, ok := imap.AsError(err); ok && ie.Code == imap.CodeBadURL {
				badURL.Text = ie.Text
				return badURL
			}
			return err
		}
		return nil
	}
	return imap.BAD("", "Unknown CATENATE part")
}

// catText reads the literal of a TEXT or UTF8 cat-part and adds its
// octets to w. A literal8 is allowed: with BINARY, a part may carry NUL
// (RFC 3516 §4.4), and UTF8 data is a literal8 (RFC 6855 §4).
func (c *conn) catText(w *limitWriter) error {
	r, _, ok := c.dec.ExpectLiteralReader(w.left, true)
	if !ok {
		err := c.decErr()
		if le, ok := asLimit(err); ok && !le.Fatal {
			return &imap.Error{Type: imap.StatusNO, Code: imap.CodeTooBig, Text: "Message too big"}
		}
		return err
	}
	if _, err := io.Copy(w, literalReader{c: c, r: r}); err != nil {
		var se *imapwire.SyntaxError
		if errors.As(err, &se) {
			return se
		}
		return &ioError{err}
	}
	return nil
}

// urlCodeArg is the URL as the argument of BADURL: resp-text-code
// arguments cannot hold "]" or line ends, so such a URL is left out.
func urlCodeArg(url string) string {
	if url == "" || strings.ContainsAny(url, "]\r\n") {
		return ""
	}
	return url
}

var errTooBig = errors.New("imapserver: CATENATE message over the APPEND size limit")

// limitWriter passes at most left octets on, then fails with errTooBig.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errTooBig
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	return n, err
}
