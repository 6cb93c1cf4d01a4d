package imapserver

import (
	"bufio"
	"errors"
	"sync"
	"syscall"
)

// Read buffers are lent out too (as write buffers are, writeBuffers): a
// plain socket connection that waits for a command, or for DONE in IDLE,
// with nothing buffered gives its read buffer back, waits until the
// socket has data, and takes one again. Thousands of connections sit in
// IDLE; the buffer was 4 KiB of each one's memory (issue 7: memory per
// IDLE connection). TLS and COMPRESS connections keep theirs: their
// streams buffer beneath it anyway.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// readBufferSize is the size of a connection's read buffer.
const readBufferSize = 4096

// waitInput waits until the client has sent something (or the read
// deadline passed, or the connection failed: the next read then reports
// it), without holding a read buffer meanwhile when the connection can
// do without one. The caller then reads through c.br as before.
func (c *conn) waitInput() {
	sc, ok := c.nc.(syscall.Conn) // a socket: TCP, or the daemon's wrapper of one
	if !ok || c.info.TLS || c.compressed || c.br.Buffered() > 0 {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.parkRead()
	defer c.unparkRead()
	// RawConn.Read calls the function until it returns true, waiting for
	// readability in between (and honouring the read deadline). MSG_PEEK
	// leaves the data for the read that follows; EAGAIN, seen after the
	// poller's readiness was reset, means the next arrival wakes us.
	var b [1]byte
	rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return false
			}
			return true // data, end of stream, or an error the read will report
		}
	})
}

// parkRead gives the read buffer back to readBuffers; c.br is nil until
// unparkRead.
func (c *conn) parkRead() {
	c.parks++
	c.br.Reset(nil) // no reference to this connection from the pool
	readBuffers.Put(c.br)
	c.br = nil
	c.dec.SetReader(nil)
}

// unparkRead takes a read buffer for the connection again.
func (c *conn) unparkRead() {
	br := readBuffers.Get().(*bufio.Reader)
	br.Reset(c.nc)
	c.br = br
	c.dec.SetReader(br)
}
