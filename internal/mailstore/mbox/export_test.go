package mbox

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Test hooks.

// SetForceHelper makes s take dotlocks through Options.DotlockHelper, as
// when the mailbox directory is not writable.
func SetForceHelper(s *Store, on bool) { s.forceHelper = on }

// SetCrashAfter makes the writer stop once n bytes of a rewrite or
// append have been written and call hook, which must not return (it
// waits to be killed); with a nil hook the process SIGKILLs itself.
func SetCrashAfter(s *Store, n int64, hook func()) { s.crashAfter, s.crashHook = n, hook }

// OpenStore is Open returning the concrete type.
func OpenStore(opts Options) (*Store, error) { return open(opts) }

// SetBeforeRead makes OpenMessage call fn after merging the file and
// before reading the message: another program's turn to write.
func SetBeforeRead(s *Store, fn func()) { s.beforeRead = fn }

// SetAfterApply makes a rewrite call fn with its journal's path once the
// journal is applied to the file, before it is removed.
func SetAfterApply(s *Store, fn func(journal string)) { s.afterApply = fn }

// UWSessionLockPath is the c-client session lock of the mailbox file
// path (sessionlock.go).
func UWSessionLockPath(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	st := fi.Sys().(*syscall.Stat_t)
	return filepath.Join(uwLockDir, fmt.Sprintf(".%x.%x", uint64(st.Dev), st.Ino)), nil
}
