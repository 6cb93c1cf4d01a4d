package imapserver

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/postern/postern/internal/imap"
)

// COMPRESS=DEFLATE (RFC 4978).
//
// After the tagged OK both directions carry raw DEFLATE (RFC 1951, no
// zlib header), layered under TLS (RFC 4978 §3: compress, then encrypt):
// the compressed octets go through c.nc, which is the *tls.Conn when TLS
// is on.
//
// Memory (DESIGN.md §7 wants under 64 KiB per idle connection): nothing is
// allocated before COMPRESS. The compressor is klauspost/compress's
// stateless DEFLATE (flate.StatelessCompression): it keeps no state
// between writes, so an idle connection holds none of it; its buffers come
// from a pool while a response burst is written. Each write of the
// connection's buffered writer (at most its 4 KiB, or one flush) becomes
// complete blocks ending on a byte boundary (the empty stored block of a
// sync flush), so every response burst, IDLE updates included, reaches
// the client at once. The price is a poorer ratio than a compressor with
// a 32 KiB history, which would cost hundreds of KiB per connection.
//
// The decompressor must keep the client's 32 KiB window (RFC 1951 §2:
// the sender chooses the distance), so a compressed connection costs
// about 45 KiB more: BenchmarkCompressMemory measures it.
//
// Limits: the decoder reads the decompressed stream, so the line and
// literal limits count decompressed octets; a compression bomb fills
// nothing but the window and hits the same limits as plain text.

// codeCompressionActive is RFC 4978 §3's response code.
const codeCompressionActive imap.ResponseCode = "COMPRESSIONACTIVE"

// compressBufferSize is the buffered reader over the decompressor.
const compressBufferSize = 4096

// handleCompress is COMPRESS (RFC 4978 §3), valid after login.
func handleCompress(c *conn, cmd *command) error {
	var mech string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&mech) {
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if !strings.EqualFold(mech, "DEFLATE") {
		return imap.BAD("", "Unknown compression mechanism")
	}
	if c.compressed {
		// RFC 4978 §3 allows BAD too; Dovecot answers this.
		return imap.NO(codeCompressionActive, "DEFLATE is already active")
	}
	c.w.status(cmd.tag, imap.StatusOK, "", "", "DEFLATE active")
	cmd.responded = true
	if err := c.w.Flush(); err != nil {
		return &ioError{err}
	}
	c.startCompress()
	return nil
}

// startCompress layers DEFLATE under the connection's reader and writer,
// once the tagged OK went out uncompressed (RFC 4978 §3: compression
// starts just after its CRLF). Octets the client pipelined after COMPRESS
// are already compressed: the decompressor reads them from the old
// buffered reader first.
func (c *conn) startCompress() {
	zr := flate.NewReaderOpts(c.br, flate.WithPartialBlock())
	c.br = bufio.NewReaderSize(zr, compressBufferSize)
	c.w.enc.Pin().Reset(&deflateWriter{dst: deadlineWriter{c}})
	c.dec = c.newDecoder()
	c.compressed = true
}

// deflateWriter compresses each write into complete, byte-aligned DEFLATE
// blocks (a sync flush) and hands them to dst in one write, so that a TLS
// connection sends one record rather than one per bit-writer chunk.
type deflateWriter struct {
	dst io.Writer
}

// deflateBufs holds the compressed output of one write while it is made.
var deflateBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (d *deflateWriter) Write(p []byte) (int, error) {
	buf := deflateBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // keep the pool from holding a huge literal's buffer
			buf.Reset()
			deflateBufs.Put(buf)
		}
	}()
	buf.Reset()
	if err := flate.StatelessDeflate(buf, p, false, nil); err != nil {
		return 0, err
	}
	if _, err := d.dst.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
