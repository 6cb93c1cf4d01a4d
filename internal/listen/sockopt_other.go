//go:build !unix

package listen

import "errors"

// setV6Only cannot set IPV6_V6ONLY here; Listen then falls back to
// separate sockets.
func setV6Only(fd uintptr, on bool) error {
	return errors.New("listen: IPV6_V6ONLY not supported on this platform")
}
