package mbox

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// A rewrite replaces the file from offset S on with a new tail T (see
// doc.go). The journal, written and fsync'd before the file is touched,
// holds T and the facts needed to finish the job:
//
//	magic (8) | inode (8) | S (8) | old size (8) | len(T) (8) | T | sha256(header+T) (32)
//
// A journal whose checksum does not verify was cut short by a crash
// before the file was touched, and is removed. A complete one is replayed:
// T is written at S and the file cut at S+len(T) — the same bytes again
// if the crash came after, so replaying is idempotent. Bytes past
// max(old size, S+len(T)) were added by another program after the crash
// (an MTA that broke our stale dotlock) and are kept after T.

const journalMagic = "PSTJRNL1"

// journalDir is where the journals of an index live.
func journalDir(indexPath string) string { return indexPath + ".journal" }

// journalPath is the journal of a mailbox file.
func (s *Store) journalPath(file string) string {
	h := fnv.New64a()
	h.Write([]byte(file))
	return filepath.Join(journalDir(s.opts.IndexPath), fmt.Sprintf("%016x", h.Sum64()))
}

// journalHeader is the fixed part of a journal.
type journalHeader struct {
	ino, start, oldSize, tailLen uint64
}

func (h journalHeader) bytes() []byte {
	b := make([]byte, 0, 40)
	b = append(b, journalMagic...)
	for _, v := range []uint64{h.ino, h.start, h.oldSize, h.tailLen} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

// writeJournal writes the journal for replacing of's file from start on
// with what tail writes, and makes it durable. It returns the journal's
// path and the tail's length.
func (s *Store) writeJournal(of *openFile, start int64, tail func(w io.Writer) error) (string, int64, error) {
	fi, err := of.f.Stat()
	if err != nil {
		return "", 0, ioErr("stat", err)
	}
	path := s.journalPath(of.path)
	jf, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", 0, ioErr("journal", err)
	}
	defer jf.Close()
	hdr := journalHeader{ino: idOf(fi).ino, start: uint64(start), oldSize: uint64(fi.Size())}
	if _, err := jf.Write(hdr.bytes()); err != nil {
		os.Remove(path)
		return "", 0, ioErr("journal", err)
	}
	bw := bufio.NewWriterSize(jf, 256<<10)
	cw := &countWriter{w: bw, s: s}
	if err := tail(cw); err != nil {
		os.Remove(path)
		return "", 0, err
	}
	if err := bw.Flush(); err != nil {
		os.Remove(path)
		return "", 0, ioErr("journal", err)
	}
	// Now that the length is known: fix the header, then seal with the sum.
	hdr.tailLen = uint64(cw.n)
	if _, err := jf.WriteAt(hdr.bytes(), 0); err != nil {
		os.Remove(path)
		return "", 0, ioErr("journal", err)
	}
	sum, err := journalSum(jf, int64(40)+cw.n)
	if err == nil {
		_, err = jf.WriteAt(sum, int64(40)+cw.n)
	}
	if err == nil {
		err = s.fsync(jf)
	}
	if err == nil {
		err = s.fsyncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return "", 0, ioErr("journal", err)
	}
	return path, cw.n, nil
}

func journalSum(jf *os.File, n int64) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(jf, 0, n)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

type countWriter struct {
	w io.Writer
	n int64
	s *Store
}

