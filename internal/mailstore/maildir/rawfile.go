package maildir

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// rawFile is a file used through its descriptor alone. os.OpenFile sets
// every file it opens non-blocking for the runtime's poller and back,
// four fcntl calls that a regular file or a directory gains nothing from;
// an APPEND opens three (its file, cur/ for the fsync, the uidlist), and
// the syscalls are most of its cost (issue 7).
type rawFile struct {
	fd   int
	path string
}

// openRaw opens path with flags (O_CLOEXEC is added) and perm.
func openRaw(path string, flags int, perm os.FileMode) (rawFile, error) {
	for {
		fd, err := syscall.Open(path, flags|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return rawFile{fd: -1}, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return rawFile{fd: fd, path: path}, nil
	}
}

// Write writes all of p, as os.File does.
func (f rawFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Write(f.fd, p[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.path, Err: err}
		}
		if m == 0 {
			return n, &os.PathError{Op: "write", Path: f.path, Err: io.ErrShortWrite}
		}
		n += m
	}
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (f rawFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := syscall.Pread(f.fd, p[n:], off+int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Sync is fsync.
func (f rawFile) Sync() error {
	for {
		err := syscall.Fsync(f.fd)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "fsync", Path: f.path, Err: err}
		}
		return nil
	}
}

// Close closes the descriptor (never retried: Linux frees it even when
// close fails).
func (f rawFile) Close() error {
	if err := syscall.Close(f.fd); err != nil && !errors.Is(err, syscall.EINTR) {
		return &os.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}
