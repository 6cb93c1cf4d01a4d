package fswatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// dirMask is what every watched directory reports: entries created, moved
// in or out, deleted (Maildir deliveries and flag renames, dotlocks, an
// mbox replaced by rename), entries written or closed after writing (an
// mbox appended to, a SQLite -wal file committed to), attribute changes
// (touch, chmod), and the directory itself going away.
const dirMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE |
	unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// readBufSize bounds the memory of the reader: a read returns as many
// whole events as fit, the rest wait in the kernel's queue (16384 events by
// default, then IN_Q_OVERFLOW, which signals everyone).
const readBufSize = 16 << 10

// inotify is one inotify instance with its reader goroutine.
type inotify struct {
	f    *os.File
	fd   int
	done chan struct{} // closed when the reader exits

	mu     sync.Mutex
	closed bool                 // the descriptor is closed (its number may be reused); guarded by mu
	byWD   map[int]*dirWatch    // guarded by mu
	byPath map[string]*dirWatch // guarded by mu
}

// dirWatch is one kernel watch, shared by every target on its directory.
type dirWatch struct {
	wd   int
	path string
	dead bool                    // the kernel dropped it (IN_IGNORED); guarded by inotify.mu
	subs map[*inotifyTarget]bool // guarded by inotify.mu
}

// inotifyTarget is one Target of one Sub, on a dirWatch.
type inotifyTarget struct {
	sub   *Sub
	dw    *dirWatch
	names nameSet
}

func newInotify() (*inotify, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("fswatch: inotify_init1: %w", err)
	}
	// A non-blocking descriptor given to os.NewFile joins the runtime's
	// poller: Read parks the goroutine instead of a thread, and Close
	// wakes it.
	in := &inotify{
		f:      os.NewFile(uintptr(fd), "inotify"),
		fd:     fd,
		done:   make(chan struct{}),
		byWD:   map[int]*dirWatch{},
		byPath: map[string]*dirWatch{},
	}
	go in.read()
	return in, nil
}

// add watches t.Dir for s, adding a kernel watch only for the first user
// of the path.
func (in *inotify) add(s *Sub, t Target) (*inotifyTarget, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	dw := in.byPath[t.Dir]
	if dw == nil || dw.dead {
		wd, err := unix.InotifyAddWatch(in.fd, t.Dir, dirMask)
		if err != nil {
			return nil, fmt.Errorf("fswatch: inotify_add_watch %s: %w", t.Dir, err)
		}
		// Two paths naming one directory (a symbolic link) get one
		// wd from the kernel: share its dirWatch.
		if dw = in.byWD[wd]; dw == nil {
			dw = &dirWatch{wd: wd, path: t.Dir, subs: map[*inotifyTarget]bool{}}
			in.byWD[wd] = dw
		}
		in.byPath[t.Dir] = dw
	}
	it := &inotifyTarget{sub: s, dw: dw, names: newNameSet(t.Names)}
	dw.subs[it] = true
	return it, nil
}

// remove drops a target, and the kernel watch after its last target.
func (in *inotify) remove(it *inotifyTarget) {
	in.mu.Lock()
	defer in.mu.Unlock()
	dw := it.dw
	delete(dw.subs, it)
	if len(dw.subs) > 0 {
		return
	}
	in.forget(dw)
	if !dw.dead && !in.closed {
		unix.InotifyRmWatch(in.fd, uint32(dw.wd))
	}
}

// forget removes dw from the tables. Called with in.mu held.
func (in *inotify) forget(dw *dirWatch) {
	if in.byWD[dw.wd] == dw {
		delete(in.byWD, dw.wd)
	}
	for p, d := range in.byPath {
		if d == dw {
			delete(in.byPath, p)
		}
	}
}

// empty reports whether no target uses the instance.
func (in *inotify) empty() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, dw := range in.byWD {
		if len(dw.subs) > 0 {
			return false
		}
	}
	return true
}

// close closes the descriptor (the kernel drops every watch) and waits
// for the reader to exit.
func (in *inotify) close() error {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	err := in.f.Close()
	<-in.done
	return err
}

// read is the reader goroutine: it dispatches events until the descriptor
// is closed.
func (in *inotify) read() {
	defer close(in.done)
	buf := make([]byte, readBufSize)
	for {
		n, err := in.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			// Nothing else is expected from an inotify read; wake
			// everyone rather than go deaf silently, then stop.
			in.signalAll()
			return
		}
		in.dispatch(buf[:n])
	}
}

// dispatch signals the targets concerned by the events in buf.
func (in *inotify) dispatch(buf []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		// struct inotify_event: wd, mask, cookie, len, then len bytes
		// of NUL-padded name. Decoded by offset rather than by pointer
		// cast, so a short or odd buffer cannot be misread.
		wd := int32(binary.NativeEndian.Uint32(buf[off:]))
		mask := binary.NativeEndian.Uint32(buf[off+4:])
		nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
		nameEnd := off + unix.SizeofInotifyEvent + nameLen
		if nameLen < 0 || nameEnd < off {
			return
		}
		if nameEnd > len(buf) {
			return
		}
		name := cString(buf[off+unix.SizeofInotifyEvent : nameEnd])
		off = nameEnd
		if mask&unix.IN_Q_OVERFLOW != 0 {
			// Events were lost: anyone may have missed one.
			in.signalAllLocked()
			continue
		}
		dw := in.byWD[int(wd)]
		if dw == nil {
			continue // removed meanwhile
		}
		for it := range dw.subs {
			if it.names.match(name) {
				it.sub.signal()
			}
		}
		if mask&unix.IN_IGNORED != 0 {
			// The directory was deleted or its file system
			// unmounted: the kernel dropped the watch. Its targets
			// were signalled; a later Watch of the path adds a new one.
			dw.dead = true
			in.forget(dw)
		}
	}
}

func (in *inotify) signalAll() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.signalAllLocked()
}

func (in *inotify) signalAllLocked() {
	for _, dw := range in.byWD {
		for it := range dw.subs {
			it.sub.signal()
		}
	}
}

// cString returns the NUL-padded name of an event.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
