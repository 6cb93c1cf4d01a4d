//go:build !linux

package fswatch

import "errors"

// inotify is absent on this system: every target is polled.
type inotify struct{}

type inotifyTarget struct{}

func newInotify() (*inotify, error) { return nil, errors.New("fswatch: no inotify on this system") }

func (*inotify) add(*Sub, Target) (*inotifyTarget, error) {
	return nil, errors.New("fswatch: no inotify on this system")
}
func (*inotify) remove(*inotifyTarget) {}
func (*inotify) empty() bool           { return true }
func (*inotify) close() error          { return nil }