func (c *countWriter) Write(p []byte) (int, error) {
	if err := c.s.crashPoint(int64(len(p))); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// applyJournal writes the journal's tail into the file and cuts it.
// It is both the last step of a rewrite and the replay of a crashed one.
// errNoRoom is a rewrite refused for want of disk space before the file
// was touched: its journal is removed, nothing is left to replay.
var errNoRoom = errors.New("no room to grow the file")

func (s *Store) applyJournal(of *openFile, path string) error {
	jf, err := os.Open(path)
	if err != nil {
		return ioErr("journal", err)
	}
	defer jf.Close()
	jfi, err := jf.Stat()
	if err != nil {
		return ioErr("journal", err)
	}
	hb := make([]byte, 40)
	if _, err := io.ReadFull(jf, hb); err != nil || string(hb[:8]) != journalMagic {
		return errBadJournal
	}
	h := journalHeader{
		ino: binary.BigEndian.Uint64(hb[8:]), start: binary.BigEndian.Uint64(hb[16:]),
		oldSize: binary.BigEndian.Uint64(hb[24:]), tailLen: binary.BigEndian.Uint64(hb[32:]),
	}
	if jfi.Size() != 40+int64(h.tailLen)+32 {
		return errBadJournal
	}
	sum, err := journalSum(jf, 40+int64(h.tailLen))
	if err != nil {
		return ioErr("journal", err)
	}
	want := make([]byte, 32)
	if _, err := jf.ReadAt(want, 40+int64(h.tailLen)); err != nil || !bytes.Equal(sum, want) {
		return errBadJournal
	}
	fi, err := of.f.Stat()
	if err != nil {
		return ioErr("stat", err)
	}
	if idOf(fi).ino != h.ino {
		return fmt.Errorf("mbox: journal %s is for another file (inode %d, now %d): %w", path, h.ino, idOf(fi).ino, errBadJournal)
	}
	newEnd := int64(h.start + h.tailLen)
	if applied, err := journalApplied(of.f, jf, h, fi.Size()); err != nil || applied {
		// Already in the file (a crash between the last write and the
		// journal's removal): writing it again would cut off what was
		// appended since.
		return err
	}
	// Bytes another program appended after the crash.
	var extra []byte
	if hi := max(int64(h.oldSize), newEnd); fi.Size() > hi {
		extra = make([]byte, fi.Size()-hi)
		if _, err := of.f.ReadAt(extra, hi); err != nil {
			return ioErr("read", err)
		}
	}
	// A rewrite that grows the file (an append's X-IMAPbase gaining a
	// digit) reserves the room first: on a full disk it then fails with
	// the file untouched (errNoRoom, the journal can go) instead of half
	// written, the head of the new tail over the old one.
	if end := newEnd + int64(len(extra)); end > fi.Size() {
		const keepSize = 1 // FALLOC_FL_KEEP_SIZE: reserve, size unchanged
		err := syscall.Fallocate(int(of.f.Fd()), keepSize, 0, end)
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return fmt.Errorf("%w: %w", errNoRoom, ioErr("rewrite of "+of.path, err))
		}
	}
	buf := make([]byte, 64<<10)
	var done int64
	for done < int64(h.tailLen) {
		n := min(int64(len(buf)), int64(h.tailLen)-done)
		if _, err := jf.ReadAt(buf[:n], 40+done); err != nil {
			return ioErr("journal", err)
		}
		if err := s.crashPoint(n); err != nil {
			return err
		}
		if _, err := of.f.WriteAt(buf[:n], int64(h.start)+done); err != nil {
			return ioErr("rewrite", err)
		}
		done += n
	}
	if len(extra) > 0 {
		if _, err := of.f.WriteAt(extra, newEnd); err != nil {
			return ioErr("rewrite", err)
		}
	}
	if err := of.f.Truncate(newEnd + int64(len(extra))); err != nil {
		return ioErr("rewrite", err)
	}
	if err := s.crashPoint(0); err != nil {
		return err
	}
	return s.fsync(of.f)
}

var errBadJournal = errors.New("mbox: incomplete or foreign journal")

// journalApplied reports whether the file already holds the journal's
// tail at its place (a file of size at least the rewrite's new end whose
// bytes from start on are the tail's).
func journalApplied(f, jf *os.File, h journalHeader, size int64) (bool, error) {
	if h.tailLen == 0 {
		// Only a cut: done when the file ends there (bytes appended
		// since cannot be told from the messages to cut).
		return size == int64(h.start), nil
	}
	if size < int64(h.start+h.tailLen) {
		return false, nil
	}
	a, b := make([]byte, 64<<10), make([]byte, 64<<10)
	for done := int64(0); done < int64(h.tailLen); {
		n := min(int64(len(a)), int64(h.tailLen)-done)
		if _, err := jf.ReadAt(a[:n], 40+done); err != nil {
			return false, ioErr("journal", err)
		}
		if _, err := f.ReadAt(b[:n], int64(h.start)+done); err != nil {
			return false, ioErr("read", err)
		}
		if !bytes.Equal(a[:n], b[:n]) {
			return false, nil
		}
		done += n
	}
	return true, nil
}

// replayJournal finishes a rewrite interrupted by a crash; true when it did.
func (s *Store) replayJournal(of *openFile) (bool, error) {
	path := s.journalPath(of.path)
	if _, err := os.Stat(path); err != nil {
		return false, nil
	}
	err := s.applyJournal(of, path)
	if errors.Is(err, errBadJournal) {
		s.log.Warn("mbox: removing an incomplete journal (the file was not touched)", "file", of.path, "journal", path, "err", err)
		os.Remove(path)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.Warn("mbox: finished a rewrite interrupted by a crash", "file", of.path, "journal", path)
	os.Remove(path)
	return true, nil
}

// crashPoint is the crash test's hook: with Store.crashAfter set, the
// writer stops once that many bytes of rewrites have been written and
// calls crashHook, which tells the parent test process to kill -9 it
// (SIGKILL itself when no hook is set). n is the size of the next write.
func (s *Store) crashPoint(n int64) error {
	if s.crashAfter <= 0 {
		return nil
	}
	s.crashAfter -= max(n, 1)
	if s.crashAfter <= 0 {
		if s.crashHook != nil {
			s.crashHook()
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return nil
}

func (s *Store) fsync(f *os.File) error {
	if s.opts.NoFsync {
		return nil
	}
	return f.Sync()
}

func (s *Store) fsyncDir(dir string) error {
	if s.opts.NoFsync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
