//go:build !linux

package fswatch

import "syscall"

// ctimeOf is zero where Stat_t's layout differs: size, mtime and inode
// still catch the changes that matter.
func ctimeOf(*syscall.Stat_t) int64 { return 0 }
