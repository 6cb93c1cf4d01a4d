//go:build !linux

package daemon

// DetachStderr is a no-op where it is not implemented: the Go runtime
// writes to fd 2 only on fatal errors.
func DetachStderr() error { return nil }

// StderrIsSocket reports false where it is not implemented.
func StderrIsSocket() bool { return false }
