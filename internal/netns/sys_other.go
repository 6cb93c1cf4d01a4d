//go:build !linux

package netns

import (
	"errors"
	"runtime"
)

var errNotLinux = errors.New("netns: network namespaces need Linux, not " + runtime.GOOS)

func bindMount(src, target string) error { return errNotLinux }

func loopbackUp() error { return errNotLinux }
